"""Test hosts for the scale-out test: network namespaces joined to this machine by veth pairs, or, where they
cannot be made, plain processes on loopback.

`HostNetwork.create(count)` makes `count` namespaces (names unique per run: the pid) with a veth pair each, in a
private /24 that no interface here uses yet: host i is 10.231.N.(4i+2), its host side 10.231.N.(4i+1) (a /30 per
pair). Loopback is up inside each, and the default route leads to the host side. PostgreSQL and Redis listen on
127.0.0.1 only, so a forwarder (tests/scale/forwarder.py, a subprocess) listens on host A's host-side address
and carries their traffic; the test's own HTTP receiver binds there too. Everything is torn down by `close()`
(namespaces, veth pairs, the forwarder), which the test calls in a finally.

A `Host` runs its commands (the real `bin/serve ...`) inside its namespace, under one shell in a session of its
own: `kill()` SIGKILLs the whole process group at once, as a machine losing power would; `stop()` sends SIGTERM
(gunicorn drains, Celery finishes its tasks) and waits.
"""

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORWARDER = Path(__file__).with_name("forwarder.py")
SUBNET_PREFIX = "10.231"
NETNS, LOOPBACK = "netns", "loopback"
# a UTS namespace per host, so each has a hostname of its own (Celery names its workers after it)
OWN_HOSTNAME = ["unshare", "--uts", "sh", "-c", 'hostname "$0" && exec "$@"']


def _run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, check=True, timeout=30)


def _quiet(*command: str) -> None:
    subprocess.run(command, capture_output=True, timeout=30, check=False)


def _pid_alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of a process group, read from /proc."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if fields and fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(stat.parent.name))
    return members


def _own_hostnames_work() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run([*OWN_HOSTNAME, "probe.scale.test", "true"], capture_output=True, timeout=30, check=False)
    return probe.returncode == 0


def _free_third_octet() -> int:
    """A third octet N such that no interface here has an address in 10.231.N.0/24 yet."""
    used = _run("ip", "-o", "-4", "addr", "show").stdout
    start = os.getpid() % 200 + 20
    for offset in range(200):
        octet = (start + offset) % 250 + 1
        if f" {SUBNET_PREFIX}.{octet}." not in used:
            return octet
    raise RuntimeError(f"no free /24 in {SUBNET_PREFIX}.0.0/16")


def _remove_stale_namespaces() -> None:
    """Namespaces an earlier run of this test left behind (its pid is gone) are deleted."""
    listing = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False).stdout
    for line in listing.splitlines():
        match = re.match(r"^(scale(\d+)[a-z])\b", line)
        if match and not _pid_alive(int(match.group(2))):
            _quiet("ip", "netns", "delete", match.group(1))


