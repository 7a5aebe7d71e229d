"""/metrics: who may scrape it, the request histogram, the gauges computed at scrape time (from rows and from the
broker), and several processes merged through PROMETHEUS_MULTIPROC_DIR."""

import os
import subprocess
import sys
import uuid
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from campaigns.models import Campaign, Connector, SmppBind, SmppReceipt
from campaigns.smpp_gateway.credentials import issue_credential
from campaigns.states import CampaignState
from contacts.models import Import
from portal.celery import app
from portal.models import Account, AccountStatus, WebhookDelivery
from portal.ops import broker, heartbeats
from portal.queues import ALL_QUEUES
from tests.campaigns.sending_support import approved_sender
from tests.portal.exports_support import message
from tests.portal.test_ops_health import closed_port, delivery, queued, webhook
from tests.smpp_gateway.gateway_rows import bound_session

ROOT = Path(__file__).resolve().parents[2]
OUTSIDE = "203.0.113.7"


def samples(body: bytes) -> dict[tuple[str, frozenset], float]:
    """{(sample name, frozenset of label items): value} of an exposition."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
    }


def scrape(client, **extra) -> dict:
    response = client.get("/metrics", **extra)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/plain")
    return samples(response.content)


def value(scraped: dict, name: str, **labels) -> float | None:
    return scraped.get((name, frozenset(labels.items())))


def by_label(scraped: dict, name: str, label: str) -> dict[str, float]:
    return {dict(items)[label]: v for (sample, items), v in scraped.items() if sample == name}


# who may scrape


@pytest.mark.parametrize("address", ["127.0.0.1", "::1"])
def test_with_nothing_configured_loopback_may_scrape(client, db, address):
    assert client.get("/metrics", REMOTE_ADDR=address).status_code == 200


def test_anyone_else_gets_the_sites_404(client, db):
    response = client.get("/metrics", REMOTE_ADDR=OUTSIDE)
    assert response.status_code == 404 and b"portal_" not in response.content


def test_the_token_opens_it_from_anywhere_and_nothing_else_does(client, db, settings):
    settings.METRICS_TOKEN = "scrape-secret"
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 404  # configured: loopback is no pass
    assert client.get("/metrics", REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    assert client.get("/metrics", REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION="Basic scrape-secret").status_code == 404
    assert client.get("/metrics", REMOTE_ADDR=OUTSIDE, HTTP_AUTHORIZATION="Bearer scrape-secret").status_code == 200


@pytest.mark.parametrize(
    ("address", "status"),
    [("10.20.30.40", 200), ("192.0.2.200", 200), ("::ffff:10.0.0.9", 200), ("2001:db8::5", 200), (OUTSIDE, 404)],
)
def test_an_allowed_network_may_scrape(client, db, settings, address, status):
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8", "192.0.2.200", "2001:db8::/32"]
    assert client.get("/metrics", REMOTE_ADDR=address).status_code == status


def test_the_allowed_address_is_the_client_ip_the_middleware_computes(client, db, settings):
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8"]
    forwarded = {"REMOTE_ADDR": "192.0.2.1", "HTTP_X_FORWARDED_FOR": "10.1.1.1, 192.0.2.1"}
    assert client.get("/metrics", **forwarded).status_code == 404  # the proxy's header is not believed
    settings.TRUST_PROXY_HEADERS = True
    assert client.get("/metrics", **forwarded).status_code == 200


def test_a_bad_network_is_a_configuration_error(client, db, settings):
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/33"]
    with pytest.raises(ImproperlyConfigured, match="METRICS_ALLOWED_IPS"):
        client.get("/metrics", REMOTE_ADDR=OUTSIDE)


# what it reports


def test_a_request_is_counted_by_method_route_name_and_status_class(client, db):
    count = "portal_http_request_duration_seconds_count"
    before = scrape(client)
    client.get("/healthz")
    contact = uuid.uuid4()
    client.get(f"/api/v2/contacts/{contact}")  # no credentials: 401
    after = scrape(client)
    healthz = {"method": "GET", "route": "healthz", "status": "2xx"}
    assert value(after, count, **healthz) == (value(before, count, **healthz) or 0) + 1
    detail = {"method": "GET", "route": "contacts-api:contact-detail", "status": "4xx"}
    assert value(after, count, **detail) == (value(before, count, **detail) or 0) + 1
    assert value(after, "portal_http_request_duration_seconds_bucket", le="+Inf", **healthz) >= 1
    assert not [labels for _, labels in after if str(contact) in str(labels)]


def test_the_outbox_is_counted_by_what_it_does_with_each_message(client, account):
    now = timezone.now()
    for number in range(3):
        queued(account, recipient=f"+91987654320{number}")
    queued(account, recipient="+919876543210", claimed_until=now + timedelta(seconds=30))
    queued(account, recipient="+919876543211", claimed_until=now - timedelta(seconds=30))
    message(account, recipient="+919876543212", state="queued", not_before=now + timedelta(hours=1))
    sender = approved_sender(account)
    paused = Campaign.objects.create(account=account, sender=sender, name="Paused", state=CampaignState.PAUSED)
    queued(account, recipient="+919876543213", campaign=paused)
    message(account, recipient="+919876543214", state="delivered")
    assert by_label(scrape(client), "portal_outbox_messages", "state") == {
        "due": 3,
        "claimed": 1,
        "lease_expired": 1,
        "scheduled": 1,
        "held_by_campaign": 1,
    }


def test_webhook_deliveries_and_import_jobs_are_counted_by_state(client, account):
    hook = webhook(account)
    delivery(hook)
    delivery(hook)
    delivery(hook, state=WebhookDelivery.State.FAILED, next_attempt_at=None)
    Import.objects.create(account=account, file_name="a.csv", file="imports/a", state="writing")
    Import.objects.create(account=account, file_name="b.csv", file="imports/b", state="done")
    scraped = scrape(client)
    assert by_label(scraped, "portal_webhook_deliveries", "state") == {"pending": 2, "succeeded": 0, "failed": 1}
    imports = by_label(scraped, "portal_import_jobs", "state")
    assert (imports["writing"], imports["done"], imports["queued"], sum(imports.values())) == (1, 1, 0, 2)


def test_smpp_binds_are_counted_per_connector_and_state(client, db):
    connector = Connector.objects.create(
        name="Carrier A", kind="smpp", config={"host": "smpp.example", "system_id": "acme", "binds": 3}
    )
    Connector.objects.create(name="Switched off", kind="smpp", config={"host": "x", "system_id": "y"}, is_active=False)
    now = timezone.now()
    SmppBind.objects.create(connector=connector, slot=0, state="bound", worker="web1:10", heartbeat_at=now)
    old = now - timedelta(minutes=5)
    SmppBind.objects.create(connector=connector, slot=1, state="bound", worker="web2:11", heartbeat_at=old)
    binds = {
        dict(labels)["state"]: v
        for (name, labels), v in scrape(client).items()
        if name == "portal_smpp_binds" and dict(labels)["connector"] == "Carrier A"
    }
    assert binds == {"bound": 1, "stale": 1, "unbound": 1, "binding": 0}
    assert "Switched off" not in str(by_label(scrape(client), "portal_smpp_binds", "connector"))


def test_smpp_gateway_sessions_and_pending_receipts_are_counted(client, account):
    credential = issue_credential(account, system_id="acme").credential
    bound_session(credential)
    bound_session(credential, bind_type="receiver", address="127.0.0.1:40002")
    bound_session(credential, seen_seconds_ago=3600, address="127.0.0.1:40003")  # its server died: not counted
    SmppReceipt.objects.create(
        account=account,
        credential=credential,
        kind="inbound",
        source_addr="919876543210",
        destination_addr="ACMERT",
        short_message="Hi",
        expire_at=timezone.now() + timedelta(hours=1),
    )
    scraped = scrape(client)
    sessions = by_label(scraped, "portal_smpp_gateway_sessions", "bind_type")
    assert sessions == {"transceiver": 1, "receiver": 1, "transmitter": 0}
    assert by_label(scraped, "portal_smpp_gateway_pending", "kind") == {"receipt": 0, "inbound": 1}


def test_accounts_at_a_low_balance_are_counted_by_currency(client, account, settings):
    account.balance = Decimal("0")
    account.save()
    Account.objects.create(name="Rich", slug="rich", balance=Decimal("500"))
    Account.objects.create(name="Gone", slug="gone", balance=Decimal("0"), status=AccountStatus.INACTIVE)
    Account.objects.create(name="Dollars", slug="dollars", balance=Decimal("5"), currency="USD")
    assert by_label(scrape(client), "portal_accounts_low_balance", "currency") == {"EUR": 1}
    settings.LOW_BALANCE_ALARM = 1000
    assert by_label(scrape(client), "portal_accounts_low_balance", "currency") == {"EUR": 2, "USD": 1}


def test_the_heartbeat_age_is_reported_once_there_is_one(client, db):
    assert value(scrape(client), "portal_beat_heartbeat_age_seconds") is None
    heartbeats.record(heartbeats.BEAT, at=timezone.now() - timedelta(seconds=30))
    assert 30 <= value(scrape(client), "portal_beat_heartbeat_age_seconds") < 60


def test_a_failing_probe_is_reported_and_the_rest_still_answers(client, db, settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port()}/0"
    scraped = scrape(client)
    success = by_label(scraped, "portal_probe_success", "probe")
    assert success.pop("portal.ops.portal_probes.celery_queue_length_gauge") == 0
    assert set(success.values()) == {1}
    assert by_label(scraped, "portal_celery_queue_length", "queue") == {}
    assert by_label(scraped, "portal_webhook_deliveries", "state")


@pytest.mark.redis
def test_queue_lengths_come_from_the_redis_broker(client, db, redis_broker, monkeypatch):
    monkeypatch.setitem(app.conf, "task_always_eager", False)  # send_task publishes anyway; no warning
    before = broker.queue_lengths()
    try:
        app.send_task("portal.ping", queue="imports")
        app.send_task("portal.ping", queue="imports", priority=5)  # kept in a priority list of its own
        app.send_task("portal.ping", queue="webhooks")
        lengths = by_label(scrape(client), "portal_celery_queue_length", "queue")
    finally:
        with broker.broker_connection() as connection:
            for queue in ("imports", "webhooks"):
                connection.default_channel.queue_purge(queue)
    assert set(lengths) == set(ALL_QUEUES)
    assert lengths["imports"] - before["imports"] == 2 and lengths["webhooks"] - before["webhooks"] == 1


# several processes

WORKER = """
import os, django
django.setup()
from portal.ops import metrics
metrics.REQUESTS_IN_FLIGHT.inc()  # killed mid-request: never decremented
metrics.REQUEST_DURATION.labels("GET", "healthz", "2xx").observe(0.01)
print(os.getpid())
"""

SCRAPER = """
import sys, django
django.setup()
from portal.ops import metrics
sys.stdout.write(metrics.scrape()[0].decode() + "=====\\n")
for pid in sys.argv[1:]:
    metrics.mark_process_dead(int(pid))
sys.stdout.write(metrics.scrape()[0].decode())
"""


def run_python(code: str, env: dict, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_several_processes_are_merged_and_a_dead_ones_in_flight_requests_dropped(tmp_path):
    multiproc = tmp_path / "prometheus"
    multiproc.mkdir()
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="tests.settings",
        PROMETHEUS_MULTIPROC_DIR=str(multiproc),
        VAR_DIR=str(tmp_path / "var"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        CELERY_BROKER_URL="filesystem://",
    )
    pids = [run_python(WORKER, env).strip() for _ in range(2)]
    alive, after = run_python(SCRAPER, env, *pids).split("=====\n")
    alive, after = samples(alive.encode()), samples(after.encode())
    healthz = {"method": "GET", "route": "healthz", "status": "2xx"}
    assert value(alive, "portal_http_request_duration_seconds_count", **healthz) == 2
    assert value(alive, "portal_http_requests_in_flight") == 2
    assert value(after, "portal_http_request_duration_seconds_count", **healthz) == 2
    assert value(after, "portal_http_requests_in_flight") == 0
    queue_lengths = [name for name, _ in alive if name == "portal_celery_queue_length"]
    assert len(queue_lengths) == len(ALL_QUEUES)  # the scrape-time gauges once, not once per process
