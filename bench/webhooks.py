"""Benchmark: 10,000 events fanned out to 2 local receivers through real Celery workers.

One account, two webhooks (each subscribed to `sms:message:status` for `all`), each pointing at its own
HTTP receiver on 127.0.0.1. Events are emitted in transactions of 100 (as delivery-report processing does);
after each commit `emit` creates the deliveries and starts the webhooks' queues, which a Celery worker process
(2 pool processes) drains in order; the receivers run in a child process. A thread in this process runs the
beat sweep every second. Prints the emission rate, deliveries per second (first emit to last receipt) and
the p50/p99 delay from emit to receipt; first, the time to build 10,000 `sms:message:status` payloads (the seed's
fields, with the number lookups of phonenumbers' geocoder and carrier) for distinct numbers with a cold cache, and
again with the cache warm.

    .venv/bin/python bench/webhooks.py                    # SQLite + the embedded file-system broker
    .venv/bin/python bench/webhooks.py --db postgres      # PostgreSQL + Redis (BENCH_POSTGRES_URL, BENCH_REDIS_URL)
    .venv/bin/python bench/webhooks.py --rate 100         # pace emission (events/s) to see latency without backlog
    .venv/bin/python bench/webhooks.py --payloads-only    # only the payload figures (no workers, no receivers)
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
BENCH_DB = "bench_webhooks"
BATCH = 100
RECEIVERS = 2


def configure(db: str, var_dir: str) -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        VAR_DIR=var_dir,
        DEBUG="1",
        SECURE_SSL_REDIRECT="0",
        WEBHOOK_ALLOWED_CIDRS="127.0.0.0/8",
        LOG_LEVEL="WARNING",
        CELERY_TASK_ALWAYS_EAGER="0",
    )
    if db == "postgres":
        import psycopg

        with psycopg.connect(f"{POSTGRES_URL}/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB}")
            conn.execute(f"CREATE DATABASE {BENCH_DB}")
        os.environ.update(DATABASE_URL=f"{POSTGRES_URL}/{BENCH_DB}", CELERY_BROKER_URL=REDIS_URL)
    else:
        os.environ.update(DATABASE_URL=f"sqlite:///{var_dir}/bench.sqlite3", CELERY_BROKER_URL="filesystem://")


def drop_database(db: str) -> None:
    if db != "postgres":
        return
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(f"{POSTGRES_URL}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")


def start_worker(var_dir: str) -> subprocess.Popen:
    log = open(Path(var_dir) / "worker.log", "ab")  # noqa: SIM115 - the child process owns it
    command = [sys.executable, "-m", "celery", "-A", "portal", "worker", "-c", "2", "-l", "WARNING"]
    command += ["--without-heartbeat", "--without-gossip", "--without-mingle", "-n", f"bench-{os.getpid()}@%h"]
    return subprocess.Popen(command, cwd=ROOT, env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT)


def sweeper(stop: threading.Event) -> None:
    from django.db import close_old_connections

    from portal.webhooks import delivery

    while not stop.wait(1.0):
        delivery.sweep()
        close_old_connections()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@dataclass(frozen=True)
class Receipt:
    receiver: int
    received_at: float
    event_id: str
    number: int
    emitted_at: float


def serve_receivers(count: int, ports, stop, results_path: str) -> None:
    """Child process: HTTP receivers on 127.0.0.1 (away from the emitter's GIL); their receipts go to a file."""
    from tests.support.http_receiver import HttpReceiver

    receivers = [HttpReceiver().start() for _ in range(count)]
    ports.put([receiver.port for receiver in receivers])
    stop.wait()
    rows = []
    for index, receiver in enumerate(receivers):
        receiver.stop()
        for request in receiver.requests:
            payload = request.json()["payload"]
            rows.append(
                [index, request.received_at, request.headers["webhook-id"], payload["n"], payload["emitted_at"]]
            )
    Path(results_path).write_text(json.dumps(rows))


def start_receivers(count: int, results_path: str):
    context = multiprocessing.get_context("spawn")
    ports, stop = context.Queue(), context.Event()
    process = context.Process(target=serve_receivers, args=(count, ports, stop, results_path), daemon=True)
    process.start()
    return process, stop, ports.get(timeout=30)


def emit_events(account, events: int, rate: float | None) -> tuple[float, float]:
    from django.db import transaction

    from portal.events import emit

    started = time.time()
    batch_interval = BATCH / rate if rate else 0.0
    for first in range(0, events, BATCH):
        if batch_interval:
            time.sleep(max(0.0, started + (first // BATCH) * batch_interval - time.time()))
        with transaction.atomic():
            for number in range(first, min(first + BATCH, events)):
                payload = {"n": number, "status": "DELIVRD", "emitted_at": time.time()}
                emit(account, "sms:message:status", payload, identity="BENCH")
    return started, time.time()


def measure_payloads(count: int) -> None:
    """Build `count` status payloads of unsaved messages to distinct Indian and UK mobiles: cold, then warm."""
    from campaigns.models import Message
    from campaigns.sending.events import status_payload
    from contacts import phone_places

    pick, now, zone = random.Random(18), datetime.now(UTC), ZoneInfo("Asia/Kolkata")
    indian, british = (lambda: f"+9198{pick.randrange(10**8):08d}"), (lambda: f"+447{pick.randrange(10**9):09d}")
    numbers = [indian() if n % 2 else british() for n in range(count)]
    messages = [
        Message(
            uid=uuid.uuid4(),
            group_id=uuid.uuid4(),
            recipient=number,
            country="IN" if number.startswith("+91") else "GB",
            sender_name="BENCH",
            state="delivered",
            error_code="000",
            cost=Decimal("0.01"),
            meta={"custom1": "bench"},
            created_at=now,
            sent_at=now,
            done_at=now,
        )
        for number in numbers
    ]
    phone_places._places.clear()
    timings = []
    for _ in ("cold", "warm"):
        started = time.perf_counter()
        for message in messages:
            status_payload(message, zone=zone)
        timings.append((time.perf_counter() - started) * 1000)
    ranges = len(phone_places._places)
    print(
        f"status payloads: {count} built in {timings[0]:.0f} ms with a cold cache ({ranges} number ranges looked up), "
        f"{timings[1]:.0f} ms warm ({timings[1] * 1000 / count:.1f} µs each)"
    )


def report(receipts: list[Receipt], events: int, expected: int, started: float, emitted: float) -> None:
    delays = [(receipt.received_at - receipt.emitted_at) * 1000 for receipt in receipts]
    last = max(receipt.received_at for receipt in receipts)
    in_order = all(
        [r.number for r in receipts if r.receiver == index] == sorted(r.number for r in receipts if r.receiver == index)
        for index in {receipt.receiver for receipt in receipts}
    )
    distinct = len({(receipt.receiver, receipt.event_id) for receipt in receipts})
    print(f"events emitted: {events} in {emitted - started:.1f} s ({events / (emitted - started):.0f} events/s)")
    print(f"deliveries received: {len(receipts)} of {expected} ({distinct} distinct), in order per webhook: {in_order}")
    print(f"deliveries per second (first emit to last receipt): {len(receipts) / (last - started):.0f}")
    print(
        f"emit → receipt delay: p50 {statistics.median(delays):.0f} ms, p99 {percentile(delays, 0.99):.0f} ms, "
        f"max {max(delays):.0f} ms"
    )


def run(events: int, db: str, rate: float | None, payloads_only: bool = False) -> None:
    var_dir = tempfile.mkdtemp(prefix="bench-webhooks-")
    if payloads_only:
        configure("sqlite", var_dir)
        import django

        django.setup()
        measure_payloads(10_000)
        return
    results_path = str(Path(var_dir) / "receipts.json")
    receivers, stop_receivers, ports = start_receivers(RECEIVERS, results_path)
    configure(db, var_dir)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from portal.accounts import create_account
    from portal.models import Subscription, Webhook, WebhookDelivery
    from portal.webhooks import signing

    call_command("migrate", verbosity=0)
    measure_payloads(10_000)
    account = create_account("Bench", default_country="IN", time_zone="Asia/Kolkata")
    for number, port in enumerate(ports):
        webhook = Webhook.objects.create(
            account=account,
            name=f"receiver {number}",
            uri=f"http://127.0.0.1:{port}/in",
            secret=signing.generate_secret(),
        )
        Subscription.objects.create(account=account, webhook=webhook, event="sms:message:status")
    worker = start_worker(var_dir)
    stop_beat = threading.Event()
    beat = threading.Thread(target=sweeper, args=(stop_beat,), daemon=True)
    expected = events * len(ports)
    time.sleep(3)
    try:
        beat.start()
        started, emitted = emit_events(account, events, rate)
        deadline = emitted + max(120, events / 20)
        succeeded = WebhookDelivery.objects.filter(state=WebhookDelivery.State.SUCCEEDED)
        while succeeded.count() < expected and time.time() < deadline:
            time.sleep(0.5)
    finally:
        stop_beat.set()
        worker.terminate()
        worker.wait(timeout=30)
        stop_receivers.set()
        receivers.join(timeout=60)
    receipts = [Receipt(*row) for row in json.loads(Path(results_path).read_text())]
    pacing = f", emission paced at {rate:g} events/s" if rate else ""
    print(f"database {connection.vendor}, broker {os.environ['CELERY_BROKER_URL'].split(':')[0]}{pacing}")
    report(receipts, events, expected, started, emitted)
    drop_database(db)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--rate", type=float, help="events per second (default: no pacing)")
    parser.add_argument("--payloads-only", action="store_true", help="only time building 10,000 status payloads")
    args = parser.parse_args()
    run(args.events, args.db, args.rate, args.payloads_only)


if __name__ == "__main__":
    main()
