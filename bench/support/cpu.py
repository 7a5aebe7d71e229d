"""Where the machine's CPU time went during a measurement, by process group, read from /proc (Linux).

A `CpuWindow` reads /proc/stat (the machine) at start and stop, and every process's user + system time at start,
every half second (a thread) and at stop, so a process that ends inside the window (wrk, a replaced web
worker) still counts up to its last sample; one that lives less than a sample is "unaccounted". Each process is put
in a group by `classify`: its own pid or an ancestor named in `roots`, else by name: PostgreSQL (its server
processes and the backends of the benchmark's database), backends of other databases, Redis, and the rest of the
machine (other work on it), named by its biggest programs.
"""

from __future__ import annotations

import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

PROC = Path("/proc")
# a client's backend: "postgres: 15/main: user database 127.0.0.1(port) state" (the cluster part is optional)
BACKEND = re.compile(r"^postgres: (?:\S+: )?\S+ (\S+) \S+\(\d+\)")
OTHER = "other"
SAMPLE_SECONDS = 0.5
QUIET_BELOW = 0.2


@dataclass(frozen=True)
class Process:
    pid: int
    ppid: int
    name: str
    cmdline: str
    ticks: int  # user + system, in clock ticks


def machine_ticks() -> tuple[int, int]:
    """(all ticks, busy ticks) of every core since boot."""
    fields = [int(value) for value in (PROC / "stat").read_text().split("\n", 1)[0].split()[1:]]
    total = sum(fields[:8])  # guest time is already in user
    idle = fields[3] + fields[4]  # idle + iowait
    return total, total - idle


def processes(cmdlines: dict[int, str]) -> dict[int, Process]:
    """Every process now; `cmdlines` caches the command lines by pid (read once per process)."""
    found = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        try:
            stat = (entry / "stat").read_text()
            if pid not in cmdlines:
                raw = (entry / "cmdline").read_bytes()
                cmdlines[pid] = raw.replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        rest = stat[stat.rindex(")") + 2 :].split()  # from field 3 (state): ppid is field 4, utime 14, stime 15
        found[pid] = Process(pid, int(rest[1]), name, cmdlines[pid], int(rest[11]) + int(rest[12]))
    return found


@dataclass
class CpuWindow:
    """Group CPU use between `start()` and `stop()`; `roots` maps a label to the pids whose process trees it owns."""

    database: str
    roots: dict[str, list[int]] = field(default_factory=dict)

    def start(self) -> CpuWindow:
        self._cmdlines: dict[int, str] = {}
        self._machine = machine_ticks()
        self._baseline = {pid: process.ticks for pid, process in processes(self._cmdlines).items()}
        self._seen: dict[int, Process] = {}
        self._stopping = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()
        return self

    def _sample(self) -> None:
        while not self._stopping.wait(SAMPLE_SECONDS):
            self._seen.update(processes(self._cmdlines))

    def stop(self) -> CpuUse:
        self._stopping.set()
        self._sampler.join()
        total, busy = machine_ticks()
        self._seen.update(processes(self._cmdlines))
        groups: dict[str, int] = {}
        for pid, process in self._seen.items():
            spent = process.ticks - self._baseline.get(pid, 0)
            if spent > 0:
                label = self.classify(pid, self._seen)
                groups[label] = groups.get(label, 0) + spent
        elapsed = total - self._machine[0]
        shares = {label: ticks / elapsed for label, ticks in groups.items()}
        cores = os.cpu_count() or 1
        seconds = elapsed / cores / os.sysconf("SC_CLK_TCK")
        return CpuUse(cores=cores, seconds=seconds, busy=(busy - self._machine[1]) / elapsed, groups=shares)

    def classify(self, pid: int, table: dict[int, Process]) -> str:
        owner = {root: label for label, pids in self.roots.items() for root in pids}
        cursor, steps = pid, 0
        while cursor in table and steps < 64:
            if cursor in owner:
                return owner[cursor]
            cursor, steps = table[cursor].ppid, steps + 1
        process = table[pid]
        if process.name.startswith(("postgres", "postmaster")):
            backend = BACKEND.match(process.cmdline)
            return "postgres" if backend is None or backend.group(1) == self.database else "postgres (other dbs)"
        if process.name.startswith("redis"):
            return "redis"
        return f"{OTHER}:{process.name}"


def machine_busy(seconds: float = 2.0) -> float:
    """The machine's busy share over the next `seconds` (all cores = 1.0)."""
    first = machine_ticks()
    time.sleep(seconds)
    total, busy = machine_ticks()
    return (busy - first[1]) / max(total - first[0], 1)


def wait_for_quiet(seconds: float, below: float = QUIET_BELOW) -> float:
    """The machine's busy share; when `seconds` > 0, after waiting up to that long for it to fall under `below`
    (other work on a shared machine takes from every figure; the benchmark's own processes are idle here)."""
    deadline = time.monotonic() + seconds
    busy = machine_busy(1.0)
    while busy >= below and time.monotonic() < deadline:
        busy = machine_busy(2.0)
    return busy


@dataclass(frozen=True)
class CpuUse:
    """Shares of the whole machine (all cores = 1.0)."""

    cores: int
    seconds: float  # the window's wall time
    busy: float
    groups: dict[str, float]

    def share(self, label: str) -> float:
        return self.groups.get(label, 0.0)

    def cpu_seconds(self, label: str) -> float:
        return self.share(label) * self.cores * self.seconds

    def other(self) -> float:
        return sum(share for label, share in self.groups.items() if label.startswith(f"{OTHER}:"))

    def line(self, order: tuple[str, ...] = ()) -> str:
        """'busy 98% = workers 60%, postgres 30%, ..., other 5% (python3 4%), unaccounted 1%' of the machine."""
        mine = {label: share for label, share in self.groups.items() if not label.startswith(f"{OTHER}:")}
        others = {label.split(":", 1)[1]: share for label, share in self.groups.items() if label not in mine}
        labels = [label for label in order if label in mine]
        labels += sorted((label for label in mine if label not in labels), key=lambda name: -mine[name])
        parts = [f"{label} {mine[label]:.0%}" for label in labels if mine[label] >= 0.005]
        biggest = sorted(others.items(), key=lambda item: -item[1])[:3]
        named = ", ".join(f"{name} {share:.0%}" for name, share in biggest if share >= 0.005)
        parts.append(f"other {self.other():.0%}" + (f" ({named})" if named else ""))
        unaccounted = self.busy - sum(self.groups.values())
        if abs(unaccounted) >= 0.005:
            parts.append(f"unaccounted {unaccounted:.0%}")
        return f"CPU of {self.cores} cores: busy {self.busy:.0%} = " + ", ".join(parts)
