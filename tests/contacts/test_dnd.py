"""The DND/NCPR preference list (opt-outs of type `dnd`): imported like unsubscribers, scrubbed from promotional
traffic only (a P template, an MKT send), at preparation and again at release, counted as its own reason."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from campaigns.models import Message
from campaigns.sending.lifecycle import schedule_campaign, start_campaign
from campaigns.sending.planning import quote_campaign
from contacts.models.unsubscribers import Unsubscriber
from contacts.services_unsubscribers import add_unsubscriber
from tests.campaigns.sending_support import approved_sender, approved_template, campaign_for, prices, run_sweeps

pytestmark = pytest.mark.django_db

ON_DND, FREE = "+919876543210", "+919876543211"
URL = "/api/v2/sms/unsubscribers"


@pytest.fixture(autouse=True)
def _setup(settings, account):
    settings.SMS_INDIA_PROMOTIONAL_HOLD = False
    settings.SMS_SIMULATOR_DLR_DELAY_SECONDS = 0
    prices(service="MKT", IN="0.01")
    prices(service="ENT", IN="0.01")
    account.balance = Decimal("10")
    account.save()


@pytest.fixture
def senders(account):
    return approved_sender(account, "567890", service="MKT"), approved_sender(account, "ACMEBK", service="ENT")


def test_a_dnd_entry_has_no_value_and_comes_over_the_api_and_imports(api, account):
    client = api()
    created = client.post(URL, {"receiver": "9876543210", "type": "dnd", "value": "ignored"}, format="json")
    assert created.status_code == 201, created.json()
    assert Unsubscriber.objects.values_list("receiver", "type", "value").get() == (ON_DND, "dnd", "")
    upload = SimpleUploadedFile("ncpr.csv", b"mobile,type\n9876543212,dnd\n9876543213,dnd\n", "text/csv")
    imported = client.post(f"{URL}/import", {"file": upload, "type": "dnd"}, format="multipart")
    assert imported.json()["data"]["created"] == 2, imported.content
    assert Unsubscriber.objects.filter(type="dnd").count() == 3


def test_a_promotional_campaign_skips_dnd_numbers_and_counts_them_a_transactional_one_does_not(account, senders):
    promo_sender, service_sender = senders
    add_unsubscriber(account, None, receiver=ON_DND, type="dnd")
    offer = approved_template(account, promo_sender, "Sale today. To opt-out, send STOP to 567890", "P", "Sale")
    notice = approved_template(account, service_sender, "Your Acme statement is ready", "SI", "Statement")
    promo = campaign_for(account, promo_sender, offer, numbers=[ON_DND, FREE])
    assert quote_campaign(promo).suppressed == {"dnd": 1}
    service = campaign_for(account, service_sender, notice, numbers=[ON_DND, FREE], name="Statements")
    assert quote_campaign(service).suppressed == {}
    for campaign in (promo, service):
        schedule_campaign(campaign, send_now=True)
        start_campaign(campaign.pk)
    run_sweeps(2)
    assert sorted(Message.objects.filter(campaign=promo).values_list("recipient", flat=True)) == [FREE]
    assert Message.objects.filter(campaign=service, state="delivered").count() == 2


def test_api_sends_scrub_dnd_for_mkt_only(api, account, senders):
    add_unsubscriber(account, None, receiver=ON_DND, type="dnd")
    client = api()
    mkt = client.post("/api/v2/sms/send", {"sender": "567890", "to": ON_DND, "message": "Sale"}, format="json")
    assert mkt.json()["data"]["rejected"][0]["reason"] == "suppressed"
    assert "dnd" in mkt.json()["data"]["rejected"][0]["message"]


def test_a_number_added_to_dnd_after_preparation_is_dropped_at_release(account, senders, settings):
    promo_sender, _ = senders
    offer = approved_template(account, promo_sender, "Sale today. To opt-out, send STOP to 567890", "P", "Sale")
    campaign = campaign_for(account, promo_sender, offer, numbers=[ON_DND, FREE])
    schedule_campaign(campaign, send_now=True)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    start_campaign(campaign.pk)
    add_unsubscriber(account, None, receiver=ON_DND, type="dnd")
    run_sweeps(2)
    dropped = Message.objects.get(campaign=campaign, recipient=ON_DND)
    assert (dropped.state, dropped.error_detail) == ("rejected", "Opted out (dnd)")
