"""The production process set of the scale test, spread over the test hosts (tests/scale/hosts.py).

Host A runs `bin/serve web` (gunicorn) and `bin/serve worker sending,webhooks,imports,default`; host B runs
another worker for the same queues and `bin/serve beat` (the only beat); with SCALE_HOSTS=3, host C runs a third
worker. Every process is the real `bin/serve` command the Dockerfile, compose.yaml and the systemd units run,
configured by the environment alone, with the production checks on (`bin/serve` runs `check --deploy` first).

What differs from a production environment, and why:
- DATABASE_URL is the pytest-django test database, CELERY_BROKER_URL/CACHE_URL the run's Redis databases, both
  reached through the forwarder in namespace mode;
- TRUST_PROXY_HEADERS=1: the test's client sends `X-Forwarded-Proto: https` as the TLS proxy in front would;
- WEBHOOK_ALLOWED_CIDRS/PORTS let webhooks reach the test's receiver, a non-public address; `manage.py check`
  refuses that list without DEBUG (portal.E100), so that one check is silenced here;
- shorter leases (outbox, webhooks) so a killed host's work is taken over within the test's time, and shorter
  webhook retry delays (an attempt that times out on this busy machine is retried within seconds, not minutes).
Each host has its own VAR_DIR, but `VAR_DIR/media` of every host is one shared folder: an import stores its
upload under MEDIA_ROOT and whichever worker runs it reads it from there (production: NFS or object storage).
"""

import os
import re
import secrets
import socket
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import requests
from cryptography.fernet import Fernet

from portal.queues import ALL_QUEUES
from tests.scale.hosts import Host, HostNetwork
from tests.support.worker import database_url_for_tests

INHERITED_ENVIRONMENT = ("PATH", "LANG", "LC_ALL", "TMPDIR")  # the rest is what production sets
READY_SECONDS = 120
WORKER_READY_MARK = " ready."
BEAT_READY_MARK = "beat: Starting"
TASK_RECEIVED = re.compile(r"Task ([\w.]+)\[[0-9a-f-]+\] received")
TASK_EVENT = re.compile(r"Task ([\w.]+)\[([0-9a-f-]+)\] (received|succeeded|raised|failed|retry)")


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def _through(network: HostNetwork, url: str) -> str:
    """`url` (a service on 127.0.0.1) as the hosts reach it."""
    parts = urlparse(url)
    host, port = network.service_url(parts.hostname or "127.0.0.1", parts.port)
    userinfo = parts.netloc.rpartition("@")[0]
    return urlunparse(parts._replace(netloc=f"{userinfo}@{host}:{port}" if userinfo else f"{host}:{port}"))


