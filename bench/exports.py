"""Benchmark: export 1,000,000 messages of the message log from PostgreSQL to CSV and to XLSX.

The database `bench_exports` on BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432) is created,
migrated and filled here (one INSERT … SELECT over generate_series: mixed states, error codes, texts, custom ids,
an account with `mobile_secure` off and `hide_msg` off, so every column is written), then dropped. Each export
runs in a fresh process through `portal.exports.services.create_export`, its job run eagerly (the code the worker
runs); the wall time and the peak resident memory (ru_maxrss, the whole process) are printed with the rows/s and
the file size.
Targets: ≤ 30 s and < 300 MB per export.

    .venv/bin/python bench/exports.py                          # 1M messages, csv and xlsx
    .venv/bin/python bench/exports.py --rows 100000 --formats csv
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
BENCH_DB = "bench_exports"
TARGET_SECONDS, TARGET_MB = 30, 300

# Columns of the generated messages (SQL over n = 1…rows); every other column takes the model's default.
GENERATED = {
    "uid": "gen_random_uuid()",
    "group_id": "gen_random_uuid()",
    "recipient": "'+9198' || lpad(n::text, 8, '0')",
    "country": "'IN'",
    "sender_name": "'DEMOMT'",
    "service": "'ENT'",
    "body": "'Your order ' || n || ' has shipped. Track it at https://demo.example/t/' || n",
    "custom_id": "'order-' || n",
    "cost": "0.12",
    "price": "0.12",
    "units": "1",
    "state": "(ARRAY['delivered','delivered','delivered','sent','failed','undelivered'])[1 + n %% 6]",
    "error_code": "CASE WHEN n %% 6 IN (4, 5) THEN '001' ELSE '' END",
    "created_at": "now() - n * interval '1 second'",
    "updated_at": "now() - n * interval '1 second'",
    "not_before": "now() - n * interval '1 second'",
    "sent_at": "now() - n * interval '1 second' + interval '2 seconds'",
    "done_at": "CASE WHEN n %% 6 = 3 THEN NULL ELSE now() - n * interval '1 second' + interval '9 seconds' END",
}


def setup_django(database_url: str, var_dir: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["VAR_DIR"] = var_dir
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "1"  # the job runs when create_export's transaction commits
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()


def fill(rows: int) -> None:
    """Create the database, migrate, and insert an account with `rows` messages."""
    import psycopg

    with psycopg.connect(f"{POSTGRES_URL}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {BENCH_DB}")
    setup_django(f"{POSTGRES_URL}/{BENCH_DB}", tempfile.mkdtemp(prefix="bench-exports-var-"))
    from django.core.management import call_command
    from django.db import connection

    from campaigns.models import Message
    from portal.accounts import create_account

    call_command("migrate", verbosity=0)
    account = create_account("Bench Retail", default_country="IN", time_zone="Asia/Kolkata")
    template = Message(account=account)
    columns, expressions, params = [], [], []
    for field in Message._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.column in GENERATED:
            expressions.append(GENERATED[field.column])
        elif field.column == "account_id":
            expressions.append("%s")
            params.append(account.pk)
        else:
            expressions.append("%s")
            params.append(field.get_db_prep_save(field.pre_save(template, add=True), connection))
    params.append(rows)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Message._meta.db_table} ({', '.join(columns)}) "
            f"SELECT {', '.join(expressions)} FROM generate_series(1, %s) AS n",
            params,
        )
        cursor.execute(f"ANALYZE {Message._meta.db_table}")
    print(f"filled {rows:,} messages in {time.perf_counter() - started:.1f} s")


def drop() -> None:
    import psycopg

    with psycopg.connect(f"{POSTGRES_URL}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")


def machine_speed() -> float:
    """Seconds for a fixed Python loop (3M additions): lower is faster; runs on a busy machine compare by it."""
    started = time.perf_counter()
    total = 0
    for number in range(3_000_000):
        total += number
    return time.perf_counter() - started


def worker(file_format: str) -> dict:
    """One export in this fresh process, as the worker runs it."""
    var_dir = tempfile.mkdtemp(prefix="bench-exports-var-")
    setup_django(f"{POSTGRES_URL}/{BENCH_DB}", var_dir)
    from portal.exports.services import create_export
    from portal.models import Account, Export

    account = Account.objects.get(name="Bench Retail")
    baseline_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    export = create_export(account, None, kind="messages", file_format=file_format, filters={})
    seconds = time.perf_counter() - started
    export = Export.objects.get(pk=export.pk)
    path = Path(export.file.path) if export.file else None
    if path is not None and file_format == "xlsx":
        with zipfile.ZipFile(path) as archive:
            assert archive.testzip() is None
    figures = {
        "state": export.state,
        "error": export.error,
        "rows": export.rows,
        "size": export.size,
        "seconds": seconds,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "baseline_mb": baseline_mb,
        "load": os.getloadavg()[0],
        "speed": machine_speed(),
    }
    if path is not None:
        path.unlink()
    return figures


def report(file_format: str, figures: dict) -> None:
    rate = figures["rows"] / figures["seconds"] if figures["seconds"] else 0
    verdict = "ok" if figures["seconds"] <= TARGET_SECONDS and figures["peak_mb"] < TARGET_MB else "over target"
    print(
        f"{file_format:<5} {figures['state']:<6} rows {figures['rows']:>9,}  {figures['seconds']:5.1f} s"
        f" = {rate:>7,.0f} rows/s  file {figures['size'] / 1e6:6.1f} MB  peak memory {figures['peak_mb']:.0f} MB"
        f" (after Django set-up {figures['baseline_mb']:.0f} MB)  load {figures['load']:.1f}"
        f"  machine speed {figures['speed']:.3f} s  [{verdict}:"
        f" ≤ {TARGET_SECONDS} s, < {TARGET_MB} MB]"
    )
    if figures["error"]:
        print(f"      error: {figures['error']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--formats", default="csv,xlsx")
    parser.add_argument("--worker", metavar="FORMAT", help=argparse.SUPPRESS)
    parser.add_argument("--fill", type=int, metavar="ROWS", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker)))
        return 0
    if args.fill:
        fill(args.fill)
        return 0
    result = subprocess.run([sys.executable, __file__, "--fill", str(args.rows)], cwd=ROOT, text=True)
    if result.returncode != 0:
        return 1
    try:
        for file_format in args.formats.split(","):
            run = subprocess.run(
                [sys.executable, __file__, "--worker", file_format], capture_output=True, text=True, cwd=ROOT
            )
            if run.returncode != 0:
                print(f"{file_format}: failed\n{run.stderr[-3000:]}")
                return 1
            report(file_format, json.loads(run.stdout.strip().splitlines()[-1]))
    finally:
        drop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
