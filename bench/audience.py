"""Benchmark: audience resolution and the contact list at 1,000,000 contacts, on PostgreSQL and SQLite.

Seeds one account with N contacts (default 1,000,000), about 2 tags each among 50 (~1.96 links per contact),
every contact in one of 20 groups, and 50,000 opt-outs (type `all`; N/20 when N is smaller). PostgreSQL loads
contacts and opt-outs with COPY and the link tables with `INSERT … SELECT`; SQLite with `executemany` and the
same `INSERT … SELECT`; then VACUUM ANALYZE (PostgreSQL) / ANALYZE (SQLite). Each database runs in its own
process. PostgreSQL uses the database `bench_audience` on BENCH_POSTGRES_URL (default
postgres://postgres@127.0.0.1:5432), created and dropped here; SQLite a temporary file.

Prints, per database: seeding time, then the median of 5 runs (after one warm-up) of
- count: `resolve_audience(segment=any of 2 tags, none of 1, exclude_suppressed=True).count()`;
- stream: every member's phone of that audience through `contacts.audience.iter_members` (keyset chunks of 5,000);
- list page: GET /contacts/?tag=<uid> (first page of the filtered contact list, full request through Django);
- list page (segment): GET /contacts/?segment=<uid>.
Targets on PostgreSQL: count under 500 ms, first page of the filtered list under 150 ms.

    .venv/bin/python bench/audience.py                          # 1M contacts, PostgreSQL then SQLite
    .venv/bin/python bench/audience.py --contacts 200000 --db sqlite
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
BENCH_DB = "bench_audience"
TAGS = 50
GROUPS = 20
OPT_OUTS = 50_000
RUNS = 5
CONTACT_COLUMNS = [
    "account_id",
    "uid",
    "created_at",
    "updated_at",
    "identity",
    "phone",
    "country",
    "number_type",
    "phone_valid",
    "email",
    "first_name",
    "last_name",
    "gender",
    "postal_code",
    "company",
    "attributes",
]
FIRST = ["Asha", "Ravi", "Meera", "Arjun", "Priya", "Karan", "Sneha", "Vikram"]
LAST = ["Rao", "Iyer", "Patel", "Singh", "Nair", "Das", "Khan"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--db", choices=["postgres", "sqlite", "both"], default="both")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_child(args.db, args.contacts)), flush=True)
        return
    for db in ["postgres", "sqlite"] if args.db == "both" else [args.db]:
        report(db, args.contacts, run_in_process(db, args.contacts))


def run_in_process(db: str, contacts: int) -> dict:
    """Run one database's benchmark in a fresh process (own settings, no shared caches)."""
    with tempfile.TemporaryDirectory(prefix="bench-audience-") as workdir:
        env = dict(os.environ)
        env.update(
            DJANGO_SETTINGS_MODULE="portal.settings",
            SECURE_SSL_REDIRECT="0",
            SECURE_COOKIES="0",
            ALLOWED_HOSTS="testserver,127.0.0.1,localhost",
            VAR_DIR=workdir,
            DEBUG="0",
        )
        env.pop("CACHE_URL", None)
        if db == "postgres":
            recreate_postgres_database()
            env["DATABASE_URL"] = f"{POSTGRES_URL}/{BENCH_DB}"
        else:
            env["DATABASE_URL"] = f"sqlite:///{workdir}/bench.sqlite3"
        try:
            command = [sys.executable, __file__, "--child", "--db", db, "--contacts", str(contacts)]
            done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
        finally:
            if db == "postgres":
                drop_postgres_database()
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"{db} benchmark failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


