"""The scale-out proof (issue 19): the production process set on two or three test hosts shares one campaign,
API sends, webhook events and an import, while one worker host is SIGKILLed mid-way and brought back.

Host A: gunicorn + a worker; host B: a worker + the only beat (killed when a third of the campaign has left,
started again SCALE_DOWN_SECONDS later; the import is uploaded while it is down); SCALE_HOSTS=3 adds host C with
a third worker. Everything goes through the public API of host A. Afterwards: every message sent exactly once,
no event lost, the import finished once, balances exact (tests/scale/verify.py says how each promise is read).
Sizes and bounds: tests/scale/world.py (SCALE_RECIPIENTS, SCALE_API_SENDS, SCALE_IMPORT_ROWS, SCALE_HOSTS, ...).
"""

import os
import threading
import time
import warnings
from dataclasses import dataclass, field

import pytest
from django.db.models import Count

from campaigns.conf import setting
from campaigns.models import Campaign, Message
from campaigns.states import CampaignState, MessageState
from contacts.models import Import
from contacts.models.imports import FINAL_STATES as FINAL_IMPORT_STATES
from portal.models import Event, WebhookDelivery
from portal.webhooks import signing
from tests.scale import load, verify
from tests.scale.cluster import Cluster, TaskTracker, tasks_received
from tests.scale.world import API_SENDER, AUDIENCE_TAG, CAMPAIGN_SENDER, Sizes, World
from tests.support.http_receiver import HttpReceiver

pytestmark = [pytest.mark.scale, pytest.mark.postgres, pytest.mark.redis]

IMPORT_TAG = "scale-imported"
INLINE_IMPORT_BYTES = 256 * 1024  # contacts.services_imports: larger uploads run as the contacts.run_import task
OPEN_STATES = (MessageState.QUEUED, MessageState.SENT, MessageState.UNKNOWN)
SENDING_WORK = {"campaigns.dispatch_outbox", "campaigns.deliver_simulated_reports", "portal.webhooks.deliver"}


class ScaleRun(UserWarning):
    """The figures of a scale-out run (shown in pytest's warnings summary)."""


