"""Benchmark: N messages (default 100,000) through `smpp_worker` to the local SMPP peer (node-smpp), on PostgreSQL.

The database `bench_smpp` on BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432) is created and dropped
here. A child process migrates it, seeds N queued API messages (COPY through the preparation writer) routed to one
SMPP connector (2 binds, window 50 by default), starts the peer (node-smpp, recording off, a delivery receipt for
every message) and runs the worker loop (`campaigns.sending.smpp_worker.run_workers`) until every message is
settled. The peer runs on the same 2 cores.

Printed: submits/s (messages / time from the first claim to the last answer recorded), p50/p99 of claim → answer
recorded (each claim's time is taken when `smpp_store.claim_next` returns; `sent_at` is written when the claim's
answers are recorded, so this is an upper bound of claim → submit_sm_resp), and every message accounted for
(final states; the peer's submit count equals the messages, so none went twice). Target: >= 1,000 messages/s.
BENCH_NO_DLR=1 runs submits only; BENCH_DLR_DELAY_MS=N has the peer send each receipt N ms after its submit
(default 0: receipts race their submit answers, the worst case for the pending-receipt path).

    .venv/bin/python bench/smpp.py [--messages 100000] [--binds 2] [--window 50]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# this file's name would shadow the `smpp` package (the SMPP codec) from its own folder
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
BENCH_DB = "bench_smpp"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--binds", type=int, default=2)
    parser.add_argument("--window", type=int, default=50)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_child(args.messages, args.binds, args.window)), flush=True)
        return
    psql("DROP DATABASE IF EXISTS " + BENCH_DB, "CREATE DATABASE " + BENCH_DB)
    try:
        command = [sys.executable, __file__, "--child", "--messages", str(args.messages)]
        command += ["--binds", str(args.binds), "--window", str(args.window)]
        env = dict(os.environ, DJANGO_SETTINGS_MODULE="portal.settings", DATABASE_URL=f"{POSTGRES_URL}/{BENCH_DB}")
        env.update(SECURE_SSL_REDIRECT="0", DEBUG="0", CELERY_TASK_ALWAYS_EAGER="0", LOG_LEVEL="WARNING")
        done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    finally:
        psql("DROP DATABASE IF EXISTS " + BENCH_DB)
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-5000:])
        raise SystemExit("smpp benchmark failed")
    report(json.loads(done.stdout.strip().splitlines()[-1]))


def psql(*statements: str) -> None:
    command = ["psql", f"{POSTGRES_URL}/postgres", "-q"]
    for statement in statements:
        command += ["-c", statement]
    subprocess.run(command, check=True, capture_output=True)


def run_child(count: int, binds: int, window: int) -> dict:
    import django

    django.setup()
    import asyncio
    import logging
    import uuid
    from decimal import Decimal

    from django.core.management import call_command
    from django.db.models import Count, Min
    from django.utils import timezone

    from campaigns.models import Connector, Message, Price, Sender, SenderStatus
    from campaigns.routing import set_catch_all
    from campaigns.sending import smpp_store
    from campaigns.sending.preparation import MessageDefaults, write_messages
    from campaigns.sending.smpp_worker import run_workers
    from portal.accounts import create_account
    from portal.ids import time_ordered_uids
    from tests.support.smpp_peer import SmppPeer

    logging.disable(logging.WARNING)
    call_command("migrate", verbosity=0)
    account = create_account("Bench", default_country="GB", time_zone="Europe/London", balance=Decimal("1000000"))
    Price.objects.create(country="GB", service="ENT", price=Decimal("0.002"))
    sender = Sender.objects.create(
        account=account, name="BENCHM", country_code="GB", service="ENT", status=SenderStatus.APPROVED
    )
    peer = SmppPeer().start()
    receipts = os.environ.get("BENCH_NO_DLR") != "1"  # BENCH_NO_DLR=1: submits only, no receipts
    delay = int(os.environ.get("BENCH_DLR_DELAY_MS", "0"))  # how long after its submit the peer sends a receipt
    peer.configure(record=False, dlr_delay_ms=delay, no_dlr=not receipts)
    config = {"host": "127.0.0.1", "port": peer.port, "system_id": "test", "binds": binds, "window": window}
    connector = Connector.objects.create(name="Peer", kind="smpp", config=config, secret="secret")
    set_catch_all(connector)
    now = timezone.now()
    defaults = MessageDefaults(
        account_id=account.pk,
        campaign_id=None,
        group_id=uuid.uuid4(),
        sender_id=sender.pk,
        sender_name=sender.name,
        service="ENT",
        message_type="A",
        flash=False,
    )
    body = "Your Bench code is 4711"
    for start in range(0, count, 10_000):
        size = min(10_000, count - start)
        uids = time_ordered_uids(size)
        rows = [
            (uids[i], f"+4474{start + i:08d}", "GB", body, "GSM-7", len(body), 1, None, {}, Decimal("0.002"),
             Decimal("0.002"), False, now, connector.pk)
            for i in range(size)
        ]  # fmt: skip
        write_messages(defaults, now, rows)

    claimed_at: dict[int, float] = {}
    original_claim = smpp_store.claim_next

    def timed_claim(*args, **kwargs):
        claim = original_claim(*args, **kwargs)
        if claim is not None:
            moment = time.time()
            for message in claim.messages:
                claimed_at.setdefault(message.pk, moment)
        return claim

    smpp_store.claim_next = timed_claim
    open_states = ["queued", "sent", "unknown"] if receipts else ["queued", "unknown"]

    async def drive() -> float:
        stop = asyncio.Event()
        started = time.monotonic()

        async def watch():
            while True:
                await asyncio.sleep(1)
                left = await asyncio.to_thread(lambda: Message.objects.filter(state__in=open_states).count())
                if not left or time.monotonic() - started > 900:
                    stop.set()
                    return

        watcher = asyncio.create_task(watch())
        await run_workers([connector], max_binds=None, stop=stop, grace=5)
        await watcher
        return time.monotonic() - started

    elapsed = asyncio.run(drive())
    first = min(claimed_at.values()) if claimed_at else time.time()
    last_sent = Message.objects.filter(sent_at__isnull=False).order_by("-sent_at").values_list("sent_at", flat=True)
    last = last_sent.first().timestamp() if last_sent.exists() else first
    latencies = sorted(
        sent.timestamp() - claimed_at[pk]
        for pk, sent in Message.objects.filter(sent_at__isnull=False).values_list("pk", "sent_at")
        if pk in claimed_at
    )
    stats = peer.stats()
    peer.stop()
    states = dict(Message.objects.order_by().values_list("state").annotate(n=Count("id")))
    return {
        "messages": count,
        "binds": binds,
        "window": window,
        "seconds": last - first,
        "wall_seconds": elapsed,
        "p50": latencies[len(latencies) // 2] if latencies else None,
        "p99": latencies[int(len(latencies) * 0.99) - 1] if latencies else None,
        "states": states,
        "peer_submits": stats["submits"],
        "peer_receipts": stats["deliver_sm_sent"],
        "first_claim": Message.objects.aggregate(first=Min("sent_at"))["first"] is not None,
    }


def report(result: dict) -> None:
    rate = result["messages"] / result["seconds"] if result["seconds"] else 0
    print(f"smpp: {result['messages']:,} messages, {result['binds']} binds, window {result['window']}")
    print(f"  submits/s: {rate:,.0f} (first claim to last answer recorded: {result['seconds']:.1f} s; target 1,000)")
    print(f"  claim -> answer recorded: p50 {result['p50'] * 1000:.0f} ms, p99 {result['p99'] * 1000:.0f} ms")
    print(f"  final states: {result['states']}")
    settled = sum(result["states"].get(s, 0) for s in ("sent", "delivered", "undelivered", "expired", "rejected"))
    print(f"  accounted for: {settled:,} of {result['messages']:,}; peer saw {result['peer_submits']:,} submits")
    print(f"  and sent {result['peer_receipts']:,} receipts (submits == messages: nothing went twice)")


if __name__ == "__main__":
    main()