@dataclass
class HostNetwork:
    """The hosts' network: `mode` is "netns" or "loopback"; `addresses[i]` is host i's address; processes reach
    PostgreSQL and Redis at `service_url(...)`; `service_address` is where the test's own servers listen."""

    mode: str
    addresses: list[str]
    service_address: str
    namespaces: list[str] = field(default_factory=list)
    host_links: list[str] = field(default_factory=list)
    forwarder: subprocess.Popen | None = None
    forwarded: dict[str, int] = field(default_factory=dict)
    why_loopback: str = ""
    own_hostnames: bool = False

    @classmethod
    def create(cls, count: int, targets: list[str]) -> "HostNetwork":
        """Namespaces when they can be made here, else loopback (`why_loopback` says why)."""
        reason = cls._netns_unavailable()
        if reason:
            return cls(LOOPBACK, ["127.0.0.1"] * count, "127.0.0.1", why_loopback=reason)
        network = cls(NETNS, [], "")
        try:
            network._make_namespaces(count)
            network._start_forwarder(targets)
            network.own_hostnames = _own_hostnames_work()
        except (subprocess.SubprocessError, OSError, RuntimeError) as exc:
            network.close()
            detail = exc.stderr.strip() if isinstance(exc, subprocess.CalledProcessError) else str(exc)
            return cls(LOOPBACK, ["127.0.0.1"] * count, "127.0.0.1", why_loopback=f"namespaces failed: {detail}")
        return network

    @staticmethod
    def _netns_unavailable() -> str:
        if os.environ.get("SCALE_NETWORK", "").lower() == LOOPBACK:
            return "SCALE_NETWORK=loopback"
        if os.geteuid() != 0:
            return "not root"
        if shutil.which("ip") is None:
            return "`ip` (iproute2) is not installed"
        return ""

    def _make_namespaces(self, count: int) -> None:
        _remove_stale_namespaces()
        octet = _free_third_octet()
        pid = os.getpid()
        for index in range(count):
            letter = "abcdefgh"[index]
            name, host_link, inner_link = f"scale{pid}{letter}", f"sc{pid}{letter}h", f"sc{pid}{letter}n"
            outer, inner = f"{SUBNET_PREFIX}.{octet}.{4 * index + 1}", f"{SUBNET_PREFIX}.{octet}.{4 * index + 2}"
            _run("ip", "netns", "add", name)
            self.namespaces.append(name)
            _run("ip", "link", "add", host_link, "type", "veth", "peer", "name", inner_link)
            self.host_links.append(host_link)
            _run("ip", "link", "set", inner_link, "netns", name)
            _run("ip", "addr", "add", f"{outer}/30", "dev", host_link)
            _run("ip", "link", "set", host_link, "up")
            inside = ("ip", "netns", "exec", name)
            _run(*inside, "ip", "link", "set", "lo", "up")
            _run(*inside, "ip", "addr", "add", f"{inner}/30", "dev", inner_link)
            _run(*inside, "ip", "link", "set", inner_link, "up")
            _run(*inside, "ip", "route", "add", "default", "via", outer)
            self.addresses.append(inner)
        self.service_address = f"{SUBNET_PREFIX}.{octet}.1"

    def _start_forwarder(self, targets: list[str]) -> None:
        self.forwarder = subprocess.Popen(
            [sys.executable, str(FORWARDER), self.service_address, *targets],
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        line = self.forwarder.stdout.readline()
        if not line:
            raise RuntimeError("the forwarder did not start")
        self.forwarded = json.loads(line)

    def service_url(self, url_host: str, port: int) -> tuple[str, int]:
        """Where a host process reaches 127.0.0.1:`port` (PostgreSQL, Redis): through the forwarder in netns
        mode, directly on loopback."""
        if self.mode == LOOPBACK:
            return url_host, port
        return self.service_address, self.forwarded[f"{url_host}:{port}"]

    def prefix(self, index: int) -> list[str]:
        """The command prefix that runs a command inside host `index` (with a hostname of its own)."""
        if self.mode == LOOPBACK:
            return []
        name = self.namespaces[index]
        command = ["ip", "netns", "exec", name]
        if self.own_hostnames:
            command += [*OWN_HOSTNAME, f"{name}.scale.test"]
        return command

    def describe(self) -> str:
        if self.mode == LOOPBACK:
            return f"loopback processes ({self.why_loopback})"
        return f"network namespaces {', '.join(self.namespaces)} at {', '.join(self.addresses)}"

    def close(self) -> None:
        if self.forwarder is not None and self.forwarder.poll() is None:
            os.killpg(self.forwarder.pid, signal.SIGKILL)
            self.forwarder.wait(timeout=10)
        for name in self.namespaces:
            _quiet("ip", "netns", "delete", name)
        for link in self.host_links:
            _quiet("ip", "link", "delete", link)
        self.namespaces, self.host_links = [], []


@dataclass
class Host:
    """One test host: its commands run inside its namespace under one shell, in a process group of their own."""

    name: str
    prefix: list[str]
    env: dict
    commands: dict[str, list[str]]
    log_dir: Path
    process: subprocess.Popen | None = None
    starts: int = 0

    def log_path(self, label: str) -> Path:
        return self.log_dir / f"{self.name}-{label}-{self.starts}.log"

    def start(self) -> "Host":
        self.starts += 1
        lines = ["trap wait TERM"]
        for label, command in self.commands.items():
            lines.append(f"{shlex.join(command)} >{shlex.quote(str(self.log_path(label)))} 2>&1 &")
        lines.append("wait")
        self.process = subprocess.Popen(
            [*self.prefix, "sh", "-c", "\n".join(lines)],
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        return self

    @property
    def pgid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def _wait_group_gone(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while group_members(self.pgid):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        return True

    def kill(self) -> None:
        """SIGKILL every process of the host at once: a crash, nothing is finished or released."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pgid, signal.SIGKILL)
        self._wait_group_gone(15)
        self.process = None

    def stop(self, timeout: float = 45) -> bool:
        """SIGTERM (warm shutdown), then SIGKILL what is left after `timeout`; True when it stopped by itself."""
        if self.process is None:
            return True
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pgid, signal.SIGTERM)
        stopped = self._wait_group_gone(timeout)
        if not stopped:
            self.kill()
        self.process = None
        return stopped

    def logs(self, label: str, tail: int = 4000) -> str:
        texts = []
        for start in range(1, self.starts + 1):
            path = self.log_dir / f"{self.name}-{label}-{start}.log"
            if path.exists():
                texts.append(path.read_text(errors="replace"))
        return "\n".join(texts)[-tail:] if tail else "\n".join(texts)
