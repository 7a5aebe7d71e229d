"""Benchmark: smart-link redirect latency through a real HTTP server and client, on PostgreSQL.

Seeds one account with an API send of `--links` short links (written by the preparation's own path: one COPY), a
webhook subscribed to `smartlink:visit` (its deliveries are queued on Redis when BENCH_REDIS_URL answers, else the
embedded broker), then starts `manage.py runserver --noreload` on a free port of 127.0.0.1 and follows short URLs
with http.client, a new connection per request as a phone makes it: lookup by code, the visit and its event
recorded, the user agent parsed (several phones' user agents, each parsed once then cached), 302. Printed: p50,
p95, p99 and max for sequential requests and for `--clients` concurrent clients, and for unknown codes (404: the
floor of the server and the client on this machine). Then the WSGI application in-process, without a socket: the
time to the 302, and to the end of the visit's recording (which runs once the answer is sent).
Target (issue 18): p99 < 10 ms.

    .venv/bin/python bench/links.py                     # 3,000 sequential + 3,000 concurrent visits
    .venv/bin/python bench/links.py --requests 10000 --clients 4
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
BENCH_DB = "bench_links"
USER_AGENTS = [
    "Mozilla/5.0 (Linux; Android 13; Redmi Note 12) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.6045.163 "
    "Mobile Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 "
    "Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 12; SM-A525F) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile "
    "Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "WhatsApp/2.23.20.0 A",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def redis_answers() -> bool:
    parts = urlsplit(REDIS_URL)
    try:
        with socket.create_connection((parts.hostname, parts.port or 6379), timeout=1) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def environment(port: int, var_dir: str) -> dict:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        DATABASE_URL=f"{POSTGRES_URL}/{BENCH_DB}",
        VAR_DIR=var_dir,
        DEBUG="0",
        SECURE_SSL_REDIRECT="0",
        LOG_LEVEL="WARNING",
        SHORT_LINK_BASE_URL=f"http://127.0.0.1:{port}/l",
        CELERY_BROKER_URL=REDIS_URL if redis_answers() else "filesystem://",
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


def seed(links: int) -> list[str]:
    """An account, a subscribed webhook and an API send's short links; returns their paths."""
    import django

    django.setup()
    import uuid

    from django.core.management import call_command

    from campaigns.links import LinkOptions, Shortener, write_short_links
    from portal.accounts import create_account
    from portal.models import Subscription, Webhook

    call_command("migrate", verbosity=0)
    account = create_account("Bench links", default_country="IN")
    webhook = Webhook.objects.create(account=account, name="CRM", uri="http://127.0.0.1:9/hook", secret="whsec_x")
    Subscription.objects.create(account=account, webhook=webhook, event="smartlink:visit")
    shortener = Shortener(
        LinkOptions(track_links=True), account_id=account.pk, group_id=uuid.uuid4(), sender_name="BENCHL"
    )
    text, found = shortener.shorten("Bench sale: https://shop.example.com/spring-sale today")
    bodies = [shortener.issue(text, found, uuid.uuid4().hex, f"+919{n:09d}") for n in range(links)]
    write_short_links(shortener.take())
    return [urlsplit(body.split(" ")[2]).path for body in bodies]