def recreate_postgres_database() -> None:
    import psycopg

    with psycopg.connect(f"{POSTGRES_URL}/postgres", autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {BENCH_DB}")


def drop_postgres_database() -> None:
    import psycopg

    with psycopg.connect(f"{POSTGRES_URL}/postgres", autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")


def report(db: str, contacts: int, result: dict) -> None:
    print(f"== {db}: {contacts:,} contacts, {result['tag_links']:,} tag links, {result['opt_outs']:,} opt-outs")
    print(f"   seed: {result['seed_s']:.1f} s ({contacts / result['seed_s']:,.0f} contacts/s incl. links)")
    print(f"   segment (any of 2 tags, none of 1, minus opt-outs): {result['members']:,} members")
    print(f"   count:               {result['count_ms']:8.1f} ms  (target on PostgreSQL < 500 ms)")
    print(f"   stream all members:  {result['stream_ms']:8.1f} ms  ({result['stream_rate']:,.0f} rows/s)")
    print(f"   list page, tag:      {result['list_tag_ms']:8.1f} ms  (target on PostgreSQL < 150 ms)")
    print(f"   list page, segment:  {result['list_segment_ms']:8.1f} ms")
    print(f"   list page, no filter:{result['list_all_ms']:8.1f} ms")


# --- child process ----------------------------------------------------------------------------------------


def run_child(db: str, contacts: int) -> dict:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    account, user, tags, groups = create_account()
    started = time.perf_counter()
    opt_outs = min(OPT_OUTS, contacts // 20)
    seed(db, account, contacts, tags, groups, opt_outs)
    seed_s = time.perf_counter() - started
    return {"seed_s": seed_s, "opt_outs": opt_outs, **measure(account, user, tags)}


def create_account():
    from contacts.models import Group, Tag
    from portal.accounts import add_member, create_account
    from portal.roles import Role
    from tests.conftest import make_user

    account = create_account("Bench", default_country="IN", time_zone="Asia/Kolkata")
    user = make_user("bench@example.com")
    add_member(account, user, Role.MARKETER)
    tags = Tag.objects.bulk_create(Tag(account=account, name=f"tag-{n:02d}") for n in range(TAGS))
    groups = Group.objects.bulk_create(Group(account=account, name=f"group-{n:02d}") for n in range(GROUPS))
    return account, user, tags, groups


def contact_rows(account_id: int, count: int, *, postgres: bool):
    """Contact rows in CONTACT_COLUMNS order (created one second apart, newest last)."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(count):
        created = start + timedelta(seconds=n)
        stamp = created.isoformat() if postgres else created.strftime("%Y-%m-%d %H:%M:%S.%f")
        uid = uuid.UUID(int=n + 1, version=4)
        yield (
            account_id,
            str(uid) if postgres else uid.hex,
            stamp,
            stamp,
            f"c{n:08d}",
            f"+919{n:09d}",
            "IN",
            "mobile",
            True,
            f"user{n}@example.com" if n % 3 else "",
            FIRST[n % len(FIRST)],
            LAST[n % len(LAST)],
            "",
            "",
            "",
            json.dumps({"city": "Pune" if n % 2 else "Mumbai"}),
        )


def seed(db: str, account, contacts: int, tags, groups, opt_outs: int) -> None:
    from django.db import connection, transaction

    postgres = connection.vendor == "postgresql"
    with transaction.atomic(), connection.cursor() as cursor:
        if postgres:
            copy_rows(cursor, "contacts_contact", CONTACT_COLUMNS, contact_rows(account.pk, contacts, postgres=True))
        else:
            insert_rows(cursor, "contacts_contact", CONTACT_COLUMNS, contact_rows(account.pk, contacts, postgres=False))
        link_tags_and_groups(cursor, account, tags, groups)
        rows = unsubscriber_rows(account.pk, contacts, opt_outs, postgres=postgres)
        columns = ["account_id", "uid", "created_at", "updated_at", "receiver", "country", "type", "value", "source"]
        (copy_rows if postgres else insert_rows)(cursor, "contacts_unsubscriber", columns, rows)
    with connection.cursor() as cursor:
        # Steady state: statistics, and on PostgreSQL the visibility map autovacuum would set (index-only scans).
        cursor.execute("VACUUM ANALYZE" if postgres else "ANALYZE")


def link_tags_and_groups(cursor, account, tags, groups) -> None:
    """~2 distinct tags per contact (ids from two strides over the 50 tags) and one group each, set-based."""
    first_tag, first_group = tags[0].pk, groups[0].pk
    assert tags[-1].pk - first_tag == TAGS - 1 and groups[-1].pk - first_group == GROUPS - 1
    cursor.execute(
        "INSERT INTO contacts_contacttag (contact_id, tag_id) "
        f"SELECT id, {first_tag} + (id * 7) %% {TAGS} FROM contacts_contact WHERE account_id = %s",
        [account.pk],
    )
    cursor.execute(
        "INSERT INTO contacts_contacttag (contact_id, tag_id) "
        f"SELECT id, {first_tag} + (id * 13 + 3) %% {TAGS} FROM contacts_contact "
        f"WHERE account_id = %s AND (id * 13 + 3) %% {TAGS} <> (id * 7) %% {TAGS} AND id %% 25 <> 0",
        [account.pk],
    )
    cursor.execute(
        "INSERT INTO contacts_groupmember (contact_id, group_id) "
        f"SELECT id, {first_group} + id %% {GROUPS} FROM contacts_contact WHERE account_id = %s",
        [account.pk],
    )


def unsubscriber_rows(account_id: int, contacts: int, count: int, *, postgres: bool):
    step = max(contacts // max(count, 1), 1)
    stamp = datetime(2026, 6, 1, tzinfo=UTC)
    text = stamp.isoformat() if postgres else stamp.strftime("%Y-%m-%d %H:%M:%S.%f")
    for index in range(count):
        uid = uuid.UUID(int=10**12 + index, version=4)
        yield (
            account_id,
            str(uid) if postgres else uid.hex,
            text,
            text,
            f"+919{index * step:09d}",
            "IN",
            "all",
            "",
            "import",
        )


def copy_rows(cursor, table: str, columns: list[str], rows) -> None:
    with cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def insert_rows(cursor, table: str, columns: list[str], rows, batch: int = 20_000) -> None:
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= batch:
            cursor.executemany(sql, chunk)
            chunk.clear()
    if chunk:
        cursor.executemany(sql, chunk)


def median_ms(action, runs: int = RUNS) -> float:
    action()
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def measure(account, user, tags) -> dict:
    from django.test import Client

    from contacts.audience import iter_members, resolve_audience
    from contacts.models import ContactTag
    from contacts.services import save_segment

    segment = save_segment(
        account,
        user,
        name="Bench segment",
        positive_tags=[tags[0], tags[1]],
        positive_tags_operator="any",
        negative_tags=[tags[2]],
        negative_tags_operator="any",
    )
    audience = resolve_audience(account, segments=[segment], exclude_suppressed=True)
    members = audience.count()
    streamed = {}

    def stream() -> None:
        streamed["rows"] = sum(1 for _ in iter_members(audience, chunk_size=5000, fields=("phone",)))

    client = Client()
    client.force_login(user)

    def page(query: str):
        def get() -> None:
            response = client.get(f"/contacts/{query}")
            assert response.status_code == 200, response.status_code

        return get

    result = {
        "tag_links": ContactTag.objects.count(),
        "members": members,
        "count_ms": median_ms(audience.count),
        "stream_ms": median_ms(stream, runs=3),
        "list_tag_ms": median_ms(page(f"?tag={tags[0].uid}")),
        "list_segment_ms": median_ms(page(f"?segment={segment.uid}")),
        "list_all_ms": median_ms(page("")),
    }
    result["stream_rate"] = streamed["rows"] / (result["stream_ms"] / 1000)
    return result


if __name__ == "__main__":
    main()
