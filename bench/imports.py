"""Benchmark: import 100,000- and 1,000,000-row contact files (xlsx and csv) into PostgreSQL and SQLite.

The files mix IN, US, GB and SG numbers in the formats spreadsheets hold (international text, national text,
numbers that lost their `+` and are stored as floats, `00` prefixes), with 3% invalid numbers and 5% repeated
numbers, names, e-mails, a tier attribute and 1 or 2 tags per row. Each import goes through the path the UI and
API use (`services_imports.create_import` + `start_import`, which runs the engine the Celery task runs), in a
fresh process per database so the figures do not share caches. PostgreSQL uses the database `bench_imports`
on BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432), created and dropped here.

Prints per run: rows/s of each stage (read = waiting for parsed rows, validate = mapping + phone normalisation +
checks, write = database), end to end, and peak memory (this process, and this process plus its children:
parser and phone workers, sampled). Targets on PostgreSQL: 1,000,000-row xlsx in ≤ 60 s with < 1 GB;
100,000 rows in ≤ 8 s.

    .venv/bin/python bench/imports.py                      # 100k and 1M, xlsx and csv, PostgreSQL and SQLite
    .venv/bin/python bench/imports.py --rows 100000 --db postgres --formats xlsx
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
FILES_DIR = Path(os.environ.get("BENCH_FILES_DIR", Path(tempfile.gettempdir()) / "bench-imports-files"))
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
BENCH_DB = "bench_imports"
HEADER = ["Mobile", "First name", "Last name", "Email", "Tier", "Tags"]
FIRST = ["Asha", "Ravi", "Meera", "Oliver", "Amelia", "Wei", "Siti", "John", "Mary", "Arjun", "Priya", "Noah"]
LAST = ["Rao", "Kumar", "Iyer", "Smith", "Jones", "Tan", "Lim", "Brown", "Patel", "Singh", "Wilson", "Lee"]
TAGS = ["vip", "newsletter", "retail", "online", "store-12", "festive", "loyalty", "b2b", "churn-risk", "app"]


def phone_cell(rng: random.Random, serial: int, *, as_float_ok: bool):
    """A number in one of the formats real exports hold; the default country of the account is IN."""
    country = rng.choice("IIIIUGS")
    if country == "I":
        national = f"9{serial % 1_000_000_000:09d}"
        forms = [f"+91 {national[:5]} {national[5:]}", f"0{national}", f"0091{national}", national]
        if as_float_ok:
            forms.append(float(f"91{national}"))
        return rng.choice(forms)
    if country == "U":
        line = f"{serial % 10_000:04d}"
        area = rng.choice(["415", "212", "646", "917"])
        exchange = f"{200 + serial // 10_000 % 700:03d}"
        return rng.choice(
            [f"+1 ({area}) {exchange}-{line}", f"+1-{area}-{exchange}-{line}", f"1{area}{exchange}{line}"]
        )
    if country == "G":
        national = f"7400{serial % 1_000_000:06d}"
        forms = [f"+44 {national[:4]} {national[4:]}", f"0044{national}"]
        if as_float_ok:
            forms.append(float(f"44{national}"))
        return rng.choice(forms)
    national = f"{rng.choice('89')}{serial % 10_000_000:07d}"
    return rng.choice([f"+65 {national[:4]} {national[4:]}", f"+65{national}", f"65{national}"])


def invalid_cell(rng: random.Random):
    return rng.choice(["12345", "not a number", "+91 123", "+44 12", "0000000", "n/a"])


def generate_rows(count: int, *, spreadsheet: bool):
    rng = random.Random(count)
    emitted: list = []
    for index in range(count):
        roll = rng.random()
        if roll < 0.03:
            phone = invalid_cell(rng)
        elif roll < 0.08 and emitted:
            phone = rng.choice(emitted[-5000:])
        else:
            phone = phone_cell(rng, index * 7919 + 12345, as_float_ok=spreadsheet)
            emitted.append(phone)
            if len(emitted) > 10000:
                del emitted[:5000]
        first, last = rng.choice(FIRST), rng.choice(LAST)
        tags = ", ".join(rng.sample(TAGS, rng.randint(1, 2)))
        yield [phone, first, last, f"{first}.{last}{index}@example.com".lower(), rng.choice("ABC"), tags]


def make_file(rows: int, kind: str) -> Path:
    FILES_DIR.mkdir(parents=True, exist_ok=True)
    path = FILES_DIR / f"contacts-{rows}.{kind}"
    if path.exists():
        return path
    started = time.perf_counter()
    partial = path.with_suffix(".partial")
    if kind == "csv":
        import csv

        with open(partial, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(HEADER)
            writer.writerows(generate_rows(rows, spreadsheet=False))
    else:
        import openpyxl

        workbook = openpyxl.Workbook(write_only=True)
        sheet = workbook.create_sheet("Contacts")
        sheet.append(HEADER)
        for values in generate_rows(rows, spreadsheet=True):
            sheet.append(values)
        workbook.save(partial)
    partial.rename(path)
    print(f"   generated {path.name}: {path.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - started:.1f} s")
    return path


class TreeMemory:
    """Peak resident memory of this process plus its descendants, sampled every 100 ms from /proc."""

    def __init__(self):
        self.peak = 0
        self.running = True
        self.thread = threading.Thread(target=self.sample, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()

    @staticmethod
    def rss_tree(pid: int) -> int:
        total = 0
        pending = [pid]
        while pending:
            current = pending.pop()
            try:
                with open(f"/proc/{current}/statm") as statm:
                    total += int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
                with open(f"/proc/{current}/task/{current}/children") as children:
                    pending.extend(int(child) for child in children.read().split())
            except (FileNotFoundError, ProcessLookupError):
                continue
        return total

    def sample(self):
        while self.running:
            self.peak = max(self.peak, self.rss_tree(os.getpid()))
            time.sleep(0.1)


def _cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def database_cpu_seconds() -> float:
    """CPU time used so far by every PostgreSQL server process of this machine (the bench's server is local)."""
    ticks = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as stat:
                name, _, rest = stat.read().partition(") ")
            if name.endswith("(postgres"):
                fields = rest.split()
                ticks += sum(int(value) for value in fields[11:15])  # its own and its exited children's
        except (FileNotFoundError, ProcessLookupError):
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


def machine_speed() -> float:
    """Seconds a fixed pure-Python loop takes here now: this machine's speed varies by hour, so runs are
    compared at the same figure."""
    started = time.perf_counter()
    total = 0
    for number in range(3_000_000):
        total += number
    return time.perf_counter() - started


def worker(database: str, file: Path) -> dict:
    """One import in this process against a fresh database; returns the figures."""
    var_dir = tempfile.mkdtemp(prefix="bench-imports-var-")
    if database == "postgres":
        import psycopg

        with psycopg.connect(f"{POSTGRES_URL}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB}")
            admin.execute(f"CREATE DATABASE {BENCH_DB}")
        os.environ["DATABASE_URL"] = f"{POSTGRES_URL}/{BENCH_DB}"
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{var_dir}/bench.sqlite3"
    os.environ["VAR_DIR"] = var_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.files import File
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    settings.IMPORT_INLINE_MAX_BYTES = 1 << 40
    from contacts.models import ContactTag
    from contacts.services_imports import create_import, start_import
    from portal.accounts import create_account

    account = create_account("Bench Retail", default_country="IN", time_zone="Asia/Kolkata")
    speed = machine_speed()
    cpu_before = (_cpu_seconds(resource.RUSAGE_SELF), _cpu_seconds(resource.RUSAGE_CHILDREN), database_cpu_seconds())
    try:
        with TreeMemory() as memory:
            started = time.perf_counter()
            with open(file, "rb") as handle:
                job = create_import(account, None, File(handle, name=file.name))
            stored = time.perf_counter() - started
            job = start_import(job)
            total = time.perf_counter() - started
        cpu_after = (
            _cpu_seconds(resource.RUSAGE_SELF),
            _cpu_seconds(resource.RUSAGE_CHILDREN),
            database_cpu_seconds(),
        )
        links = ContactTag.objects.count()
    finally:
        from django.db import connections

        connections.close_all()
        if database == "postgres":
            import psycopg

            with psycopg.connect(f"{POSTGRES_URL}/postgres", autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
    return {
        "state": job.state,
        "error": job.error_message,
        "rows": job.rows_read,
        "created": job.created,
        "failed": job.failed,
        "duplicates": job.duplicates,
        "links": links,
        "timings": job.timings,
        "store_upload": stored,
        "total": total,
        "peak_self_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "cpu": [after - before for before, after in zip(cpu_before, cpu_after, strict=True)],
        "speed": speed,
        "load": os.getloadavg()[0],
        "peak_tree_mb": memory.peak / 1e6,
    }


def report(database: str, file: Path, figures: dict) -> None:
    rows, timings = figures["rows"], figures["timings"]

    def rate(seconds: float) -> str:
        return f"{rows / seconds:>9,.0f}/s" if seconds else "        -"

    print(
        f"{database:<9} {file.name:<22} {figures['state']:<6} rows {rows:>9,}  created {figures['created']:>9,}"
        f"  failed {figures['failed']:>6,}  duplicates {figures['duplicates']:>6,}  tag links {figures['links']:>9,}"
    )
    print(
        f"          read {rate(timings.get('read', 0))} ({timings.get('read', 0):.1f} s)"
        f"  validate {rate(timings.get('validate', 0))} ({timings.get('validate', 0):.1f} s)"
        f"  write {rate(timings.get('write', 0))} ({timings.get('write', 0):.1f} s)"
        f"  store upload {figures['store_upload']:.1f} s"
    )
    print(
        f"          end to end {figures['total']:.1f} s = {rate(figures['total'])};"
        f" peak memory {figures['peak_self_mb']:.0f} MB (engine process), {figures['peak_tree_mb']:.0f} MB with"
        f" parser and phone workers; load average {figures['load']:.1f} on {os.cpu_count()} cores"
    )
    engine, children, database_cpu = figures["cpu"]
    print(
        f"          CPU seconds: engine {engine:.1f}, parser and phone workers {children:.1f}, database server"
        f" {database_cpu:.1f}, total {engine + children + database_cpu:.1f}; machine speed {figures['speed']:.3f} s"
        " (a fixed Python loop: lower is faster)"
    )
    if figures["error"]:
        print(f"          error: {figures['error']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", default="100000,1000000")
    parser.add_argument("--formats", default="xlsx,csv")
    parser.add_argument("--db", default="postgres,sqlite")
    parser.add_argument("--worker", nargs=2, metavar=("DB", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker[0], Path(args.worker[1]))))
        return 0
    for rows in [int(value) for value in args.rows.split(",")]:
        for kind in args.formats.split(","):
            file = make_file(rows, kind)
            for database in args.db.split(","):
                result = subprocess.run(
                    [sys.executable, __file__, "--worker", database, str(file)],
                    capture_output=True,
                    text=True,
                    cwd=ROOT,
                )
                if result.returncode != 0:
                    print(f"{database} {file.name}: failed\n{result.stderr[-3000:]}")
                    return 1
                report(database, file, json.loads(result.stdout.strip().splitlines()[-1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