def wait_until_up(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("runserver exited: see its log")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("runserver did not start")


def get(port: int, path: str, user_agent: str) -> tuple[int, float]:
    """One GET on a new connection: (status, seconds)."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers={"User-Agent": user_agent})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response.status, time.perf_counter() - started


def run(port: int, paths: list[str], count: int, clients: int) -> tuple[list[float], dict[int, int]]:
    times: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    chooser = random.Random(7)
    picks = [(chooser.choice(paths), chooser.choice(USER_AGENTS)) for _ in range(count)]

    def work(share: list[tuple[str, str]]) -> None:
        for path, agent in share:
            status, seconds = get(port, path, agent)
            with lock:
                times.append(seconds)
                statuses[status] = statuses.get(status, 0) + 1

    threads = [threading.Thread(target=work, args=(picks[index::clients],)) for index in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return times, statuses


def figures(label: str, times: list[float], statuses: dict[int, int], wall: float | None = None) -> str:
    ordered = sorted(times)

    def at(share: float) -> float:
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000

    rate = f", {len(times) / wall:,.0f} requests/s" if wall else ""
    return (
        f"   {label}: {len(times):,} requests {dict(sorted(statuses.items()))}: "
        f"p50 {statistics.median(ordered) * 1000:.2f} ms, "
        f"p95 {at(0.95):.2f} ms, p99 {at(0.99):.2f} ms, max {ordered[-1] * 1000:.2f} ms{rate}"
    )


def in_process(paths: list[str], count: int) -> tuple[list[float], list[float], dict[int, int]]:
    """The WSGI app called directly: seconds to the 302, and to the end of the recording (`close`)."""
    from django.core.wsgi import get_wsgi_application
    from django.test import RequestFactory

    handler, factory = get_wsgi_application(), RequestFactory(REMOTE_ADDR="127.0.0.1")
    chooser = random.Random(11)
    answered, recorded, statuses = [], [], {}

    def start_response(status, headers, exc_info=None):
        code = int(status.split()[0])
        statuses[code] = statuses.get(code, 0) + 1

    for _ in range(count):
        agent = chooser.choice(USER_AGENTS)
        environ = factory.get(chooser.choice(paths), HTTP_HOST="127.0.0.1", HTTP_USER_AGENT=agent).environ
        started = time.perf_counter()
        result = handler(environ, start_response)
        answered.append(time.perf_counter() - started)
        result.close()
        recorded.append(time.perf_counter() - started)
    return answered, recorded, statuses


def count_visits(expected: int) -> int:
    """Visits recorded (each after its answer was sent): waits up to 30 s for the last ones."""
    from campaigns.models import LinkVisit

    deadline = time.monotonic() + 30
    while (count := LinkVisit.objects.count()) < expected and time.monotonic() < deadline:
        time.sleep(0.2)
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--links", type=int, default=100_000, help="Short links in the table.")
    parser.add_argument("--requests", type=int, default=3_000, help="Visits per stage.")
    parser.add_argument("--clients", type=int, default=4, help="Concurrent clients of the second stage.")
    args = parser.parse_args()
    port = free_port()
    var_dir = tempfile.mkdtemp(prefix="bench-links-")
    os.environ.update(environment(port, var_dir))
    recreate_database()
    server = None
    try:
        started = time.perf_counter()
        paths = seed(args.links)
        seed_s = time.perf_counter() - started
        command = [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]
        log = open(Path(var_dir) / "runserver.log", "wb")  # noqa: SIM115  (the server's request log, kept open)
        server = subprocess.Popen(command, cwd=ROOT, env=os.environ.copy(), stdout=log, stderr=subprocess.STDOUT)
        wait_until_up(port, server)
        run(port, paths, 200, 1)  # warm-up: the parser's rules compiled, connections opened
        sequential, seq_statuses = run(port, paths, args.requests, 1)
        started = time.perf_counter()
        concurrent, con_statuses = run(port, paths, args.requests, args.clients)
        wall = time.perf_counter() - started
        missing, missing_statuses = run(port, ["/l/ZZZZZZZZ"], min(args.requests, 1000), 1)
        visits = count_visits(200 + 2 * args.requests)
        server.terminate()
        server.wait(timeout=10)
        server = None
        answered, recorded, wsgi_statuses = in_process(paths, args.requests)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        from django.db import connections

        connections.close_all()
        drop_database()
    broker = os.environ["CELERY_BROKER_URL"].split(":")[0]
    print(
        f"== Smart-link redirect, PostgreSQL, runserver on 127.0.0.1 ({args.links:,} short links seeded in "
        f"{seed_s:.1f} s; events queued on {broker})"
    )
    print(figures("sequential (1 client)", sequential, seq_statuses))
    print(figures(f"concurrent ({args.clients} clients)", concurrent, con_statuses, wall))
    print(figures("unknown code (404)", missing, missing_statuses))
    print(figures("in-process WSGI, to the answer", answered, wsgi_statuses))
    print(figures("in-process WSGI, answer + visit recorded", recorded, wsgi_statuses))
    print(
        f"   visits recorded through runserver: {visits:,} of {200 + len(sequential) + len(concurrent):,} redirects "
        "(target p99 < 10 ms)"
    )


if __name__ == "__main__":
    main()
