"""A real SMSC on 127.0.0.1 for tests and benchmarks: npm's `smpp` (node-smpp) server driven by peer.js.

    with running_peer() as peer:   # skips without Node.js / node_modules, fails under CI
        peer.port, peer.configure(throttle_next=2), peer.wait_for(3), peer.pdus("submit_sm"), peer.send_mo(...)
        peer.stop(); peer.restart()   # a crash (SIGKILL), then a fresh SMSC on the same port

The control API (HTTP JSON on peer.control_port) is described in peer.js; each method here is one call to it.
"""

import contextlib
import json
import os
import selectors
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from tests.support.services import in_ci, missing

PEER_DIR = Path(__file__).resolve().parent / "smpp_peer"
START_SECONDS = 15


def peer_available() -> str | None:
    """None when the peer can run here, else why not."""
    if shutil.which("node") is None:
        return "the SMPP test peer needs Node.js: apt-get install nodejs npm"
    if not (PEER_DIR / "node_modules" / "smpp").is_dir():
        return f"the SMPP test peer needs its packages: npm ci --prefix {PEER_DIR}"
    return None


class SmppPeerError(RuntimeError):
    pass


class SmppPeer:
    host = "127.0.0.1"

    def __init__(
        self,
        system_id: str = "test",
        password: str = "secret",
        *,
        tls_cert: str | Path | None = None,
        tls_key: str | Path | None = None,
    ):
        self.system_id, self.password = system_id, password
        self.tls_cert, self.tls_key = tls_cert, tls_key
        self.port = 0
        self.control_port = 0
        self.process: subprocess.Popen | None = None

    def start(self, port: int | None = None, system_id: str | None = None, password: str | None = None) -> "SmppPeer":
        """Spawn `node peer.js` listening on `port` (0: any free one) and wait for it to say so."""
        reason = peer_available()
        if reason is not None:
            raise SmppPeerError(reason)
        self.system_id = system_id or self.system_id
        self.password = password or self.password
        self.port = self.port if port is None else port
        command = [
            "node",
            str(PEER_DIR / "peer.js"),
            "--port",
            str(self.port),
            "--control-port",
            str(self.control_port),
        ]
        command += ["--system-id", self.system_id, "--password", self.password, "--exit-with-stdin", "1"]
        if self.tls_cert:
            command += ["--tls-cert", str(self.tls_cert), "--tls-key", str(self.tls_key)]
        # stdin: the peer exits when it closes, so it dies with this process; stderr is read only on failure
        # (peer.js writes there only when it cannot listen, or crashes)
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            cwd=PEER_DIR,
        )
        line = self._first_line()
        if not line.startswith(b"LISTENING"):
            self.process.kill()
            error = self.process.communicate(timeout=5)[1][-2000:].decode(errors="replace")
            self.stop()
            raise SmppPeerError(f"the SMPP peer did not start on port {self.port}: {error}")
        _, smpp_port, control_port = line.split()
        self.port, self.control_port = int(smpp_port), int(control_port)
        return self

    def _first_line(self) -> bytes:
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            if selector.select(START_SECONDS):
                return self.process.stdout.readline()
        return b""

    def stop(self) -> None:
        """Kill the server at once, as a crash would: connections drop, unanswered submits stay unanswered."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)
        if self.process is not None:
            for pipe in (self.process.stdin, self.process.stdout, self.process.stderr):
                pipe.close()
        self.process = None

    def restart(self, timeout: float = 10) -> "SmppPeer":
        """Kill it and start a fresh one (empty logs, default settings) on the same SMPP and control ports."""
        self.stop()
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.start(self.port)
            except SmppPeerError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def _call(self, method: str, path: str, body: dict | None = None):
        request = urllib.request.Request(
            f"http://{self.host}:{self.control_port}{path}",
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            raise SmppPeerError(f"{method} {path}: {error.code} {error.read().decode(errors='replace')}") from None

    def pdus(self, command: str | None = None) -> list[dict]:
        """The recorded inbound PDUs (submit_sm, data_sm, and any request answered with generic_nack)."""
        return self._call("GET", "/pdus" + (f"?command={command}" if command else ""))

    def binds(self) -> list[dict]:
        return self._call("GET", "/binds")

    def sessions(self) -> list[dict]:
        return self._call("GET", "/sessions")

    def deliveries(self) -> list[dict]:
        """Every deliver_sm sent: {kind: receipt|mo, session, message_id, sent_at, resp_status}."""
        return self._call("GET", "/deliveries")

    def stats(self) -> dict:
        return self._call("GET", "/stats")

    def configure(self, **settings) -> dict:
        """Any of throttle_next, queue_full_next, reject_next={count, status}, resp_delay_ms, dlr_before_resp,
        dlr_delay_ms, no_dlr, hold_resps, id_format ("hex"/"dec"), dlr_table ({"0000": ["UNDELIV", "001"]}), record."""
        return self._call("POST", "/config", settings)

    def reset(self) -> None:
        """Empty the logs and counters and restore the default settings (connections stay)."""
        self._call("POST", "/reset", {})

    def send_mo(self, **message) -> dict:
        """An inbound message {from, to, text | hex, data_coding?, parts?, reference?, session?} to a bound receiver:
        returns {session, parts}; raises SmppPeerError when nothing is bound to receive it."""
        return self._call("POST", "/mo", message)

    def send_receipt(self, **receipt) -> dict:
        """A receipt {id, from (the handset), to, stat, err} to a bound receiver; kept until one binds."""
        return self._call("POST", "/receipt", receipt)

    def close_sessions(self) -> int:
        """Drop every connection abruptly (no unbind); returns how many."""
        return self._call("POST", "/close_sessions", {})["closed"]

    def wait_for(self, predicate_or_count: Callable[[], object] | int, timeout: float = 10, interval: float = 0.02):
        """Wait until `predicate()` is truthy (and return its value), or until that many submits were answered or
        held (the counter works with record=False too). TimeoutError with the peer's stats after `timeout` s."""
        predicate = predicate_or_count
        if isinstance(predicate_or_count, int):

            def predicate():
                stats = self.stats()
                return stats if stats["submits"] >= predicate_or_count else None

        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"the SMPP peer did not get there in {timeout} s: {self.stats()}")
            time.sleep(interval)


@contextlib.contextmanager
def running_peer(
    port: int = 0,
    system_id: str = "test",
    password: str = "secret",
    *,
    tls_cert: str | Path | None = None,
    tls_key: str | Path | None = None,
    **settings,
):
    """A started peer (settings go to configure()), killed on exit; skips without Node.js, fails in CI."""
    reason = peer_available()
    if reason is not None:
        missing(reason, required=in_ci())
    peer = SmppPeer(system_id, password, tls_cert=tls_cert, tls_key=tls_key).start(port)
    try:
        if settings:
            peer.configure(**settings)
        yield peer
    finally:
        peer.stop()
