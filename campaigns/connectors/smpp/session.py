"""One SMPP 3.4 connection to an upstream (asyncio): bind, a window of outstanding submits, a throughput cap,
enquire_link, generic_nack, unbind both ways, and reconnection with exponential backoff.

`Session.run()` keeps the connection up until `stop()`; `submit(pdu)` sends one submit_sm and returns its answer.
A submit that never left raises `NotSent` (safe to try again); one that left and whose answer is lost (connection
dropped, no answer in time) raises `AnswerLost`: the upstream may have it, so the caller must not resubmit it.
Requests from the upstream (deliver_sm, data_sm) go to `on_delivery(session, pdu) -> command status`, which is
answered only after it returns, so a receipt or an inbound message is stored before the upstream forgets it.
"""

import asyncio
import contextlib
import itertools
import logging
import random
import ssl
import time
from dataclasses import dataclass

from smpp.pdu import operations as op

from campaigns.connectors.smpp import pdus

logger = logging.getLogger("campaigns.connectors.smpp")

RESPONSE_BIT = 0x80000000
SEQUENCE_LIMIT = 0x7FFFFFFF
INVALID_COMMAND = 0x03
UNBIND_SECONDS = 2.0


class NotSent(Exception):
    """The submit never left: no bind, or the connection went down before it was written."""


class AnswerLost(Exception):
    """The submit was written but its answer never came."""


class BindRefused(Exception):
    def __init__(self, status: int):
        super().__init__(f"bind refused with command_status 0x{status:08X}")
        self.status = status


@dataclass(frozen=True)
class SubmitAnswer:
    status: int
    message_id: str


class Pacer:
    """At most `rate` submits per second (0: no cap); `slow_down` pauses the bind after a throttling answer."""

    def __init__(self, rate: float):
        self.rate = rate
        self.next_at = 0.0
        self.paused_until = 0.0
        self.penalty = 0.0

    async def wait(self) -> None:
        now = time.monotonic()
        start = max(now, self.next_at, self.paused_until)
        if self.rate:
            self.next_at = start + 1.0 / self.rate
        if start > now:
            await asyncio.sleep(start - now)

    def slow_down(self) -> float:
        self.penalty = min(max(self.penalty * 2, 0.5), 10.0)
        self.paused_until = time.monotonic() + self.penalty
        return self.penalty

    def recovered(self) -> None:
        self.penalty = 0.0