def wait_until(condition, timeout: float, poll: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(poll)
    return True


@dataclass
class Run:
    """One scale-out run: the hosts, the data, what the API answered, and the figures gathered on the way."""

    cluster: Cluster
    world: World
    sizes: Sizes
    receiver: HttpReceiver
    client: load.ApiClient
    secret: str = field(default_factory=signing.generate_secret)
    webhook_uid: str = ""
    campaign_pk: int = 0
    plan: load.ImportPlan | None = None
    sends: dict = field(default_factory=dict)
    sender: threading.Thread | None = None
    sends_started_at: float = 0.0
    figures: dict = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f"[mode {self.cluster.network.mode}: {self.cluster.network.describe()}]"

    def dispatched(self) -> int:
        return Message.objects.filter(campaign_id=self.campaign_pk).exclude(state=MessageState.QUEUED).count()

    def progress(self) -> dict:
        """Where the run stands (for the report, and for a timeout's message)."""
        account = self.world.account
        states = Message.objects.filter(account=account).values_list("state").annotate(n=Count("id")).order_by()
        campaign = Campaign.objects.filter(pk=self.campaign_pk).values("state", "recipients_count").first()
        return {
            "campaign": campaign,
            "campaign_messages": Message.objects.filter(campaign_id=self.campaign_pk).count(),
            "messages": dict(states),
            "imports": list(Import.objects.filter(account=account).values_list("state", flat=True)),
            "events": Event.objects.filter(account=account, identity=API_SENDER).count(),
            "deliveries_pending": WebhookDelivery.objects.filter(
                webhook__uid=self.webhook_uid, state="pending"
            ).count(),
            "received": len(self.receiver.requests),
        }


def start_load(run: Run) -> None:
    """A webhook for the API sender's status events, the campaign sent now, the API sends in a thread pool."""
    hook = {"name": "crm", "uri": run.receiver.url("/hook"), "secret": run.secret}
    run.webhook_uid = run.client.ok("POST", "/webhooks", json=hook)["id"]
    subscription = {"event": verify.STATUS_EVENT, "identity": API_SENDER, "webhook_id": run.webhook_uid}
    run.client.ok("POST", "/subscriptions", json=subscription)
    draft = {"name": "Scale", "sender": CAMPAIGN_SENDER, "template": "ready", "audience": {"tags": [AUDIENCE_TAG]}}
    campaign = run.client.ok("POST", "/campaigns", json=draft)
    run.client.ok("POST", f"/campaigns/{campaign['id']}/schedule", json={"time": "now"})
    run.campaign_pk = Campaign.objects.get(uid=campaign["id"]).pk
    numbers = load.numbers("api", run.sizes.api_sends)

    def send_all() -> None:
        run.sends["results"] = load.send_each(run.client, API_SENDER, numbers, run.sizes.send_threads)

    run.sender = threading.Thread(target=send_all, daemon=True)
    run.sends_started_at = time.monotonic()
    run.sender.start()


def kill_host_b_midway(run: Run) -> float:
    """SIGKILL host B (worker and beat) once a third of the campaign has left, at a moment its worker is in the
    middle of sending work if that comes within 30 seconds; returns when it was killed."""
    target = run.sizes.recipients * run.sizes.kill_at
    reached = wait_until(lambda: run.dispatched() >= target, run.sizes.settle_seconds, poll=0.2)
    assert reached, f"{run.where}: a third of the campaign never left: {run.progress()}"
    host_b = run.cluster.hosts["b"]
    tracker = TaskTracker(host_b.log_path("worker"))
    run.figures["host_b_busy_at_kill"] = wait_until(lambda: bool(set(tracker.in_flight()) & SENDING_WORK), 30, 0.05)
    run.figures["campaign_dispatched_at_kill"] = run.dispatched()
    claimed = Message.objects.filter(state=MessageState.QUEUED, claim_token__isnull=False)
    run.figures["claimed_at_kill"] = claimed.count()
    in_flight = dict(tracker.in_flight())
    host_b.kill()
    killed_at = time.monotonic()
    log = host_b.logs("worker", tail=0)
    assert tasks_received(log), f"{run.where}: host B had received no task before it was killed:\n{log[-3000:]}"
    run.figures["host_b_tasks_before_kill"] = dict(tasks_received(log).most_common(4))
    run.figures["host_b_in_flight_at_kill"] = in_flight
    return killed_at


def upload_import(run: Run) -> None:
    """A CSV through the import API: new numbers, campaign contacts again (upsert), repeats, invalid numbers;
    large enough to run as the background task."""
    rows = run.sizes.import_rows
    known = [n for n in run.world.campaign_numbers if verify.expected_state(n) == MessageState.DELIVERED]
    updates, duplicates, invalid = min(200, len(known) // 10), rows // 100, rows // 200
    run.plan = load.import_plan(
        new=rows - updates - duplicates - invalid,
        existing=known[:updates],
        duplicates=duplicates,
        invalid=invalid,
        min_bytes=INLINE_IMPORT_BYTES + 50_000,
    )
    upload = {"file": ("contacts.csv", run.plan.content, "text/csv")}
    run.client.ok(
        "POST", "/contacts/imports", expected=(202,), files=upload, data={"mode": "upsert", "tags": IMPORT_TAG}
    )


def everything_final(run: Run) -> bool:
    account = run.world.account
    if run.sender.is_alive():
        return False
    if Campaign.objects.filter(pk=run.campaign_pk).values_list("state", flat=True).get() != CampaignState.COMPLETED:
        return False
    if Message.objects.filter(account=account, state__in=OPEN_STATES).exists():
        return False
    if Import.objects.filter(account=account).exclude(state__in=FINAL_IMPORT_STATES).exists():
        return False
    if WebhookDelivery.objects.filter(webhook__uid=run.webhook_uid, state="pending").exists():
        return False
    events = Event.objects.filter(account=account, name=verify.STATUS_EVENT, identity=API_SENDER).count()
    return len({request.headers["webhook-id"] for request in run.receiver.requests}) >= events


def check_everything(run: Run) -> dict:
    """The promises of tests/scale/verify.py, in turn; their figures."""
    results, where, account = run.sends["results"], run.where, run.world.account
    assert not results.failures, f"{where}: {len(results.failures)} API sends failed, e.g. {results.failures[:3]}"
    accepted = len(results.accepted)
    assert accepted == run.sizes.api_sends, f"{where}: {accepted} of {run.sizes.api_sends} API sends accepted"
    worker_logs = "\n".join(host.logs("worker", tail=0) for host in run.cluster.hosts.values())
    in_flight = run.cluster.worker_concurrency * setting("SMS_OUTBOX_BATCH_SIZE")  # what host B could hold
    numbers = run.world.campaign_numbers
    return {
        **verify.messages_exactly_once(account, run.campaign_pk, numbers, results.accepted, in_flight, where),
        **verify.events_delivered(account, run.webhook_uid, run.secret, API_SENDER, run.receiver.requests, where),
        **verify.import_once(account, run.plan, IMPORT_TAG, len(numbers), worker_logs, where),
        **verify.balances_exact(account, run.world.credited, where),
        "import_bytes": len(run.plan.content),
    }


@pytest.mark.django_db(transaction=True)
def test_hosts_share_the_work_and_one_killed_host_loses_or_repeats_nothing(
    world, sizes, scale_cluster, scale_receiver, record_property
):
    started = time.monotonic()
    client = load.ApiClient(scale_cluster.web_url, world.token)
    run = Run(scale_cluster, world, sizes, scale_receiver, client)
    run.figures.update(mode=scale_cluster.network.mode, hosts=len(scale_cluster.hosts))
    record_property("scale_mode", scale_cluster.network.mode)

    start_load(run)
    killed_at = kill_host_b_midway(run)
    upload_import(run)
    time.sleep(max(0.0, sizes.down_seconds - (time.monotonic() - killed_at)))
    scale_cluster.hosts["b"].start()
    scale_cluster.wait_ready(scale_cluster.hosts["b"])
    restarted_at = time.monotonic()

    sent = wait_until(lambda: not run.sender.is_alive(), sizes.send_seconds)
    assert sent, f"{run.where}: the API sends did not finish within {sizes.send_seconds} s: {run.progress()}"
    sends_done_at = time.monotonic()
    run.figures["api_send_seconds"] = round(sends_done_at - run.sends_started_at, 1)
    settled = wait_until(lambda: everything_final(run), sizes.settle_seconds)
    run.figures["settle_seconds_after_sends"] = round(time.monotonic() - sends_done_at, 1)
    run.figures["restart_to_final_seconds"] = round(time.monotonic() - restarted_at, 1)
    state = f"not final within {sizes.settle_seconds} s after the API sends: {run.progress()}"
    run.figures["stopped_by_sigterm"] = scale_cluster.stop_all()
    run.figures["wall_seconds"] = round(time.monotonic() - started, 1)
    try:
        run.figures.update(check_everything(run))
    except AssertionError as failure:
        if settled:
            raise
        raise AssertionError(f"{failure}\n{state}") from None
    assert settled, f"{run.where}: {state}\n{scale_cluster.all_logs()}"

    for name, value in run.figures.items():
        record_property(name, value)
    summary = ", ".join(f"{name}={value}" for name, value in run.figures.items())
    print(f"\nscale-out run {run.where}: {summary}")
    if os.environ.get("SCALE_REPORT", "1") != "0":
        warnings.warn(ScaleRun(f"{run.where} {summary}"), stacklevel=1)
