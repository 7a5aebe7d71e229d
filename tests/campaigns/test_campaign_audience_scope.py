"""Issue 16: a campaign's audience takes only the account's own groups and segments (another account's are a 422
naming the field, through the API and the wizard), and concurrent schedule calls are refused naming the state the
winner left (the state is checked on the locked row)."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from campaigns.api.campaigns import CampaignViewSet
from campaigns.models import Campaign
from campaigns.states import CampaignState
from contacts.models import Contact, Group, Segment
from tests.campaigns.sending_support import approved_sender, approved_template, campaign_for, prices


@pytest.fixture(autouse=True)
def _setup(settings, account):
    settings.SMS_SIMULATOR_DLR_DELAY_SECONDS = 0
    settings.SMS_INDIA_PROMOTIONAL_HOLD = False
    prices(IN="0.01")
    account.balance = Decimal("5")
    account.save()


@pytest.fixture
def sender(account):
    return approved_sender(account)


@pytest.fixture
def foreign(other_account):
    """Another account's group and segment."""
    return (
        Group.objects.create(account=other_account, name="Their VIPs"),
        Segment.objects.create(account=other_account, name="Their segment"),
    )


def payload(**audience):
    return {"name": "Diwali", "sender": "ACMERT", "text": "Acme sale today", "audience": audience}


@pytest.mark.django_db
def test_another_accounts_group_and_segment_are_422_naming_each_field(api, sender, foreign):
    group, segment = foreign
    client = api("marketer")
    response = client.post(
        "/api/v2/campaigns", payload(groups=[str(group.uid)], segments=[str(segment.uid)]), format="json"
    )
    assert response.status_code == 422, response.json()
    assert response.json()["errors"] == {
        "audience.groups": [f"Unknown group: {group.uid}."],
        "audience.segments": [f"Unknown segment: {segment.uid}."],
    }
    only_segment = client.post("/api/v2/campaigns", payload(segments=[str(segment.uid)]), format="json")
    assert only_segment.status_code == 422
    assert list(only_segment.json()["errors"]) == ["audience.segments"]
    assert not Campaign.objects.exists()


@pytest.mark.django_db
def test_own_group_and_segment_are_accepted_and_resolve(api, account, sender):
    approved_template(account, sender, "Acme sale today")
    group = Group.objects.create(account=account, name="VIPs")
    segment = Segment.objects.create(account=account, name="Everyone")
    contact = Contact.objects.create(account=account, phone="+919876543210")
    contact.groups.add(group)
    client = api("marketer")
    created = client.post(
        "/api/v2/campaigns", payload(groups=[str(group.uid)], segments=[str(segment.uid)]), format="json"
    )
    assert created.status_code == 201, created.json()
    campaign_id = created.json()["data"]["id"]
    assert client.get(f"/api/v2/campaigns/{campaign_id}/quote").json()["data"]["recipients"] == 1


@pytest.mark.django_db
def test_update_with_another_accounts_ids_is_422_and_changes_nothing(api, account, sender, foreign):
    group, segment = foreign
    own = Group.objects.create(account=account, name="VIPs")
    client = api("marketer")
    campaign_id = client.post("/api/v2/campaigns", payload(groups=[str(own.uid)]), format="json").json()["data"]["id"]
    for audience, field in (
        ({"groups": [str(group.uid)]}, "audience.groups"),
        ({"segments": [str(segment.uid)]}, "audience.segments"),
    ):
        response = client.patch(f"/api/v2/campaigns/{campaign_id}", {"audience": audience}, format="json")
        assert response.status_code == 422, response.json()
        assert list(response.json()["errors"]) == [field]
    replaced = client.put(f"/api/v2/campaigns/{campaign_id}", payload(groups=[str(group.uid)]), format="json")
    assert replaced.status_code == 422
    assert Campaign.objects.get().audience["groups"] == [str(own.uid)]
    renamed = client.patch(f"/api/v2/campaigns/{campaign_id}", {"name": "Kept audience"}, format="json")
    assert renamed.status_code == 200


@pytest.mark.django_db
def test_the_wizard_refuses_another_accounts_group_and_segment(client_for, marketer, account, sender, foreign):
    group, segment = foreign
    data = {
        "name": "Weekend",
        "groups": [str(group.uid)],
        "segments": [str(segment.uid)],
        "sender": str(sender.uid),
        "text": "Acme sale today",
        "message_type": "A",
        "when": "now",
        "intent": "send",
    }
    response = client_for(marketer).post("/campaigns/new/", data)
    assert response.status_code == 422
    html = response.content.decode()
    assert f"{group.uid} is not one of the available choices" in html
    assert f"{segment.uid} is not one of the available choices" in html
    assert not Campaign.objects.exists()


# --- concurrent schedule calls ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_schedule_overtaken_between_read_and_lock_names_the_real_state(api, account, sender, monkeypatch):
    """The request read a draft; another one scheduled it before this one took the lock."""
    campaign = campaign_for(account, sender, text="Acme sale today", numbers=["9876543210"])
    original = CampaignViewSet.get_object

    def read_then_overtaken(view):
        found = original(view)
        Campaign.objects.filter(pk=found.pk).update(state=CampaignState.SCHEDULED)
        return found

    monkeypatch.setattr(CampaignViewSet, "get_object", read_then_overtaken)
    response = api("marketer").post(f"/api/v2/campaigns/{campaign.uid}/schedule", {"time": "now"}, format="json")
    assert response.status_code == 409, response.json()
    assert response.json()["message"] == "Only a draft can be scheduled; this campaign is scheduled."


@pytest.mark.django_db
def test_pause_overtaken_between_read_and_lock_names_the_real_state(api, account, sender, monkeypatch):
    campaign = campaign_for(account, sender, text="Acme sale today", numbers=["9876543210"])
    Campaign.objects.filter(pk=campaign.pk).update(state=CampaignState.RUNNING)
    original = CampaignViewSet.get_object

    def read_then_overtaken(view):
        found = original(view)
        Campaign.objects.filter(pk=found.pk).update(state=CampaignState.CANCELLED)
        return found

    monkeypatch.setattr(CampaignViewSet, "get_object", read_then_overtaken)
    response = api("marketer").post(f"/api/v2/campaigns/{campaign.uid}/pause")
    assert response.status_code == 409
    assert response.json()["message"] == "A cancelled campaign cannot become paused."


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_schedule_calls_one_wins_the_other_names_scheduled(api, account, sender):
    """Real threads on PostgreSQL: each round, two requests schedule the same draft at once."""
    template = approved_template(account, sender, "Acme sale today")
    clients = [api("marketer"), api("admin")]
    for round_number in range(5):
        campaign = campaign_for(account, sender, template, numbers=["9876543210"], name=f"Round {round_number}")
        barrier, answers = threading.Barrier(2), []
        tomorrow = (timezone.now() + timedelta(days=1)).isoformat()

        def schedule(client, campaign=campaign, barrier=barrier, answers=answers, tomorrow=tomorrow):
            try:
                barrier.wait()
                url = f"/api/v2/campaigns/{campaign.uid}/schedule"
                response = client.post(url, {"time": tomorrow}, format="json")
                answers.append((response.status_code, response.json()["message"]))
            finally:
                connection.close()

        threads = [threading.Thread(target=schedule, args=(client,)) for client in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert sorted(code for code, _ in answers) == [200, 409], answers
        refusal = next(message for code, message in answers if code == 409)
        assert refusal == "Only a draft can be scheduled; this campaign is scheduled."
        assert Campaign.objects.get(pk=campaign.pk).state == CampaignState.SCHEDULED