class Session:
    def __init__(self, settings, *, mode: str, on_delivery=None, name: str = ""):
        self.settings = settings
        self.mode = mode
        self.name = name or f"{settings.system_id}@{settings.host}:{settings.port}/{mode}"
        self.on_delivery = on_delivery
        self.state = "unbound"
        self.state_since = time.time()
        self.last_error = ""
        self.last_error_at: float | None = None
        self.submitted = 0
        self.receipts = 0
        self.pacer = Pacer(settings.throughput)
        self._sequence = itertools.count(1)
        self._pending: dict[int, asyncio.Future] = {}
        self._submits_out = 0
        self._window = asyncio.Semaphore(settings.window)
        self._writer: asyncio.StreamWriter | None = None
        self._stopping = False
        self._bound = asyncio.Event()
        self._closed = asyncio.Event()
        self._last_heard = time.monotonic()
        self._tasks: set[asyncio.Task] = set()

    # --- status -------------------------------------------------------------------------------------------

    @property
    def bound(self) -> bool:
        return self.state == "bound"

    @property
    def can_submit(self) -> bool:
        return self.bound and self.mode != "receiver" and not self._stopping

    @property
    def window_in_use(self) -> int:
        return self._submits_out

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state, self.state_since = state, time.time()
        if state == "bound":
            self._bound.set()
        else:
            self._bound.clear()

    def _error(self, text: str) -> None:
        self.last_error, self.last_error_at = text[:300], time.time()
        logger.warning("%s: %s", self.name, text)

    # --- connection lifecycle -----------------------------------------------------------------------------

    async def run(self) -> None:
        """Connect, bind and serve until `stop()`, reconnecting with exponential backoff (with jitter)."""
        delay = self.settings.reconnect_min_seconds
        while not self._stopping:
            try:
                await self._connect_and_bind()
                delay = self.settings.reconnect_min_seconds
                await self._serve()
            except BindRefused as exc:
                self._error(str(exc))
            except (TimeoutError, OSError, asyncio.IncompleteReadError, pdus.FrameError) as exc:
                if not self._stopping:
                    self._error(f"connection lost: {exc!r}")
            finally:
                self._drop_connection("connection closed")
            if self._stopping:
                break
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, self.settings.reconnect_max_seconds)
        self._set_state("unbound")
        self._closed.set()

    async def wait_bound(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self._bound.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def _connect_and_bind(self) -> None:
        self._set_state("binding")
        context = None
        if self.settings.ssl:
            context = ssl.create_default_context()
            if not self.settings.ssl_verify:
                context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        timeout = self.settings.response_timeout_seconds
        self._reader, self._writer = await asyncio.wait_for(
            asyncio.open_connection(self.settings.host, self.settings.port, ssl=context), timeout
        )
        self._window = asyncio.Semaphore(self.settings.window)
        self._writer.write(pdus.encode(pdus.bind_request(self.mode, self._next_sequence(), self.settings)))
        answer = pdus.decode(await asyncio.wait_for(self._read_frame(), timeout))
        status = pdus.status_number(answer)
        if status != 0:
            raise BindRefused(status)
        self._set_state("bound")
        logger.info("%s bound", self.name)

    async def _serve(self) -> None:
        keepalive = asyncio.create_task(self._keep_alive())
        try:
            while True:
                frame = await self._read_frame()
                self._last_heard = time.monotonic()
                self._handle_frame(frame)
        finally:
            keepalive.cancel()

    async def _read_frame(self) -> bytes:
        header = await self._reader.readexactly(16)
        return header + await self._reader.readexactly(pdus.frame_length(header) - 16)

    def _drop_connection(self, reason: str) -> None:
        self._set_state("unbound")
        for future in self._pending.values():
            if not future.done():
                future.set_exception(AnswerLost(reason))
        self._pending.clear()
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    async def stop(self, grace: float = 10.0) -> None:
        """Stop taking submits, wait for the outstanding answers (up to `grace` seconds), unbind, close."""
        self._stopping = True
        deadline = time.monotonic() + grace
        while self._submits_out and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if self.bound and self._writer is not None:
            with contextlib.suppress(AnswerLost, TimeoutError, OSError):
                await asyncio.wait_for(self._request(op.Unbind(seqNum=self._next_sequence())), UNBIND_SECONDS)
        self._drop_connection("stopped")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closed.wait(), UNBIND_SECONDS)

    # --- traffic ------------------------------------------------------------------------------------------

    def _next_sequence(self) -> int:
        sequence = next(self._sequence)
        if sequence >= SEQUENCE_LIMIT:
            self._sequence = itertools.count(2)
            sequence = 1
        return sequence

    def _request(self, pdu) -> asyncio.Future:
        if self._writer is None:
            raise NotSent("not connected")
        pdu.seqNum = self._next_sequence()
        future = asyncio.get_running_loop().create_future()
        self._pending[pdu.seqNum] = future
        self._writer.write(pdus.encode(pdu))
        return future

    async def submit(self, pdu) -> SubmitAnswer:
        if not self.can_submit:
            raise NotSent("no bound session")
        async with self._window:
            await self.pacer.wait()
            if not self.can_submit:
                raise NotSent("the bind went down before the submit left")
            future = self._request(pdu)
            self._submits_out += 1
            self.submitted += 1
            try:
                answer = await asyncio.wait_for(future, self.settings.response_timeout_seconds)
            except TimeoutError:
                self._pending.pop(pdu.seqNum, None)
                raise AnswerLost(f"no answer within {self.settings.response_timeout_seconds:g} s") from None
            finally:
                self._submits_out -= 1
        message_id = answer.params.get("message_id") or b""
        return SubmitAnswer(pdus.status_number(answer), message_id.decode("ascii", "replace").strip())

    def _handle_frame(self, frame: bytes) -> None:
        _, command_id, _, sequence = pdus.header_of(frame)
        try:
            pdu = pdus.decode(frame)
        except pdus.PDUParseError as exc:
            self._answer_malformed(command_id, sequence, exc)
            return
        if command_id & RESPONSE_BIT:
            future = self._pending.pop(sequence, None)
            if future is not None and not future.done():
                future.set_result(pdu)
            return
        name = pdu.id.name
        if name == "enquire_link":
            self._write(pdus.response_to(pdu))
        elif name == "unbind":
            self._write(pdus.response_to(pdu))
            self._writer.close()
        elif name in ("deliver_sm", "data_sm") and self.on_delivery is not None:
            task = asyncio.create_task(self._deliver(pdu))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            self._write(pdus.generic_nack(sequence, INVALID_COMMAND))

    def _answer_malformed(self, command_id: int, sequence: int, exc: Exception) -> None:
        self._error(f"malformed PDU 0x{command_id:08X}: {exc}")
        future = self._pending.pop(sequence, None)
        if command_id & RESPONSE_BIT:
            if future is not None and not future.done():
                future.set_exception(AnswerLost(f"malformed answer: {exc}"))
            return
        status = getattr(getattr(exc, "status", None), "name", None)
        self._write(pdus.generic_nack(sequence, pdus.STATUS_NUMBER.get(status, 0x02) if status else 0x02))

    async def _deliver(self, pdu) -> None:
        try:
            status = await self.on_delivery(self, pdu)
        except Exception:  # never leave the upstream without an answer: it will redeliver
            logger.exception("%s: delivery handling failed", self.name)
            status = 0x64  # ESME_RX_T_APPN: temporary, try again
        self.receipts += 1
        self._write(pdus.response_to(pdu, status))

    def _write(self, pdu) -> None:
        if self._writer is not None and not self._writer.is_closing():
            self._writer.write(pdus.encode(pdu))

    async def _keep_alive(self) -> None:
        """enquire_link after `enquire_link_seconds` without hearing from the upstream; no answer drops the link."""
        interval = self.settings.enquire_link_seconds
        while True:
            await asyncio.sleep(max(0.5, interval - (time.monotonic() - self._last_heard)))
            if time.monotonic() - self._last_heard < interval:
                continue
            try:
                await asyncio.wait_for(self._request(op.EnquireLink(seqNum=0)), self.settings.response_timeout_seconds)
            except (TimeoutError, AnswerLost, NotSent):
                self._error("no enquire_link_resp: dropping the connection")
                if self._writer is not None:
                    self._writer.close()
                return
