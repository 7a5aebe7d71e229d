"""Benchmark: Verify sends per second and check latency, through the API, beside a plain one-number send.

One account with an approved sender, an approved SI template with {{code}}, prices and a large balance; its
Verify limits are lifted so the figures measure the work, not the limiter. `WORKERS` processes (as many web
workers) each drive the API in-process (DRF's test client: routing, auth, throttling, serializers, envelope; no
socket) with their own database connection:
- baseline: POST /sms/send of one number (the same outbox write a code's SMS makes);
- sends: POST /verify (number checks, limits, lock, HMAC, sealing, the message, the audit row, the event);
- checks: GET /verify/{id}/{code}, one wrong code then the right one, timed one by one (p50/p99).
Targets (issue 17, PostgreSQL): >= 500 sends/s and p99 check < 20 ms.

    .venv/bin/python bench/verify.py                  # PostgreSQL + Redis (BENCH_POSTGRES_URL, BENCH_REDIS_URL)
    .venv/bin/python bench/verify.py --db sqlite      # SQLite, one worker
    .venv/bin/python bench/verify.py --sends 4000
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")
BENCH_DB = "bench_verify"


def configure(db: str, var_dir: str) -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        VAR_DIR=var_dir,
        DEBUG="0",
        ALLOWED_HOSTS="testserver",
        SECURE_SSL_REDIRECT="0",
        LOG_LEVEL="WARNING",
        API_READ_RATE_PER_MINUTE="100000000",
        API_WRITE_RATE_PER_SECOND="100000000",
        VERIFY_CHECKS_PER_TOKEN_PER_MINUTE="100000000",
    )
    if db == "postgres":
        import psycopg

        with psycopg.connect(f"{POSTGRES_URL}/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {BENCH_DB}")
        os.environ.update(DATABASE_URL=f"{POSTGRES_URL}/{BENCH_DB}", CACHE_URL=REDIS_URL, CELERY_BROKER_URL=REDIS_URL)
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


def set_up() -> str:
    """The account, its sender, template, prices and lifted limits; returns a raw API token."""
    from decimal import Decimal

    from django.contrib.auth import get_user_model

    from campaigns.models import Price, Sender, SenderStatus, Template, TemplateStatus, VerifySettings
    from portal.accounts import add_member, create_account
    from portal.roles import Role
    from portal.tokens import issue_token

    account = create_account("Bench Verify", default_country="IN", balance=Decimal("1000000"))
    user = get_user_model().objects.create_user(username="bench@verify.example", email="bench@verify.example")
    add_member(account, user, Role.ADMIN)
    sender = Sender.objects.create(
        account=account, name="BENCHV", country_code="IN", service="ENT", status=SenderStatus.APPROVED
    )
    template = Template.objects.create(
        account=account,
        sender=sender,
        name="Bench code",
        alias="bench-code",
        body="{{code}} is your Bench code. It expires in {{minutes}} minutes.",
        template_type="SI",
        status=TemplateStatus.APPROVED,
    )
    Template.objects.create(
        account=account,
        sender=sender,
        name="Bench plain",
        alias="bench-plain",
        body="Your Bench order {{order}} has shipped.",
        template_type="SI",
        status=TemplateStatus.APPROVED,
    )
    Price.objects.create(country="IN", service="ENT", price=Decimal("0.01"))
    VerifySettings.objects.create(
        account=account,
        sender=sender,
        template=template,
        sends_per_number_per_hour=1000,
        sends_per_account_per_minute=10**9,
        prefix_limit=10**9,
    )
    return issue_token(account, user, "bench").raw


def client_for(token: str):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def numbers(worker: int, count: int, offset: int) -> list[str]:
    """Distinct Indian mobiles spread over many 6-digit prefixes."""
    return [f"+919{(worker * 7 + offset + i) % 90 + 10:02d}{worker:01d}{i + offset:06d}" for i in range(count)]


def drive(kind: str, token: str, worker: int, count: int, queue) -> None:
    import django

    django.setup()
    client = client_for(token)
    started = time.perf_counter()
    if kind == "plain":
        for number in numbers(worker, count, 500_000):
            body = {"alias": "bench-plain", "to": number, "data": {"order": "A1"}}
            response = client.post("/api/v2/sms/send/template", body, format="json")
            assert response.status_code == 201, response.content[:300]
    else:
        for number in numbers(worker, count, 0):
            response = client.post("/api/v2/verify", {"payload": {"to": number}}, format="json")
            assert response.status_code == 201, response.content[:300]
    queue.put(time.perf_counter() - started)


def in_parallel(kind: str, token: str, total: int, workers: int) -> float:
    """Requests per second of `workers` processes sharing `total` requests."""
    context = multiprocessing.get_context("spawn")  # a forked child would share the parent's pooled connections
    queue = context.Queue()
    share = total // workers
    started = time.perf_counter()
    processes = [context.Process(target=drive, args=(kind, token, w, share, queue)) for w in range(workers)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
        if process.exitcode:
            raise SystemExit(f"a {kind} worker failed")
    return share * workers / (time.perf_counter() - started)


def check_latencies(token: str, count: int) -> list[float]:
    """Milliseconds of each check (a wrong code, then the right one) of `count` live requests."""
    from campaigns.models import Message, Verification

    client = client_for(token)
    timings = []
    for verification in Verification.objects.filter(status="sent").order_by("pk")[:count]:
        message = Message.objects.filter(meta__verify_id=str(verification.uid)).first()
        code = re.match(r"\d+", message.outgoing_text()).group(0)
        wrong = "0" * len(code) if code != "0" * len(code) else "1" * len(code)
        for attempt, expected in ((wrong, "invalid"), (code, "success")):
            started = time.perf_counter()
            response = client.get(f"/api/v2/verify/{verification.uid}/{attempt}")
            timings.append((time.perf_counter() - started) * 1000)
            assert response.json()["data"]["status"] == expected, response.content[:300]
    return timings


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run(db: str, sends: int, checks: int, workers: int) -> None:
    import django

    with tempfile.TemporaryDirectory(prefix="bench-verify-") as var_dir:
        configure(db, var_dir)
        django.setup()
        from django.core.cache import cache
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        cache.clear()
        token = set_up()
        try:
            plain = in_parallel("plain", token, sends, workers)
            verify = in_parallel("verify", token, sends, workers)
            timings = check_latencies(token, checks)
        finally:
            drop_database(db)
    print(f"Verify on {db}, {workers} worker processes, {sends} requests each kind, in-process API client:")
    print(f"  baseline POST /sms/send/template (one number): {plain:,.0f} req/s")
    ratio = plain / verify
    print(f"  POST /verify:                                  {verify:,.0f} sends/s  ({ratio:.2f}x the baseline)")
    print(
        f"  GET /verify/{{id}}/{{code}} ({len(timings)} checks): p50 {statistics.median(timings):.1f} ms, "
        f"p99 {percentile(timings, 0.99):.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--sends", type=int, default=2000)
    parser.add_argument("--checks", type=int, default=500)
    parser.add_argument("--workers", type=int, default=None, help="default: 2 on PostgreSQL, 1 on SQLite")
    args = parser.parse_args()
    workers = args.workers or (2 if args.db == "postgres" else 1)
    run(args.db, args.sends, args.checks, workers)


if __name__ == "__main__":
    main()
