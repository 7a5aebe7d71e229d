"""Benchmark: prepare a campaign to 1,000,000 contacts and dispatch it through the simulator, on PostgreSQL.

Seeds one account with N contacts (default 1,000,000, COPY), all tagged `everyone` (INSERT … SELECT), and N/100
opt-outs of type `all`, then VACUUM ANALYZE. The database `bench_campaign` on BENCH_POSTGRES_URL (default
postgres://postgres@127.0.0.1:5432) is created and dropped here.

Stages, each printed as messages/s:
- prepare: `start_campaign` (audience query, de-duplication, opt-outs, render with a contact field and an
  attribute, encoding, price, Message rows via COPY + INSERT … ON CONFLICT);
- dispatch: 2 worker processes run the outbox loop (`campaigns.sending.outbox.run_outbox`, what the Celery task
  `campaigns.dispatch_outbox` runs): claim with SKIP LOCKED, debit the balance, send through the simulator,
  record `sent` and emit `sms:message:status` per message. Time-boxed by --dispatch-seconds (default 120;
  0 runs until every message is out);
- reports: the simulator's delivery reports applied by 2 processes (time-boxed the same way).
Targets: prepare >= 20,000 messages/s, dispatch >= 2,000 messages/s. With --track-links the template carries a
URL and the campaign tracks links: each message gets its own short URL (a ShortLink row written with it).
BENCH_CAMPAIGN_DB names the database (two runs at once need two names).

    .venv/bin/python bench/campaign.py                              # 1M contacts, dispatch for 120 s
    .venv/bin/python bench/campaign.py --contacts 200000 --dispatch-seconds 0
    .venv/bin/python bench/campaign.py --contacts 200000 --dispatch-seconds 1 --track-links
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
BENCH_DB = os.environ.get("BENCH_CAMPAIGN_DB", "bench_campaign")
WORKERS = 2
CONTACT_COLUMNS = ["account_id", "uid", "created_at", "updated_at", "identity", "phone", "country", "number_type"]
CONTACT_COLUMNS += ["phone_valid", "email", "first_name", "last_name", "gender", "postal_code", "company", "attributes"]
FIRST = ["Asha", "Ravi", "Meera", "Arjun", "Priya", "Karan", "Sneha", "Vikram"]
CITIES = ["Pune", "Mumbai", "Delhi", "Chennai", "Kolkata"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--dispatch-seconds", type=float, default=120, help="Stop each stage after this (0: finish).")
    parser.add_argument("--track-links", action="store_true", help="A URL in the text, shortened per recipient.")
    parser.add_argument("--child", choices=["main", "dispatch", "reports"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "main":
        print(json.dumps(run_main(args.contacts, args.dispatch_seconds, args.track_links)), flush=True)
        return
    if args.child in ("dispatch", "reports"):
        print(json.dumps(run_worker(args.child, args.dispatch_seconds)), flush=True)
        return
    recreate_database()
    try:
        command = [sys.executable, __file__, "--child", "main", "--contacts", str(args.contacts)]
        command += ["--dispatch-seconds", str(args.dispatch_seconds)] + (["--track-links"] if args.track_links else [])
        done = subprocess.run(command, env=child_env(), cwd=ROOT, capture_output=True, text=True, check=False)
    finally:
        drop_database()
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-5000:])
        raise SystemExit("campaign benchmark failed")
    report(args.contacts, json.loads(done.stdout.strip().splitlines()[-1]))


def child_env() -> dict:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        DATABASE_URL=f"{POSTGRES_URL}/{BENCH_DB}",
        SECURE_SSL_REDIRECT="0",
        DEBUG="0",
        SMS_SIMULATOR_DLR_DELAY_SECONDS="0",
        SMS_OUTBOX_TASK_SECONDS="100000",
        SMS_INDIA_PROMOTIONAL_HOLD="0",
        CELERY_TASK_ALWAYS_EAGER="0",
    )
    return env


def recreate_database() -> None:
    import psycopg

    with psycopg.connect(f"{POSTGRES_URL}/postgres", autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {BENCH_DB}")


def drop_database() -> None:
    import psycopg

    with psycopg.connect(f"{POSTGRES_URL}/postgres", autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")


def report(contacts: int, result: dict) -> None:
    print(f"== PostgreSQL: {contacts:,} contacts, {result['opt_outs']:,} opt-outs (seeded in {result['seed_s']:.1f} s)")
    print(
        f"   prepare:  {result['messages']:,} messages in {result['prepare_s']:.1f} s = "
        f"{result['messages'] / result['prepare_s']:,.0f} messages/s (target >= 20,000); "
        f"{result['suppressed']:,} opted out; {result['short_links']:,} short links"
    )
    print(
        f"   dispatch: {result['dispatched']:,} messages in {result['dispatch_s']:.1f} s with {WORKERS} workers = "
        f"{result['dispatched'] / result['dispatch_s']:,.0f} messages/s (target >= 2,000)"
    )
    print(
        f"   reports:  {result['reported']:,} delivery reports in {result['reports_s']:.1f} s with {WORKERS} workers = "
        f"{result['reported'] / max(result['reports_s'], 0.001):,.0f} reports/s"
    )
    print(f"   balance after: {result['balance']} (never negative)")


# --- child processes -------------------------------------------------------------------------------------


def run_main(contacts: int, seconds: float, track_links: bool = False) -> dict:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    account, campaign = create_fixtures(track_links)
    started = time.perf_counter()
    opt_outs = contacts // 100
    seed(account, contacts, opt_outs)
    seed_s = time.perf_counter() - started

    from campaigns.models import Campaign, Message, ShortLink, SimulatorSubmission
    from campaigns.sending.lifecycle import schedule_campaign, start_campaign
    from portal.models import Account

    schedule_campaign(campaign)
    started = time.perf_counter()
    start_campaign(campaign.pk)
    prepare_s = time.perf_counter() - started
    campaign.refresh_from_db()
    short_links = ShortLink.objects.count()
    connection.close()

    dispatch_s = run_workers("dispatch", seconds)
    dispatched = Message.objects.filter(campaign=campaign).exclude(state="queued").count()
    reports_s = run_workers("reports", seconds)
    reported = SimulatorSubmission.objects.filter(reported_at__isnull=False).count()
    campaign = Campaign.objects.get(pk=campaign.pk)
    return {
        "seed_s": seed_s,
        "opt_outs": opt_outs,
        "messages": campaign.recipients_count,
        "short_links": short_links,
        "suppressed": campaign.suppressed_count,
        "prepare_s": prepare_s,
        "dispatched": dispatched,
        "dispatch_s": dispatch_s,
        "reported": reported,
        "reports_s": reports_s,
        "balance": str(Account.objects.get(pk=account.pk).balance),
    }


def run_workers(stage: str, seconds: float) -> float:
    command = [sys.executable, __file__, "--child", stage, "--dispatch-seconds", str(seconds)]
    started = time.perf_counter()
    workers = [subprocess.Popen(command, env=child_env(), cwd=ROOT, stdout=subprocess.PIPE) for _ in range(WORKERS)]
    for worker in workers:
        worker.wait()
    return time.perf_counter() - started


def run_worker(stage: str, seconds: float) -> dict:
    import django

    django.setup()
    from campaigns.sending.outbox import run_outbox
    from campaigns.sending.reports import ingest_all_due_receipts

    budget = seconds or 100_000
    handled = run_outbox(seconds=budget) if stage == "dispatch" else ingest_all_due_receipts(seconds=budget)
    return {"handled": handled}


def create_fixtures(track_links: bool = False):
    from decimal import Decimal

    from campaigns.models import Campaign, Connector, Price, Sender, SenderStatus, Template, TemplateStatus
    from campaigns.routing import set_catch_all
    from contacts.models import Tag
    from portal.accounts import create_account

    account = create_account("Bench", default_country="IN", time_zone="Asia/Kolkata", balance=Decimal("1000000"))
    set_catch_all(Connector.objects.create(name="Simulator", kind="simulator"))
    Price.objects.create(country="IN", service="ENT", price=Decimal("0.002"))
    sender = Sender.objects.create(
        account=account, name="BENCHM", country_code="IN", service="ENT", status=SenderStatus.APPROVED
    )
    template = Template.objects.create(
        account=account,
        sender=sender,
        name="Order",
        alias="order",
        body="Dear {{name}}, your Bench order from {{city}} is on its way."
        + (" Track it: https://bench.example.com/track" if track_links else ""),
        template_type="SI",
        status=TemplateStatus.APPROVED,
    )
    Tag.objects.create(account=account, name="everyone")
    campaign = Campaign.objects.create(
        account=account,
        name="Bench",
        sender=sender,
        template=template,
        audience={"tags": ["everyone"]},
        variable_mapping={"name": {"source": "first_name"}, "city": {"source": "attributes.city", "default": "x"}},
        track_links=track_links,
    )
    return account, campaign


def seed(account, contacts: int, opt_outs: int) -> None:
    from django.db import connection, transaction

    from contacts.models import Tag

    tag = Tag.objects.get(account=account, name="everyone")
    stamp = datetime(2026, 1, 1, tzinfo=UTC).isoformat()
    with transaction.atomic(), connection.cursor() as cursor:
        columns = ", ".join(CONTACT_COLUMNS)
        with cursor.cursor.copy(f"COPY contacts_contact ({columns}) FROM STDIN") as copy:
            for n in range(contacts):
                copy.write_row(
                    (
                        account.pk,
                        str(uuid.UUID(int=n + 1, version=4)),
                        stamp,
                        stamp,
                        f"c{n:08d}",
                        f"+919{n:09d}",
                        "IN",
                        "mobile",
                        True,
                        "",
                        FIRST[n % len(FIRST)],
                        "",
                        "",
                        "",
                        "",
                        json.dumps({"city": CITIES[n % len(CITIES)]}),
                    )
                )
        cursor.execute(
            "INSERT INTO contacts_contacttag (contact_id, tag_id) SELECT id, %s FROM contacts_contact "
            "WHERE account_id = %s",
            [tag.pk, account.pk],
        )
        columns = "account_id, uid, created_at, updated_at, receiver, country, type, value, source"
        step = max(contacts // max(opt_outs, 1), 1)
        with cursor.cursor.copy(f"COPY contacts_unsubscriber ({columns}) FROM STDIN") as copy:
            for index in range(opt_outs):
                uid = str(uuid.UUID(int=10**12 + index, version=4))
                copy.write_row((account.pk, uid, stamp, stamp, f"+919{index * step:09d}", "IN", "all", "", "import"))
    with connection.cursor() as cursor:
        # A settled database, as a real account's would be: otherwise autovacuum takes up the freshly loaded
        # tables at a random moment of the measured stages.
        cursor.execute("VACUUM ANALYZE")


if __name__ == "__main__":
    main()
