"""Benchmark: 10,000 events fanned out to 2 local receivers through real Celery workers.

One account, two webhooks (each subscribed to `sms:message:status` for `all`), each pointing at its own
HTTP receiver on 127.0.0.1. Events are emitted in transactions of 100 (as delivery-report processing does);
after each commit `emit` creates the deliveries and starts the webhooks' queues, which a Celery worker process
(2 pool processes) drains in order. A thread in this process runs the beat sweep every second. Prints the
emission rate, deliveries per second (first emit to last receipt) and the p50/p99 delay from emit to receipt.

    .venv/bin/python bench/webhooks.py                    # SQLite + the embedded file-system broker
    .venv/bin/python bench/webhooks.py --db postgres      # PostgreSQL + Redis (BENCH_POSTGRES_URL, BENCH_REDIS_URL)
    .venv/bin/python bench/webhooks.py --rate 100         # pace emission (events/s) to see latency without backlog
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
BENCH_DB = "bench_webhooks"
BATCH = 100


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


def run(events: int, db: str, rate: float | None) -> None:
    var_dir = tempfile.mkdtemp(prefix="bench-webhooks-")
    configure(db, var_dir)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from portal.accounts import create_account
    from portal.events import emit
    from portal.models import Subscription, Webhook
    from portal.webhooks import signing
    from tests.support.http_receiver import HttpReceiver

    call_command("migrate", verbosity=0)
    account = create_account("Bench", default_country="IN", time_zone="Asia/Kolkata")
    receivers = [HttpReceiver().start(), HttpReceiver().start()]
    for number, receiver in enumerate(receivers):
        webhook = Webhook.objects.create(
            account=account, name=f"receiver {number}", uri=receiver.url("/in"), secret=signing.generate_secret()
        )
        Subscription.objects.create(account=account, webhook=webhook, event="sms:message:status")
    worker = start_worker(var_dir)
    stop = threading.Event()
    beat = threading.Thread(target=sweeper, args=(stop,), daemon=True)
    time.sleep(3)
    try:
        beat.start()
        started = time.time()
        batch_interval = BATCH / rate if rate else 0.0
        for first in range(0, events, BATCH):
            if batch_interval:
                time.sleep(max(0.0, started + (first // BATCH) * batch_interval - time.time()))
            with transaction.atomic():
                for number in range(first, min(first + BATCH, events)):
                    payload = {"id": f"msg-{number}", "status": "DELIVRD", "emitted_at": time.time()}
                    emit(account, "sms:message:status", payload, identity="BENCH")
        emitted = time.time()
        expected = events * len(receivers)
        deadline = emitted + max(120, events / 20)
        while sum(len(r.requests) for r in receivers) < expected and time.time() < deadline:
            time.sleep(0.2)
        received = [request for r in receivers for request in r.requests]
    finally:
        stop.set()
        worker.terminate()
        worker.wait(timeout=30)
        for receiver in receivers:
            receiver.stop()
    delays = [(r.received_at - r.json()["payload"]["emitted_at"]) * 1000 for r in received]
    last = max(r.received_at for r in received)
    in_order = all(
        [int(r.json()["payload"]["id"].split("-")[1]) for r in receiver.requests]
        == sorted(int(r.json()["payload"]["id"].split("-")[1]) for r in receiver.requests)
        for receiver in receivers
    )
    unique = len({(r.headers["webhook-id"], r.headers["host"]) for r in received})
    pacing = f", emission paced at {rate:g} events/s" if rate else ""
    print(f"database {connection.vendor}, broker {os.environ['CELERY_BROKER_URL'].split(':')[0]}{pacing}")
    print(f"events emitted: {events} in {emitted - started:.1f} s ({events / (emitted - started):.0f} events/s)")
    print(f"deliveries received: {len(received)} of {expected} ({unique} distinct), in order per webhook: {in_order}")
    print(f"deliveries per second (first emit to last receipt): {len(received) / (last - started):.0f}")
    print(
        f"emit → receipt delay: p50 {statistics.median(delays):.0f} ms, p99 {percentile(delays, 0.99):.0f} ms, "
        f"max {max(delays):.0f} ms"
    )
    drop_database(db)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--rate", type=float, help="events per second (default: no pacing)")
    args = parser.parse_args()
    run(args.events, args.db, args.rate)


if __name__ == "__main__":
    main()
