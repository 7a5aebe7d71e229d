"""A real Celery worker process against the test database and the Redis broker."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.db import connection

from portal.queues import ALL_QUEUES

ROOT = Path(__file__).resolve().parents[2]


def database_url_for_tests() -> str:
    """The test database (created by pytest-django) as a DATABASE_URL for child processes."""
    params = connection.settings_dict
    user = params.get("USER") or "postgres"
    password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
    host = params.get("HOST") or "127.0.0.1"
    port = params.get("PORT") or "5432"
    return f"postgres://{user}{password}@{host}:{port}/{params['NAME']}"


class WorkerProcess:
    def __init__(self, broker_url: str, concurrency: int = 2, queues: str | None = None):
        self.broker_url = broker_url
        self.concurrency = concurrency
        self.queues = queues
        self.process: subprocess.Popen | None = None
        self.log_path = ROOT / "var" / f"test-worker-{os.getpid()}.log"

    def env(self) -> dict:
        env = dict(os.environ)
        if connection.vendor == "postgresql":
            env["DATABASE_URL"] = database_url_for_tests()
        env.update(
            DJANGO_SETTINGS_MODULE="portal.settings",
            CELERY_BROKER_URL=self.broker_url,
            CELERY_RESULT_BACKEND=self.broker_url,
            CELERY_TASK_ALWAYS_EAGER="0",
            SECURE_SSL_REDIRECT="0",
        )
        return env

    def start(self) -> "WorkerProcess":
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "-l",
            "INFO",
            "-c",
            str(self.concurrency),
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"test-{os.getpid()}-{time.monotonic_ns()}@%h",
        ]
        command += ["-Q", self.queues or ",".join(ALL_QUEUES)]
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child process owns it
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        return self

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and pool children): a crash, not a shutdown."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def restart(self) -> "WorkerProcess":
        self.kill()
        return self.start()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
