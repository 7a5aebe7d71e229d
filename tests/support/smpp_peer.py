"""A real SMSC on 127.0.0.1 for tests and benchmarks: npm's `smpp` (node-smpp) server driven by peer.js.

with running_peer() as peer:            # skips without Node.js / node_modules, fails under CI
    peer.port, peer.configure(throttle_next=2), peer.pdus("submit_sm"), peer.send_mo(...), peer.stop(), peer.restart()
"""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

from tests.support.services import in_ci, missing

PEER_DIR = Path(__file__).resolve().parent / "smpp_peer"
START_SECONDS = 15


def peer_available() -> str | None:
    """None when the peer can run here, else why not."""
    if shutil.which("node") is None:
        return "needs Node.js for the SMPP test peer (apt install nodejs npm)"
    if not (PEER_DIR / "node_modules" / "smpp").is_dir():
        return f"needs the SMPP test peer's packages: npm ci --prefix {PEER_DIR}"
    return None


class SmppPeer:
    host = "127.0.0.1"

    def __init__(self, system_id: str = "test", password: str = "secret"):
        self.system_id, self.password = system_id, password
        self.port = 0
        self.control_port = 0
        self.process: subprocess.Popen | None = None

    def start(self, port: int | None = None) -> "SmppPeer":
        command = ["node", str(PEER_DIR / "peer.js"), "--port", str(port if port is not None else self.port)]
        command += ["--control-port", "0", "--system-id", self.system_id, "--password", self.password]
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
        )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if line.startswith("LISTENING"):
                _, smpp_port, control_port = line.split()
                self.port, self.control_port = int(smpp_port), int(control_port)
                return self
            if self.process.poll() is not None:
                break
        raise RuntimeError(f"the SMPP peer did not start: {self.process.stderr.read()[-2000:]}")

    def stop(self) -> None:
        """Kill the server at once, as a crash would (connections drop, unanswered submits stay so)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)

    def restart(self) -> "SmppPeer":
        self.stop()
        for _ in range(50):
            try:
                return self.start(self.port)
            except RuntimeError:
                time.sleep(0.1)
        raise RuntimeError("the SMPP peer did not come back on its port")

    def _call(self, method: str, path: str, body: dict | None = None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"http://{self.host}:{self.control_port}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"null")

    def pdus(self, command: str | None = None) -> list[dict]:
        return self._call("GET", "/pdus" + (f"?command={command}" if command else ""))

    def binds(self) -> list[dict]:
        return self._call("GET", "/binds")

    def stats(self) -> dict:
        return self._call("GET", "/stats")

    def configure(self, **settings) -> dict:
        return self._call("POST", "/config", settings)

    def reset(self) -> None:
        self._call("POST", "/reset", {})

    def send_mo(self, **message) -> None:
        """An inbound message {from, to, text[, data_coding, parts]} to a bound receiver."""
        self._call("POST", "/mo", message)

    def send_receipt(self, **receipt) -> None:
        """A delivery receipt {id, from (the handset), to, stat, err} to a bound receiver."""
        self._call("POST", "/receipt", receipt)

    def close_sessions(self) -> None:
        self._call("POST", "/close_sessions", {})


@contextlib.contextmanager
def running_peer(system_id: str = "test", password: str = "secret"):
    reason = peer_available()
    if reason is not None:
        missing(reason, required=in_ci())
    peer = SmppPeer(system_id, password).start()
    try:
        yield peer
    finally:
        peer.stop()
