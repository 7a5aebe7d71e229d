"""A real HTTP server on 127.0.0.1 for tests: records every request and answers as programmed.

receiver = HttpReceiver().start()
receiver.respond(Reply(500), Reply(429, headers={"Retry-After": "7"}))  # the next two answers
receiver.default = Reply(200, body=b"ok", delay=0.0)                     # every later answer
receiver.default = lambda request: Reply(200, body=request.body)          # or an answer made from the request
... receiver.url("/hook"), receiver.wait_for(3), receiver.requests ...
receiver.stop()        # down (the port is kept, start() brings it back on the same port)
"""

import contextlib
import json
import socket
import ssl
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    received_at: float
    client_port: int = 0

    def json(self):
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode()


Answer = Callable[[ReceivedRequest], Reply]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes: no 40 ms delayed-ACK stall
    server: "_Server"

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        received = ReceivedRequest(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={key.lower(): value for key, value in self.headers.items()},
            body=body,
            received_at=time.time(),
            client_port=self.client_address[1],
        )
        reply = self.server.owner._record(received)
        if reply.delay:
            time.sleep(reply.delay)
        try:
            self.send_response(reply.status)
            for key, value in reply.headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    def setup(self) -> None:
        super().setup()
        self.server.open_sockets.add(self.connection)

    def finish(self) -> None:
        self.server.open_sockets.discard(self.connection)
        super().finish()

    def log_message(self, format, *args):
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, owner: "HttpReceiver"):
        self.owner = owner
        self.open_sockets: set[socket.socket] = set()
        super().__init__(address, _Handler)

    def drop_connections(self) -> None:
        """Close kept-alive client connections too, as a server going down does."""
        for connection in list(self.open_sockets):
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request, client_address) -> None:
        """A client that hung up (e.g. after reading only an excerpt) is normal here, not an error."""
        if not isinstance(sys.exc_info()[1], ConnectionResetError | BrokenPipeError):
            super().handle_error(request, client_address)


class HttpReceiver:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, tls: ssl.SSLContext | None = None):
        self.host = host
        self.port = port
        self.tls = tls
        self.default: Reply | Answer = Reply()
        self._script: deque[Reply | Answer] = deque()
        self._requests: list[ReceivedRequest] = []
        self._lock = threading.Condition()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> "HttpReceiver":
        self._server = _Server((self.host, self.port), self)
        self.port = self._server.server_address[1]
        if self.tls is not None:
            self._server.socket = self.tls.wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.drop_connections()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    @property
    def running(self) -> bool:
        return self._server is not None

    def url(self, path: str = "/") -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}:{self.port}{path}"

    def respond(self, *replies: "Reply | int | Answer") -> None:
        """Queue the next answers (a Reply, just a status, or a function of the request); afterwards `default`."""
        with self._lock:
            self._script.extend(Reply(reply) if isinstance(reply, int) else reply for reply in replies)

    def _record(self, received: ReceivedRequest) -> Reply:
        with self._lock:
            self._requests.append(received)
            reply = self._script.popleft() if self._script else self.default
            self._lock.notify_all()
        return reply(received) if callable(reply) else reply

    @property
    def requests(self) -> list[ReceivedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def ports(self) -> set[int]:
        """Client ports seen: one per connection the sender opened."""
        return {request.client_port for request in self.requests}

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedRequest]:
        """Block until `count` requests arrived (AssertionError after `timeout` seconds)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while len(self._requests) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"expected {count} requests, got {len(self._requests)}")
                self._lock.wait(remaining)
            return list(self._requests)

    def __enter__(self) -> "HttpReceiver":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
