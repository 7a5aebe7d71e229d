"""bench/scale.py, part 1: a backlog drained by `bin/serve worker sending,webhooks,default` with N pool processes.

Each stage puts a backlog in place, then times how fast the worker drains it, first to last (the worker's start-up
and the backlog's creation are not in the figure):
- dispatch: a campaign to every seeded contact prepared in this process (`start_campaign`, which queues one
  dispatcher task after its commit); the beat's outbox sweep (`campaigns.sweep_outbox`, run here every second
  with SMS_OUTBOX_PARALLELISM = N) fans out N dispatcher tasks; each claims batches of 500 (SKIP LOCKED), debits,
  hands them to the simulator connector and records them. Figure: messages / (last `sent_at` - first `sent_at`).
  The simulator's delivery reports are due an hour later (SMS_SIMULATOR_DLR_DELAY_SECONDS), outside the stage.
- webhooks: E `sms:message:status` events over W accounts with one webhook each (a queue per webhook, sent in
  order), emitted in one transaction; after its commit the deliveries are created and the W queues started; the
  receivers (tests/support/http_receiver.py, in a child process) record each request. Figure: deliveries /
  (last receipt - first receipt); every event must arrive exactly once.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from bench import campaign as campaign_bench
from bench import webhooks as webhooks_bench
from bench.support.cpu import CpuUse, CpuWindow, wait_for_quiet
from bench.support.http_load import Server

ROOT = Path(__file__).resolve().parents[2]
QUEUES = "sending,webhooks,default"
SWEEP_SECONDS = 1.0
SIMULATOR_SUBMIT_ERRORS = r"999[789]$"  # campaigns/connectors/simulator.py


@dataclass(frozen=True)
class StageFigures:
    workers: int
    handled: int
    seconds: float
    cpu: CpuUse
    detail: str

    @property
    def rate(self) -> float:
        return self.handled / self.seconds

    def cpu_ms(self, label: str) -> float:
        """Milliseconds of CPU time `label` used per item handled (in the window)."""
        return self.cpu.cpu_seconds(label) * 1000 / self.handled


@dataclass
class Workload:
    """What part 1 reuses across its stages (model instances of this process)."""

    account: object
    first_campaign: object
    hook_accounts: list
    webhooks: list
    campaigns_made: int = 0


def set_up_workload(recipients: int, webhook_count: int) -> Workload:
    """bench/campaign.py's account, simulator route, price, sender, template and contacts (1 % opted out), and
    `webhook_count` accounts with one webhook each subscribed to `sms:message:status`.

    The numbers the simulator answers with a submit error (ending in 9997-9999: retried after a back-off, or
    refused) leave the campaigns' audience, so every message goes out at its first attempt."""
    from contacts.models import ContactTag
    from portal.accounts import create_account
    from portal.models import Subscription, Webhook
    from portal.webhooks import signing

    account, first = campaign_bench.create_fixtures()
    campaign_bench.seed(account, recipients, recipients // 100)
    ContactTag.objects.filter(tag__account=account, contact__phone__regex=SIMULATOR_SUBMIT_ERRORS).delete()
    hook_accounts, webhooks = [], []
    for index in range(webhook_count):
        hook_account = create_account(f"Bench hooks {index}", default_country="IN", balance=Decimal("100"))
        webhook = Webhook.objects.create(
            account=hook_account, name="receiver", uri="http://127.0.0.1:9/in", secret=signing.generate_secret()
        )
        Subscription.objects.create(account=hook_account, webhook=webhook, event="sms:message:status")
        hook_accounts.append(hook_account)
        webhooks.append(webhook)
    return Workload(account, first, hook_accounts, webhooks)


def next_campaign(workload: Workload):
    """The seeded campaign first, then a copy of it (same audience, template and mapping) for each later stage."""
    from campaigns.models import Campaign

    workload.campaigns_made += 1
    if workload.campaigns_made == 1:
        return workload.first_campaign
    first = workload.first_campaign
    return Campaign.objects.create(
        account=first.account,
        name=f"Bench {workload.campaigns_made}",
        sender=first.sender,
        template=first.template,
        audience=first.audience,
        variable_mapping=first.variable_mapping,
    )


class Sweeper:
    """The beat's two sweeps of this workload, every second in a thread of this process."""

    def __init__(self):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        from django.db import close_old_connections

        from campaigns.tasks import sweep_outbox
        from portal.webhooks import delivery

        while not self._stop.wait(SWEEP_SECONDS):
            sweep_outbox()
            delivery.sweep()
            close_old_connections()

    def __enter__(self) -> Sweeper:
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def start_worker(env: dict, processes: int, log: Path) -> Server:
    """`bin/serve worker sending,webhooks,default` with WORKER_CONCURRENCY=processes; returns once it answers."""
    from portal.celery import app

    worker_env = dict(env, WORKER_CONCURRENCY=str(processes), SMS_OUTBOX_PARALLELISM=str(processes))
    worker = Server([str(ROOT / "bin" / "serve"), "worker", QUEUES], worker_env, ROOT, log)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if worker.process.poll() is not None:
            raise RuntimeError(f"the worker exited: {worker.tail()}")
        if app.control.ping(timeout=1.0):
            return worker
    worker.stop()
    raise RuntimeError(f"the worker did not answer a ping within 120 s: {worker.tail()}")


def wait_until(done, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not done within {timeout:.0f} s")
        time.sleep(0.25)


def dispatch_stage(workload: Workload, processes: int, window: CpuWindow) -> StageFigures:
    from django.db.models import Count, Max, Min, Sum

    from campaigns.models import Message, SimulatorSubmission
    from campaigns.sending.lifecycle import schedule_campaign, start_campaign
    from campaigns.states import MessageState

    campaign = next_campaign(workload)
    schedule_campaign(campaign)
    started = time.perf_counter()
    start_campaign(campaign.pk)
    prepare_s = time.perf_counter() - started
    campaign.refresh_from_db()
    messages = Message.objects.filter(campaign=campaign)
    window.start()
    wait_until(
        lambda: not messages.filter(state=MessageState.QUEUED).exists(),
        timeout=max(180, campaign.recipients_count / 50),
        what=f"dispatch with {processes} worker processes",
    )
    cpu = window.stop()
    states = dict(messages.values_list("state").annotate(count=Count("id")).order_by())
    sent = messages.aggregate(first=Min("sent_at"), last=Max("sent_at"))
    submitted = SimulatorSubmission.objects.filter(message_uid__in=messages.values("uid"))
    duplicates = submitted.aggregate(total=Sum("duplicates"))["total"] or 0
    if states.get(MessageState.SENT, 0) != campaign.recipients_count or submitted.count() != campaign.recipients_count:
        raise RuntimeError(f"dispatch: {states} of {campaign.recipients_count}, {submitted.count()} submitted")
    if duplicates:
        raise RuntimeError(f"dispatch: the simulator saw {duplicates} messages twice")
    seconds = (sent["last"] - sent["first"]).total_seconds()
    detail = f"prepared in {prepare_s:.1f} s; {campaign.recipients_count:,} sent once each"
    return StageFigures(processes, campaign.recipients_count, seconds, cpu, detail)


def webhooks_stage(workload: Workload, processes: int, events: int, window: CpuWindow, var_dir: str) -> StageFigures:
    from django.db import transaction

    from portal.events import EventItem, emit_many
    from portal.models import Webhook, WebhookDelivery

    results = str(Path(var_dir) / f"receipts-{processes}.json")
    receivers, stop_receivers, ports = webhooks_bench.start_receivers(len(workload.webhooks), results)
    window.roots["receiver"] = [receivers.pid]
    identity = f"SCALE{processes}"
    try:
        for webhook, port in zip(workload.webhooks, ports, strict=True):
            Webhook.objects.filter(pk=webhook.pk).update(uri=f"http://127.0.0.1:{port}/in")
        count = len(workload.hook_accounts)
        started = time.perf_counter()
        with transaction.atomic():
            for index, account in enumerate(workload.hook_accounts):
                items = [
                    EventItem({"n": n, "status": "DELIVRD", "emitted_at": time.time()}, identity)
                    for n in range(index, events, count)
                ]
                emit_many(account, "sms:message:status", items)
        emitted_s = time.perf_counter() - started
        window.start()
        succeeded = WebhookDelivery.objects.filter(identity=identity, state=WebhookDelivery.State.SUCCEEDED)
        wait_until(
            lambda: succeeded.count() >= events,
            timeout=max(180, events / 20),
            what=f"webhooks with {processes} worker processes",
        )
        cpu = window.stop()
    finally:
        stop_receivers.set()
        receivers.join(timeout=60)
    rows = json.loads(Path(results).read_text())
    distinct = {row[2] for row in rows}
    if len(rows) != events or len(distinct) != events:
        raise RuntimeError(f"webhooks: {len(rows)} receipts of {len(distinct)} events, {events} expected")
    received = [row[1] for row in rows]
    detail = f"{events:,} events over {count} webhooks emitted and fanned out in {emitted_s:.1f} s; each received once"
    return StageFigures(processes, events, max(received) - min(received), cpu, detail)


def measure_curve(
    workload: Workload, env: dict, var_dir: str, database: str, pools: list[int], events: int, quiet_wait: float
) -> list[tuple[StageFigures, StageFigures]]:
    """For each pool size: a worker started, the dispatch stage, the webhooks stage, the worker stopped."""
    curve = []
    for processes in pools:
        os.environ["SMS_OUTBOX_PARALLELISM"] = str(processes)  # read by the sweep in this process
        worker = start_worker(env, processes, Path(var_dir) / f"worker-{processes}.log")
        try:
            roots = {"workers": [worker.pid], "bench (sweeps, polls)": [os.getpid()]}
            with Sweeper():
                if quiet_wait:
                    wait_for_quiet(quiet_wait)
                dispatch = dispatch_stage(workload, processes, CpuWindow(database, dict(roots)))
                if quiet_wait:
                    wait_for_quiet(quiet_wait)
                hooks = webhooks_stage(workload, processes, events, CpuWindow(database, dict(roots)), var_dir)
        finally:
            worker.stop(grace=60)
        curve.append((dispatch, hooks))
    return curve