@dataclass
class Cluster:
    network: HostNetwork
    work_dir: Path
    broker_url: str
    cache_url: str
    api_token_pepper: str
    receiver: tuple[str, int]
    hosts: dict[str, Host] = field(default_factory=dict)
    web_port: int = 0
    # the same on every machine: signed sessions, and the webhook secrets one host encrypts and another decrypts
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(64))
    field_encryption_keys: str = field(default_factory=lambda: Fernet.generate_key().decode())

    @property
    def worker_concurrency(self) -> int:
        """Prefork children of each host's worker."""
        return env_int("SCALE_WORKER_CONCURRENCY", 3)

    @property
    def web_url(self) -> str:
        return f"http://{self.network.addresses[0]}:{self.web_port}"

    def base_env(self) -> dict:
        database_url = _through(self.network, database_url_for_tests())
        env = {key: os.environ[key] for key in INHERITED_ENVIRONMENT if key in os.environ}
        env.update(
            DATABASE_URL=database_url,
            CELERY_BROKER_URL=_through(self.network, self.broker_url),
            CELERY_RESULT_BACKEND="",
            CACHE_URL=_through(self.network, self.cache_url),
            SECRET_KEY=self.secret_key,
            API_TOKEN_PEPPER=self.api_token_pepper,
            FIELD_ENCRYPTION_KEYS=self.field_encryption_keys,
            ALLOWED_HOSTS=",".join(sorted(set(self.network.addresses))),
            TRUST_PROXY_HEADERS="1",
            SILENCED_SYSTEM_CHECKS="portal.E100",
            WEBHOOK_ALLOWED_CIDRS=f"{self.receiver[0]}/32",
            WEBHOOK_ALLOWED_PORTS=str(self.receiver[1]),
            WEBHOOK_LEASE_SECONDS="40",
            WEBHOOK_RETRY_SCHEDULE="5,10,20,40,80",
            SMS_OUTBOX_LEASE_SECONDS="10",
            SMS_SIMULATOR_DLR_DELAY_SECONDS="1",
            API_WRITE_RATE_PER_SECOND="100000",
            API_READ_RATE_PER_MINUTE="100000",
            WEB_CONCURRENCY=str(env_int("SCALE_WEB_PROCESSES", 2)),
            WEB_THREADS="4",
            DB_POOL="4",
            WORKER_CONCURRENCY=str(self.worker_concurrency),
            LOG_LEVEL="INFO",
            PYTHONUNBUFFERED="1",
        )
        return env

    def _host_env(self, name: str, index: int) -> dict:
        var_dir = self.work_dir / f"host-{name}"
        var_dir.mkdir(parents=True, exist_ok=True)
        shared_media = self.work_dir / "shared-media"
        shared_media.mkdir(exist_ok=True)
        media = var_dir / "media"
        if not media.exists():
            media.symlink_to(shared_media, target_is_directory=True)
        env = self.base_env()
        # a home of its own, as a machine has (gunicorn puts its control socket under $HOME/.gunicorn)
        env.update(VAR_DIR=str(var_dir), HOME=str(var_dir), HOST=self.network.addresses[index], PORT=str(self.web_port))
        return env

    def add_host(self, name: str, index: int, commands: dict[str, list[str]]) -> Host:
        host = Host(name, self.network.prefix(index), self._host_env(name, index), commands, self.work_dir)
        self.hosts[name] = host
        return host

    def build(self, host_count: int) -> None:
        queues = ",".join(ALL_QUEUES)
        self.web_port = free_port()
        self.add_host("a", 0, {"web": ["bin/serve", "web"], "worker": ["bin/serve", "worker", queues]})
        self.add_host("b", 1, {"worker": ["bin/serve", "worker", queues], "beat": ["bin/serve", "beat"]})
        for index in range(2, host_count):
            self.add_host("abcdefgh"[index], index, {"worker": ["bin/serve", "worker", queues]})

    def start_all(self) -> None:
        for host in self.hosts.values():
            host.start()
        for host in self.hosts.values():
            self.wait_ready(host)

    def wait_ready(self, host: Host) -> None:
        """Each process of the host is up: gunicorn answers /healthz, workers logged "ready.", beat started."""
        deadline = time.monotonic() + READY_SECONDS
        pending = set(host.commands)
        while pending:
            if host.process is None or host.process.poll() is not None:
                raise AssertionError(f"host {host.name} exited at start:\n{self.logs(host)}")
            for label in list(pending):
                if self._process_ready(host, label):
                    pending.discard(label)
            if time.monotonic() > deadline:
                raise AssertionError(f"host {host.name}: {sorted(pending)} not ready in time:\n{self.logs(host)}")
            time.sleep(0.3)

    def _process_ready(self, host: Host, label: str) -> bool:
        if label == "web":
            try:
                return requests.get(f"{self.web_url}/healthz", timeout=2).status_code == 200
            except requests.RequestException:
                return False
        log = host.log_path(label)
        text = log.read_text(errors="replace") if log.exists() else ""
        return (WORKER_READY_MARK if label == "worker" else BEAT_READY_MARK) in text

    def logs(self, host: Host, tail: int = 3000) -> str:
        return "\n".join(f"--- {host.name} {label}:\n{host.logs(label, tail)}" for label in host.commands)

    def all_logs(self, tail: int = 2500) -> str:
        return "\n".join(self.logs(host, tail) for host in self.hosts.values())

    def stop_all(self) -> dict[str, bool]:
        """SIGTERM every host; which of them stopped by themselves within the grace time."""
        return {name: host.stop() for name, host in self.hosts.items()}


def free_port() -> int:
    """A port free on loopback (namespaces have every port free; loopback mode shares this machine's)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def tasks_received(log: str) -> Counter:
    """Task names a worker's log says it received, counted."""
    return Counter(TASK_RECEIVED.findall(log))


class TaskTracker:
    """Follows a worker's log as it grows: the tasks it received and has not finished yet."""

    def __init__(self, path: Path):
        self.path = path
        self.offset = 0
        self.running: dict[str, str] = {}

    def in_flight(self) -> Counter:
        if self.path.exists():
            with self.path.open("rb") as log:
                log.seek(self.offset)
                chunk = log.read()
            complete = chunk[: chunk.rfind(b"\n") + 1]
            self.offset += len(complete)
            for name, task_id, what in TASK_EVENT.findall(complete.decode(errors="replace")):
                if what == "received":
                    self.running[task_id] = name
                else:
                    self.running.pop(task_id, None)
        return Counter(self.running.values())
