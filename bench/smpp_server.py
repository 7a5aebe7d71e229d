"""Benchmark: the SMPP gateway for customers. 2 client binds push N submits (default 100,000) into
`manage.py smpp_server` on PostgreSQL; client and server share this machine's 2 cores.

The database `bench_smpp_server` on BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432) is created
and dropped here. A child process migrates it, creates an account (approved sender, price, balance) and an SMPP
credential, starts the server as its own process, and runs the client: an asyncio ESME sending pre-encoded
submit_sm frames (the codec's work done before the clock starts, so the client costs little of the CPU the server
needs), each bind keeping `--window` submits unanswered.

Printed: accepted submits/s (from the first submit to the last answer), p50/p99 submit → submit_sm_resp, every
answer's command_status, and the messages stored (they must equal the accepted submits). Targets: >= 1,000
submits/s and p99 < 50 ms. `--texts N` spreads the submits over N distinct texts (default 1: a bulk send; each
distinct text in a batch is one more send of the sending core).

    .venv/bin/python bench/smpp_server.py [--messages 100000] [--binds 2] [--window 20] [--texts 1]
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
# bench/smpp.py would shadow the `smpp` package (the SMPP codec) from this folder
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
BENCH_DB = "bench_smpp_server"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--binds", type=int, default=2)
    parser.add_argument("--window", type=int, default=20)
    parser.add_argument("--texts", type=int, default=1)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_child(args)), flush=True)
        return
    psql("DROP DATABASE IF EXISTS " + BENCH_DB, "CREATE DATABASE " + BENCH_DB)
    try:
        command = [sys.executable, __file__, "--child", "--messages", str(args.messages), "--binds", str(args.binds)]
        command += ["--window", str(args.window), "--texts", str(args.texts)]
        done = subprocess.run(command, env=bench_env(), cwd=ROOT, capture_output=True, text=True, check=False)
    finally:
        psql("DROP DATABASE IF EXISTS " + BENCH_DB)
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-5000:])
        raise SystemExit("smpp_server benchmark failed")
    report(json.loads(done.stdout.strip().splitlines()[-1]))


def bench_env() -> dict:
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="portal.settings", DATABASE_URL=f"{POSTGRES_URL}/{BENCH_DB}")
    env.update(SECURE_SSL_REDIRECT="0", DEBUG="0", CELERY_TASK_ALWAYS_EAGER="0", LOG_LEVEL="WARNING")
    return env


def psql(*statements: str) -> None:
    command = ["psql", f"{POSTGRES_URL}/postgres", "-q"]
    for statement in statements:
        command += ["-c", statement]
    subprocess.run(command, check=True, capture_output=True)


def run_child(args) -> dict:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    password = seed_account()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "smpp_server", "--port", "0"],
        cwd=ROOT,
        env=bench_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        port = int(server.stdout.readline().split("port(s)")[1].split(",")[0])
        frames = encode_submits(args.messages, args.texts)
        result = run_clients(port, password, frames, args.binds, args.window)
    finally:
        server.terminate()
        server.wait(30)
    from campaigns.models import Message

    result["stored"] = Message.objects.count()
    return result


def seed_account() -> str:
    from decimal import Decimal

    from campaigns.models import Price, Sender, SenderStatus
    from campaigns.smpp_gateway.credentials import issue_credential
    from portal.accounts import create_account

    account = create_account("Bench Retail", default_country="GB", time_zone="Europe/London")
    account.balance = Decimal("1000000")
    account.save()
    Sender.objects.create(account=account, name="BENCH", country_code="GB", service="MKT", status=SenderStatus.APPROVED)
    Price.objects.create(country="GB", service="MKT", price=Decimal("0.01"))
    issued = issue_credential(account, system_id="bench", bind_limit=10, throughput=1000, window=100)
    issued.credential.throughput = 1_000_000  # the bench measures the server, not the account's cap
    issued.credential.save(update_fields=["throughput"])
    return issued.password


def encode_submits(count: int, texts: int) -> list[bytes]:
    from smpp.pdu import operations as op
    from smpp.pdu import pdu_types as t

    from campaigns.connectors.smpp import pdus

    frames = []
    for n in range(count):
        pdu = op.SubmitSM(
            seqNum=1,
            source_addr_ton=t.AddrTon.ALPHANUMERIC,
            source_addr=b"BENCH",
            dest_addr_ton=t.AddrTon.INTERNATIONAL,
            dest_addr_npi=t.AddrNpi.ISDN,
            destination_addr=f"4479{n:08d}".encode(),
            short_message=f"Your Bench order is ready ({n % texts})".encode(),
            registered_delivery=t.RegisteredDelivery(t.RegisteredDeliveryReceipt.SMSC_DELIVERY_RECEIPT_REQUESTED),
        )
        frame = pdus.encode(pdu)
        frames.append((frame[:12], frame[16:]))  # the header without its sequence number, and the body
    return frames


def run_clients(port: int, password: str, frames: list, binds: int, window: int) -> dict:
    import asyncio

    async def main() -> dict:
        shares = [frames[i::binds] for i in range(binds)]
        results = await asyncio.gather(*(one_bind(port, password, share, window) for share in shares))
        latencies = sorted(latency for result in results for latency in result["latencies"])
        statuses: dict[str, int] = {}
        for result in results:
            for status, count in result["statuses"].items():
                statuses[status] = statuses.get(status, 0) + count
        start = min(result["start"] for result in results)
        end = max(result["end"] for result in results)
        return {
            "submits": len(frames),
            "accepted": statuses.get("0x00000000", 0),
            "seconds": end - start,
            "statuses": statuses,
            "p50_ms": 1000 * latencies[len(latencies) // 2],
            "p99_ms": 1000 * latencies[int(len(latencies) * 0.99)],
        }

    return asyncio.run(main())


async def one_bind(port: int, password: str, frames: list, window: int) -> dict:
    import asyncio
    import struct

    from smpp.pdu import operations as op

    from campaigns.connectors.smpp import pdus

    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    bind = op.BindTransmitter(seqNum=1, system_id=b"bench", password=password.encode(), system_type=b"smpp")
    writer.write(pdus.encode(bind))
    header = await reader.readexactly(16)
    await reader.readexactly(struct.unpack(">L", header[:4])[0] - 16)
    if struct.unpack(">L", header[8:12])[0] != 0:
        raise SystemExit("bind refused")
    sent_at: dict[int, float] = {}
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    slots = asyncio.Semaphore(window)
    done = asyncio.Event()

    async def read_answers() -> None:
        while len(latencies) < len(frames):
            head = await reader.readexactly(16)
            length, command, status, sequence = struct.unpack(">LLLL", head)
            if length > 16:
                await reader.readexactly(length - 16)
            if command != 0x80000004:
                continue
            latencies.append(time.perf_counter() - sent_at.pop(sequence))
            key = f"0x{status:08X}"
            statuses[key] = statuses.get(key, 0) + 1
            slots.release()
        done.set()

    answers = asyncio.create_task(read_answers())
    start = time.perf_counter()
    for sequence, (head, body) in enumerate(frames, start=2):
        await slots.acquire()
        sent_at[sequence] = time.perf_counter()
        writer.write(head + struct.pack(">L", sequence) + body)
    await done.wait()
    end = time.perf_counter()
    await answers
    writer.close()
    return {"latencies": latencies, "statuses": statuses, "start": start, "end": end}


def report(result: dict) -> None:
    rate = result["accepted"] / result["seconds"] if result["seconds"] else 0.0
    print(f"submits: {result['submits']:,} over 2 binds; answers by command_status: {result['statuses']}")
    print(f"accepted: {result['accepted']:,} in {result['seconds']:.1f} s = {rate:,.0f} submits/s (target >= 1,000)")
    print(f"submit -> submit_sm_resp: p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms (target p99 < 50)")
    print(f"messages stored: {result['stored']:,} (must equal the accepted submits)")
    if result["stored"] != result["accepted"]:
        raise SystemExit("stored messages differ from accepted submits")


if __name__ == "__main__":
    main()
