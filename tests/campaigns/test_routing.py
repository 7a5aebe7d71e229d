"""The route rule: the most specific route wins, pinned accounts use their set first, each message of a send gets
its own connector, campaigns that name a connector keep it, and failover moves to the next connector."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from campaigns.models import Connector, Message, Route, RouteSet, RouteSetMember, RouteStep, SmppBind
from campaigns.routing import Router, fail_over, next_connector, reroute_stranded, set_catch_all
from campaigns.sending.lifecycle import schedule_campaign, start_campaign
from campaigns.states import MessageState
from tests.campaigns.sending_support import approved_sender, campaign_for, prices, run_sweeps

pytestmark = pytest.mark.django_db


def connector(name: str, kind: str = "simulator", **fields) -> Connector:
    return Connector.objects.create(name=name, kind=kind, **fields)


def route(*connectors, route_set=None, **match) -> Route:
    made = Route.objects.create(route_set=route_set, **match)
    for position, item in enumerate(connectors):
        RouteStep.objects.create(route=made, connector=item, position=position)
    return made


@pytest.fixture
def carriers():
    return {name: connector(name) for name in ("any", "india", "india-mkt", "mumbai", "premium")}


def test_the_most_specific_route_wins(account, carriers):
    route(carriers["any"])
    route(carriers["india"], country="IN")
    route(carriers["india-mkt"], country="IN", service="MKT")
    route(carriers["mumbai"], country="IN", prefix="9198")
    router = Router(account.pk, "MKT")
    assert router.connector_for("+919176543210", "IN") == carriers["india-mkt"].pk
    assert router.connector_for("+919812345678", "IN") == carriers["mumbai"].pk
    assert router.connector_for("+447400123456", "GB") == carriers["any"].pk
    assert Router(account.pk, "ENT").connector_for("+919176543210", "IN") == carriers["india"].pk


def test_a_pinned_account_uses_its_route_set_first_and_inactive_entries_are_skipped(account, other_account, carriers):
    premium = RouteSet.objects.create(name="premium")
    RouteSetMember.objects.create(account=account, route_set=premium)
    route(carriers["india"], country="IN")
    route(carriers["premium"], route_set=premium, country="GB")
    route(carriers["any"])
    assert Router(account.pk, "ENT").connector_for("+447400123456", "GB") == carriers["premium"].pk
    assert Router(other_account.pk, "ENT").connector_for("+447400123456", "GB") == carriers["any"].pk
    assert Router(account.pk, "ENT").connector_for("+919876543210", "IN") == carriers["india"].pk
    carriers["india"].is_active = False
    carriers["india"].save()
    assert Router(account.pk, "ENT").connector_for("+919876543210", "IN") == carriers["any"].pk
    Route.objects.filter(country="GB").update(is_active=False)
    assert Router(account.pk, "ENT").connector_for("+447400123456", "GB") == carriers["any"].pk


def test_no_route_means_the_simulator(account):
    assert Router(account.pk, "ENT").connector_for("+919876543210", "IN") is None


def test_each_message_of_an_api_send_takes_its_own_route(api, account, carriers):
    prices("ENT", IN="0.01", GB="0.04")
    account.balance = Decimal("5")
    account.save()
    approved_sender(account, name="ACMEUK", country="GB", service="ENT")
    route(carriers["india"], country="IN")
    set_catch_all(carriers["any"])
    body = {"sender": "ACMEUK", "to": ["+919876543210", "+447400123456"], "message": "Your Acme code is 4711"}
    assert api().post("/api/v2/sms/send", body, format="json").status_code == 201
    assert dict(Message.objects.values_list("recipient", "connector__name")) == {
        "+919876543210": "india",
        "+447400123456": "any",
    }


def test_a_campaign_routes_per_recipient_unless_it_names_a_connector(settings, account, admin_user, carriers):
    settings.SMS_INDIA_PROMOTIONAL_HOLD = False
    prices(IN="0.01", GB="0.04")
    account.balance = Decimal("5")
    account.save()
    sender = approved_sender(account, name="ACMEUK", country="GB")
    route(carriers["india"], country="IN")
    set_catch_all(carriers["any"])
    routed = campaign_for(account, sender, text="Hello from Acme", numbers=["+919876543210", "+447400123456"])
    pinned = campaign_for(
        account, sender, text="Hello from Acme", numbers=["+919876543211"], name="Pinned", connector=carriers["premium"]
    )
    for campaign in (routed, pinned):
        schedule_campaign(campaign, actor=admin_user)
    run_sweeps(2)
    found = dict(Message.objects.values_list("recipient", "connector__name"))
    assert found == {"+919876543210": "india", "+447400123456": "any", "+919876543211": "premium"}


def test_failover_moves_queued_messages_to_the_next_connector_of_their_route(api, account, carriers):
    prices("ENT", GB="0.04")
    account.balance = Decimal("5")
    account.save()
    approved_sender(account, name="ACMEUK", country="GB", service="ENT")
    route(carriers["india"], carriers["any"], country="GB")
    later = (timezone.now() + timedelta(hours=1)).isoformat()  # still queued while we look
    body = {"sender": "ACMEUK", "to": ["+447400123456"], "message": "Your Acme code is 4711", "time": later}
    assert api().post("/api/v2/sms/send", body, format="json").status_code == 201
    message = Message.objects.get()
    assert message.connector == carriers["india"]
    assert next_connector(message) == carriers["any"]
    assert fail_over([message]) == 1
    message.refresh_from_db()
    assert message.connector == carriers["any"] and next_connector(message) is None
    assert fail_over([message]) == 0


def test_fail_over_moves_a_batch_in_a_few_queries_and_leaves_pinned_campaigns(
    api, account, admin_user, carriers, django_assert_max_num_queries
):
    prices("ENT", GB="0.04")
    prices("MKT", GB="0.04")
    account.balance = Decimal("5")
    account.save()
    approved_sender(account, name="ACMEUK", country="GB", service="ENT")
    marketing = approved_sender(account, name="ACMEMK", country="GB", service="MKT")
    route(carriers["india"], carriers["any"], country="GB")
    route(carriers["india"], carriers["mumbai"], country="GB", service="MKT")
    numbers = [f"+4474001234{n:02d}" for n in range(10)]
    body = {"sender": "ACMEUK", "to": numbers, "message": "Your Acme code is 4711"}
    assert api().post("/api/v2/sms/send", body, format="json").status_code == 201
    text = "Hello from Acme"
    pinned = campaign_for(account, marketing, text=text, numbers=["+447400999001"], connector=carriers["india"])
    routed = campaign_for(account, marketing, text=text, numbers=["+447400999002"], name="Routed")
    for campaign in (pinned, routed):
        schedule_campaign(campaign, actor=admin_user)
        start_campaign(campaign.pk)
    queued = list(Message.objects.filter(state=MessageState.QUEUED))
    assert len(queued) == 12 and {m.connector_id for m in queued} == {carriers["india"].pk}
    with django_assert_max_num_queries(10):
        assert fail_over(queued) == 11
    found = dict(Message.objects.values_list("recipient", "connector__name"))
    assert found.pop("+447400999001") == "india"  # the campaign names its connector
    assert found.pop("+447400999002") == "mumbai"  # the MKT route
    assert set(found.values()) == {"any"}


def test_a_message_whose_connector_left_its_route_fails_over_to_the_routes_first(api, account, carriers):
    prices("ENT", GB="0.04")
    account.balance = Decimal("5")
    account.save()
    approved_sender(account, name="ACMEUK", country="GB", service="ENT")
    gb = route(carriers["india"], carriers["any"], country="GB")
    body = {"sender": "ACMEUK", "to": ["+447400123456"], "message": "Your Acme code is 4711"}
    assert api().post("/api/v2/sms/send", body, format="json").status_code == 201
    RouteStep.objects.filter(route=gb, connector=carriers["india"]).delete()
    message = Message.objects.get()
    assert next_connector(message) == carriers["any"]
    carriers["any"].is_active = False
    carriers["any"].save()
    assert next_connector(message) is None and fail_over([message]) == 0


def test_messages_of_an_smpp_connector_that_is_down_are_rerouted(api, account, carriers):
    prices("ENT", GB="0.04")
    account.balance = Decimal("5")
    account.save()
    approved_sender(account, name="ACMEUK", country="GB", service="ENT")
    smsc = connector("smsc", kind="smpp", config={"host": "127.0.0.1", "system_id": "a"}, secret="x")
    route(smsc, carriers["any"], country="GB")
    body = {"sender": "ACMEUK", "to": ["+447400123456"], "message": "Your Acme code is 4711"}
    assert api().post("/api/v2/sms/send", body, format="json").status_code == 201
    assert Message.objects.get().state == MessageState.QUEUED  # the Celery outbox leaves SMPP messages alone
    bound = SmppBind.objects.create(
        connector=smsc, slot=0, state="bound", heartbeat_at=timezone.now(), state_since=timezone.now()
    )
    assert reroute_stranded() == 0
    SmppBind.objects.filter(pk=bound.pk).update(
        state="unbound", state_since=timezone.now() - timedelta(minutes=5), heartbeat_at=timezone.now()
    )
    assert reroute_stranded() == 1
    assert Message.objects.get().connector == carriers["any"]


@pytest.mark.django_db(transaction=True)
def test_migration_0010_makes_the_default_connector_the_catch_all_route():
    executor = MigrationExecutor(connection)
    executor.migrate([("campaigns", "0009_smpp_routing")])
    old = executor.loader.project_state([("campaigns", "0009_smpp_routing")]).apps
    old.get_model("campaigns", "Connector").objects.create(name="spare", kind="simulator")
    default = old.get_model("campaigns", "Connector").objects.create(name="upstream", kind="http", is_default=True)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    (catch_all,) = Route.objects.all()
    assert (catch_all.route_set, catch_all.country, catch_all.prefix, catch_all.service) == (None, "", "", "")
    assert [step.connector_id for step in catch_all.steps.all()] == [default.pk]
    assert "is_default" not in {field.name for field in Connector._meta.get_fields()}
