"""Database connections under load: the web server `make run` starts (`manage.py runserver`, a thread per
request) against the PostgreSQL test database, with concurrent clients on /readyz and an API list. Connections
never exceed DB_POOL (pg_stat_activity, sampled throughout) and no request fails; when every pooled connection is
busy, a request waits DB_POOL_TIMEOUT and then gets a 503 JSON envelope instead of hanging."""

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from portal.models import ApiToken
from tests.support.worker import ROOT, database_url_for_tests

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]

APP_NAME = "portal-db-connections-test"
CLIENTS = 8
REQUESTS_PER_CLIENT = 200


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call(url: str, token: str | None = None, timeout: float = 30) -> tuple[int, dict, dict]:
    """One request on a new HTTP connection (a new server thread each time): status, JSON body, headers."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as error:
        body = error.read()
        try:
            return error.code, json.loads(body), dict(error.headers)
        except ValueError:
            return error.code, {"raw": body[:300].decode(errors="replace")}, dict(error.headers)


@contextlib.contextmanager
def web_server(**settings):
    """`manage.py runserver` as bin/run-all starts it (without the reloader), on a free port of 127.0.0.1."""
    port = free_port()
    env = dict(os.environ, DATABASE_URL=f"{database_url_for_tests()}?application_name={APP_NAME}")
    env.update(DJANGO_SETTINGS_MODULE="portal.settings", DEBUG="1", SECURE_SSL_REDIRECT="0")
    env.update(API_READ_RATE_PER_MINUTE="1000000", CELERY_TASK_ALWAYS_EAGER="0", **settings)
    command = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
    log_path = ROOT / "var" / f"test-db-connections-{os.getpid()}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log_path.read_text(errors="replace")
            with contextlib.suppress(OSError):
                if call(f"{base}/healthz", timeout=5)[0] == 200:
                    break
            assert time.monotonic() < deadline, log_path.read_text(errors="replace")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


class ConnectionSampler(threading.Thread):
    """Counts the server's connections (by application_name) in pg_stat_activity every few milliseconds."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak = 0
        self.samples = 0
        self.stopped = threading.Event()

    def run(self):
        with psycopg.connect(database_url_for_tests(), autocommit=True) as conn:
            while not self.stopped.is_set():
                (count,) = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND application_name = %s",
                    [APP_NAME],
                ).fetchone()
                self.peak = max(self.peak, count)
                self.samples += 1
                time.sleep(0.005)

    def stop(self) -> int:
        self.stopped.set()
        self.join(timeout=10)
        return self.peak


def test_concurrent_clients_stay_within_the_pool_and_none_fails(api):
    token = api("viewer").raw_token
    pool = 4
    with web_server(DB_POOL=str(pool), READY_CHECKS_SKIP="beat") as base:  # no beat runs here
        urls = [f"{base}/readyz", f"{base}/api/v2/contacts?per_page=5"]
        sampler = ConnectionSampler()
        sampler.start()

        def client(number: int) -> list[str]:
            failures = []
            for index in range(REQUESTS_PER_CLIENT):
                url = urls[(number + index) % 2]
                try:
                    status, body, _ = call(url, token)
                except OSError as exc:
                    failures.append(f"{url}: {exc}")
                    continue
                if status != 200:
                    failures.append(f"{url}: {status} {body}")
            return failures

        started = time.monotonic()
        with ThreadPoolExecutor(CLIENTS) as executor:
            failures = [failure for result in executor.map(client, range(CLIENTS)) for failure in result]
        elapsed = time.monotonic() - started
        peak = sampler.stop()
    total = CLIENTS * REQUESTS_PER_CLIENT
    summary = f"peak {peak} connections, {len(failures)} of {total} failed, {elapsed:.1f} s, {sampler.samples} samples"
    print(summary)
    assert sampler.samples > 10, summary
    assert failures == [], f"{summary}: {failures[:5]}"
    assert 1 <= peak <= pool, summary


def test_a_request_beyond_a_busy_pool_gets_a_503_envelope_after_the_timeout(api):
    token = api("viewer").raw_token
    with web_server(DB_POOL="2", DB_POOL_TIMEOUT="1") as base:
        url = f"{base}/api/v2/contacts?per_page=5"
        with psycopg.connect(database_url_for_tests()) as locker:
            # every API request reads its token: with the table locked, two requests hold both pooled connections
            locker.execute(f"LOCK TABLE {ApiToken._meta.db_table} IN ACCESS EXCLUSIVE MODE")
            with ThreadPoolExecutor(2) as executor:
                held = [executor.submit(call, url, token) for _ in range(2)]
                time.sleep(0.5)
                started = time.monotonic()
                status, body, headers = call(url, token)
                waited = time.monotonic() - started
                health_status, health, _ = call(f"{base}/readyz")
                locker.rollback()
                held_statuses = [future.result()[0] for future in held]
    assert status == 503, body
    assert body["status"] == "error" and body["code"] == 503 and "database" in body["message"].lower()
    assert headers.get("Retry-After") == "1"
    assert 0.9 <= waited < 5, waited
    assert health_status == 503 and health["checks"]["database"]["ok"] is False
    assert health["checks"]["migrations"]["error"].startswith("Not run")  # no second wait for the pool
    assert held_statuses == [200, 200]  # the waiting requests finish once the lock is gone
