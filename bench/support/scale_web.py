"""bench/scale.py, parts 2 and 3: the API's hot paths and the smart-link redirect over HTTP, under gunicorn
(`bin/serve web`, deploy/gunicorn.conf.py) and under granian with the same environment and the same worker count.

Each server gets, after a short warm-up (every process imports and connects), time-bounded wrk runs of 2 threads:
`GET /api/v2/contacts` (the first page of 25 of the seeded contacts, with its count), `POST /api/v2/sms/send` (one
number per request, a new number each time, text matching the approved template: the message row, its price and
the dispatcher task queued on Redis) and `GET /l/<code>` of random seeded short links (lookup, 302, the visit and
its event recorded after the answer), under many connections and again from a single client (one request at a
time: the latency without queueing, as issue 18's target was measured).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from bench import links as links_bench
from bench.support.cpu import CpuUse, CpuWindow, wait_for_quiet
from bench.support.http_load import Server, WrkFigures, get_status, post_json_script, random_paths_script, run_wrk

ROOT = Path(__file__).resolve().parents[2]
GRANIAN = str(Path(sys.executable).with_name("granian"))
TEXT = "Dear Asha, your Bench order from Pune is on its way."
SEND_BODY = '{"sender":"BENCHM","to":"+919%d%02d%06d","message":"' + TEXT + '"}'  # server digit, thread, counter
SINGLE_CLIENT = 1  # one connection, one request at a time: the latency without queueing


@dataclass(frozen=True)
class Run:
    label: str
    figures: WrkFigures
    cpu: CpuUse

    def cpu_ms(self, label: str) -> float:
        """Milliseconds of CPU time `label` used per request answered."""
        return self.cpu.cpu_seconds(label) * 1000 / max(self.figures.requests, 1)


@dataclass(frozen=True)
class ServerFigures:
    name: str
    shape: str
    runs: list[Run]
    messages_written: int


def issue_api_token(account) -> str:
    """An admin of the account and an API token of theirs (raw)."""
    from django.contrib.auth import get_user_model

    from portal.accounts import add_member
    from portal.roles import Role
    from portal.tokens import issue_token

    user = get_user_model().objects.create_user(username="bench@scale.example", email="bench@scale.example")
    add_member(account, user, Role.ADMIN)
    return issue_token(account, user, "scale").raw


def server_command(name: str, env: dict, port: int, workers: int, var_dir: str) -> tuple[list[str], dict, str]:
    threads = env.get("WEB_THREADS", "4")
    if name == "gunicorn":
        shape = f"bin/serve web: {workers} workers x {threads} threads (gthread)"
        return [str(ROOT / "bin" / "serve"), "web"], dict(env, PORT=str(port), WEB_CONCURRENCY=str(workers)), shape
    metrics = Path(var_dir) / "prometheus-granian"
    metrics.mkdir(parents=True, exist_ok=True)
    # what bin/serve exports for gunicorn (static files were collected by its run)
    granian_env = dict(env, STATIC_MANIFEST="1", LOG_FORMAT="json", PROMETHEUS_MULTIPROC_DIR=str(metrics))
    command = [GRANIAN, "--interface", "wsgi", "portal.wsgi:application", "--workers", str(workers)]
    command += ["--blocking-threads", threads, "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    return command, granian_env, f"granian --interface wsgi: {workers} workers x {threads} blocking threads"


def preflight(port: int, auth: dict, link_path: str) -> None:
    """One request of each kind answers as it should (wrk counts only 4xx/5xx as errors)."""
    status, body = get_status(port, "/api/v2/contacts", auth)
    if status != 200 or json.loads(body)["data"] == []:
        raise RuntimeError(f"GET /api/v2/contacts: {status} {body[:300]!r}")
    send = json.dumps({"sender": "BENCHM", "to": "+919000000001", "message": TEXT}).encode()
    status, body = get_status(port, "/api/v2/sms/send", {**auth, "Content-Type": "application/json"}, "POST", send)
    if status != 201 or json.loads(body)["data"]["rejected"]:
        raise RuntimeError(f"POST /api/v2/sms/send: {status} {body[:300]!r}")
    status, body = get_status(port, link_path, {"User-Agent": links_bench.USER_AGENTS[0]})
    if status != 302:
        raise RuntimeError(f"GET {link_path}: {status} {body[:300]!r}")


def plan(auth: dict, connections: int, index: int, links_script: str) -> list[tuple[str, str, int, dict, str]]:
    """(label, path, connections, headers, request script) of each run; `index` keeps each server's numbers apart."""
    send_script = post_json_script("/api/v2/sms/send", SEND_BODY.replace("%d", str(index + 1), 1))
    return [
        ("GET /api/v2/contacts", "/api/v2/contacts", connections, auth, ""),
        ("POST /api/v2/sms/send", "/", connections, {**auth, "Content-Type": "application/json"}, send_script),
        ("GET /l/<code> -> 302", "/", connections, {}, links_script),
        ("GET /l/<code> -> 302", "/", SINGLE_CLIENT, {}, links_script),
    ]


def measure_servers(
    names: list[str],
    *,
    env: dict,
    var_dir: str,
    database: str,
    token: str,
    account,
    link_paths: list[str],
    workers: int,
    seconds: float,
    connections: int,
    quiet_wait: float = 0,
) -> list[ServerFigures]:
    """Start every server (an idle one costs nothing), warm each up, then take the runs in turns (run 1 on each
    server, run 2 on each, ...) so that a change of the machine's other load falls on all of them alike."""
    from campaigns.models import Message

    auth = {"Authorization": f"Bearer {token}"}
    paths_file = Path(var_dir) / "link-paths.txt"
    paths_file.write_text("\n".join(link_paths) + "\n")
    links_script = random_paths_script(str(paths_file), links_bench.USER_AGENTS)
    api_sends = Message.objects.filter(account=account, campaign__isnull=True)
    servers, ports, shapes = [], [], []
    try:
        for name in names:
            port = links_bench.free_port()
            command, server_env, shape = server_command(name, env, port, workers, var_dir)
            servers.append(Server(command, server_env, ROOT, Path(var_dir) / f"{name}.log"))
            ports.append(port)
            shapes.append(shape)
            servers[-1].wait_http(port, "/api/v2/contacts", auth, timeout=180)  # one at a time: collectstatic
        plans = [plan(auth, connections, index, links_script) for index in range(len(names))]
        for port, runs in zip(ports, plans, strict=True):
            preflight(port, auth, link_paths[0])
            for _label, path, _connections, headers, script in runs[:3]:
                run_wrk(f"http://127.0.0.1:{port}{path}", max(1, seconds // 7), 8, 2, headers, script)  # warm-up
        results: list[list[Run]] = [[] for _ in names]
        written = [0 for _ in names]
        for step in range(len(plans[0])):
            for index, (server, port) in enumerate(zip(servers, ports, strict=True)):
                label, path, conns, headers, script = plans[index][step]
                if quiet_wait:
                    wait_for_quiet(quiet_wait)
                before = api_sends.count()
                window = CpuWindow(database, {"web server": [server.pid], "wrk + bench": [os.getpid()]}).start()
                threads = min(2, conns)
                figures = run_wrk(f"http://127.0.0.1:{port}{path}", seconds, conns, threads, headers, script)
                results[index].append(Run(label, figures, window.stop()))
                if label.startswith("POST"):
                    written[index] = api_sends.count() - before
    finally:
        for server in servers:
            server.stop()
    return [
        ServerFigures(name, shape, runs, count)
        for name, shape, runs, count in zip(names, shapes, results, written, strict=True)
    ]
