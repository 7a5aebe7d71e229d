"""The SMPP gateway server process (`manage.py smpp_server`): one asyncio loop serving many binds on the plain
port and, when a certificate is configured, the TLS port; the database work on a few threads.

Several processes on several machines behind a TCP load balancer share the work: bind limits, receipts and
inbound messages live in the database (`binds`, `outbound`), not in a process's memory. Every 10 s the process
touches its session rows (a dead process's rows go stale and the beat sweep removes them) and unbinds sessions
idle for `SMPP_IDLE_SECONDS`. SIGTERM or SIGINT stop it gracefully (`stop`).
"""

import asyncio
import contextlib
import logging
import os
import signal
import socket
import ssl
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from django.db import connections

from campaigns.smpp_gateway import binds
from campaigns.smpp_gateway.conf import setting
from campaigns.smpp_gateway.connection import Connection
from campaigns.smpp_gateway.pipeline import SubmitPipeline

logger = logging.getLogger("campaigns.smpp_gateway")

HEARTBEAT_SECONDS = 10.0
STOP_GRACE_SECONDS = 10.0


def tls_context(cert: str, key: str) -> ssl.SSLContext:
    """TLS 1.2 or newer with the configured certificate (the seed offers "TLS 1.0 or better"; 1.0 and 1.1 are
    disabled by OpenSSL's defaults on current systems)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context


class GatewayServer:
    def __init__(self, *, host: str, port: int, tls_port: int = 0, tls: ssl.SSLContext | None = None):
        self.host, self.port, self.tls_port, self.tls = host, port, tls_port, tls
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self.executor = ThreadPoolExecutor(setting("SMPP_DB_THREADS"), thread_name_prefix="smpp-db")
        self.connections: set[Connection] = set()
        self.listeners: list[asyncio.Server] = []
        self.pipeline: SubmitPipeline | None = None
        self.stopped = asyncio.Event()
        self._heartbeat: asyncio.Task | None = None
        self._handlers: set[asyncio.Task] = set()
        self._beat_at = time.monotonic()
        self._submitted_at_beat: dict[Connection, int] = {}

    @property
    def ports(self) -> list[int]:
        """The ports listened on (useful when started on port 0)."""
        return [listener.sockets[0].getsockname()[1] for listener in self.listeners]

    async def database(self, function, *args):
        """Run a database function on one of the database threads."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, function, *args)

    async def start(self) -> None:
        self.pipeline = SubmitPipeline(self.executor)
        self.pipeline.start()
        self.listeners.append(await asyncio.start_server(self._plain, self.host, self.port))
        if self.tls is not None:
            self.listeners.append(await asyncio.start_server(self._secure, self.host, self.tls_port, ssl=self.tls))
        self._heartbeat = asyncio.create_task(self._beat_forever())
        logger.info("SMPP gateway %s listening on %s %s", self.name, self.host, self.ports)

    async def _plain(self, reader, writer) -> None:
        await self._serve(reader, writer, tls=False)

    async def _secure(self, reader, writer) -> None:
        await self._serve(reader, writer, tls=True)

    async def _serve(self, reader, writer, *, tls: bool) -> None:
        connection = Connection(self, reader, writer, tls=tls)
        self.connections.add(connection)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        task = asyncio.current_task()
        self._handlers.add(task)
        try:
            await connection.run()
        finally:
            self._handlers.discard(task)

    def share_throughput(self, sessions_bound: dict[int, int]) -> None:
        """Each credential's throughput split by where its sessions are: `sessions_bound` is its live sessions on
        every server (the registry), against those bound here."""
        local = Counter(c.bound.credential_id for c in self.connections if c.bound is not None and c.state == "bound")
        throughputs = {c.bound.credential_id: c.bound.throughput for c in self.connections if c.bound is not None}
        for credential_id, total in sessions_bound.items():
            if credential_id in throughputs:
                self.pipeline.share_throughput(credential_id, throughputs[credential_id], local[credential_id], total)

    def forget(self, connection: Connection) -> None:
        self.connections.discard(connection)

    async def _beat_forever(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            await self.beat()

    async def beat(self) -> None:
        """The heartbeat: touch the session rows with their figures, re-split the throughputs, unbind idle
        sessions."""
        now = time.monotonic()
        bound = [c for c in self.connections if c.bound is not None and c.state == "bound"]
        figures = [c.figures(now - self._beat_at, self._submitted_at_beat.get(c, 0)) for c in bound]
        self._submitted_at_beat, self._beat_at = {c: c.submitted for c in bound}, now
        with contextlib.suppress(Exception):
            self.share_throughput(await self.database(binds.touch_sessions, figures))
        idle = setting("SMPP_IDLE_SECONDS")
        for connection in list(self.connections):
            if now - connection.last_heard > idle:
                task = asyncio.create_task(connection.unbind(f"idle for more than {idle} s"))
                self._handlers.add(task)
                task.add_done_callback(self._handlers.discard)

    async def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """Stop listening, unbind every session after answering the submits it took, give back the deliver_sm
        not yet acknowledged, remove the session rows, and close."""
        for listener in self.listeners:
            listener.close()
        if self._heartbeat is not None:
            self._heartbeat.cancel()
        await asyncio.gather(*(c.unbind("the server is stopping") for c in list(self.connections)))
        deadline = time.monotonic() + grace
        while self._handlers and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        if self.pipeline is not None:
            await self.pipeline.drain(max(0.0, deadline - time.monotonic()))
        for listener in self.listeners:
            with contextlib.suppress(Exception):
                await listener.wait_closed()
        self.executor.submit(connections.close_all).result()
        self.executor.shutdown(wait=True)
        self.stopped.set()
        logger.info("SMPP gateway %s stopped", self.name)


def server_from_settings(*, host: str | None = None, port: int | None = None, tls_port: int | None = None):
    """The server the settings describe. A TLS listener runs on `tls_port` (default `SMPP_TLS_PORT`; 0 there
    means none) and needs `SMPP_TLS_CERT` and `SMPP_TLS_KEY`."""
    if tls_port is None:
        tls_port = setting("SMPP_TLS_PORT") or None
    context = None
    if tls_port is not None:
        cert, key = setting("SMPP_TLS_CERT"), setting("SMPP_TLS_KEY")
        if not (cert and key):
            raise ValueError("The SMPP TLS port needs SMPP_TLS_CERT and SMPP_TLS_KEY (PEM files).")
        context = tls_context(cert, key)
    return GatewayServer(
        host=host or setting("SMPP_HOST"),
        port=setting("SMPP_PORT") if port is None else port,
        tls_port=tls_port or 0,
        tls=context,
    )


async def serve_until_signalled(server: GatewayServer, ready=None) -> None:
    """Start, then run until SIGTERM or SIGINT, then stop gracefully."""
    await server.start()
    if ready is not None:
        ready(server)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await server.stop()
