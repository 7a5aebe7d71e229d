"""HTTP load with wrk (https://github.com/wg/wrk) and the server processes under it.

`run_wrk` writes a Lua script made of an optional request part (a POST body per request, a random path per
request) and a `done` hook that prints wrk's own summary as one JSON line (latency percentiles in microseconds,
errors by kind; wrk counts a status of 400 or more as a status error), runs wrk time-bounded and returns the
figures. `Server` starts a command, waits until a URL answers, and stops it with SIGTERM (then SIGKILL).
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

WRK = os.environ.get("WRK", "/usr/bin/wrk")
MARK = "WRK-FIGURES "
DONE_HOOK = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '%s{"requests":%.0f,"duration_us":%.0f,"status_errors":%.0f,"connect":%.0f,"read":%.0f,"write":%.0f,' ..
    '"timeout":%.0f,"p50_us":%.0f,"p90_us":%.0f,"p99_us":%.0f,"max_us":%.0f}\\n',
    "MARK", summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
""".replace("MARK", MARK)
NUMBERED_THREADS = """
local made = 0
function setup(thread)
  thread:set("tid", made)
  made = made + 1
end
"""


def lua_headers(headers: dict[str, str]) -> str:
    return "".join(f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}\n" for name, value in headers.items())


def post_json_script(path: str, body_format: str) -> str:
    """A POST per request whose JSON body is `body_format` (Lua string.format) of the thread number and a counter."""
    return NUMBERED_THREADS + (
        "function init(args) counter = 0 end\n"
        "function request()\n"
        "  counter = counter + 1\n"
        f"  local body = string.format({json.dumps(body_format)}, tid, counter)\n"
        f"  return wrk.format('POST', {json.dumps(path)}, nil, body)\n"
        "end\n"
    )


def random_paths_script(paths_file: str, user_agents: list[str]) -> str:
    """A GET per request of a random line of `paths_file`, with a random User-Agent."""
    agents = ", ".join(json.dumps(agent) for agent in user_agents)
    return NUMBERED_THREADS + (
        "function init(args) math.randomseed(tid * 7919 + os.time()) end\n"
        f"local paths, agents = {{}}, {{{agents}}}\n"
        f"for line in io.lines({json.dumps(paths_file)}) do paths[#paths + 1] = line end\n"
        "function request()\n"
        "  local agent = agents[math.random(#agents)]\n"
        "  return wrk.format('GET', paths[math.random(#paths)], {['User-Agent'] = agent})\n"
        "end\n"
    )


@dataclass(frozen=True)
class WrkFigures:
    requests: int
    seconds: float
    status_errors: int
    socket_errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    connections: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def failed(self) -> int:
        return self.status_errors + self.socket_errors


def run_wrk(
    url: str, seconds: float, connections: int, threads: int, headers: dict[str, str], request_part: str = ""
) -> WrkFigures:
    """wrk for `seconds` with `connections` kept-alive connections over `threads` threads."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua_headers(headers) + request_part + DONE_HOOK)
    command = [WRK, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s"]
    command += ["-s", script.name, url]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)
    finally:
        Path(script.name).unlink(missing_ok=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith(MARK)]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr[-2000:]}{done.stdout[-2000:]}")
    raw = json.loads(lines[-1][len(MARK) :])
    return WrkFigures(
        requests=int(raw["requests"]),
        seconds=raw["duration_us"] / 1e6,
        status_errors=int(raw["status_errors"]),
        socket_errors=int(raw["connect"] + raw["read"] + raw["write"] + raw["timeout"]),
        p50_ms=raw["p50_us"] / 1000,
        p90_ms=raw["p90_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
        connections=connections,
    )


def get_status(port: int, path: str, headers: dict[str, str], method: str = "GET", body: bytes | None = None):
    """(status, body) of one request to 127.0.0.1:port."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


class Server:
    """A server command run in its own process group, its output in `log`; stopped like a supervisor stops it."""

    def __init__(self, command: list[str], env: dict, cwd: Path, log: Path):
        self.log = log
        with open(log, "ab") as output:
            self.process = subprocess.Popen(
                command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_http(self, port: int, path: str, headers: dict[str, str], timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited ({self.process.returncode}): {self.tail()}")
            try:
                if get_status(port, path, headers)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"server did not answer {path} within {timeout:.0f} s: {self.tail()}")

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:]

    def stop(self, grace: float = 30) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
