"""One customer connection to the SMPP gateway: bind, submits (submit_sm, data_sm), enquire_link, unbind both
ways, and, on receiver and transceiver binds, the deliver_sm of its credential's receipts and inbound messages.

Submits are answered out of order as their messages are committed (SMPP allows it); at most the credential's
window of them wait at once (more: ESME_RMSSQFUL), and over its throughput ESME_RTHROTTLED. When the server
stops, the connection stops taking submits (answered ESME_RINVBNDSTS: submit again on another bind), answers
those it took, unbinds, gives back the deliver_sm not yet acknowledged, and closes.
"""

import asyncio
import contextlib
import itertools
import logging
import time

from smpp.pdu import operations as op

from campaigns.connectors.smpp import pdus
from campaigns.smpp_gateway import binds, outbound, statuses, submits
from campaigns.smpp_gateway.accepting import Answer

logger = logging.getLogger("campaigns.smpp_gateway")

RESPONSE_BIT = 0x80000000
BIND_COMMANDS = {"bind_transmitter": "transmitter", "bind_receiver": "receiver", "bind_transceiver": "transceiver"}
SUBMIT_COMMANDS = ("submit_sm", "data_sm")
ANSWER_TIMEOUT_SECONDS = 30.0  # a deliver_sm unanswered this long is given back
POLL_SECONDS = 0.5  # how often a receiving session looks for new rows when it found none
UNBIND_SECONDS = 2.0
SMSC_SYSTEM_ID = b"cpaas"


class Connection:
    def __init__(self, server, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, tls: bool):
        self.server, self.reader, self.writer, self.tls = server, reader, writer, tls
        peer = writer.get_extra_info("peername") or ("?", 0)
        self.ip, self.address = str(peer[0]), f"{peer[0]}:{peer[1]}"
        self.bound: binds.Bound | None = None
        self.bind_type = ""
        self.state = "open"  # open → bound → unbinding → closed
        self.last_heard = time.monotonic()
        self.outstanding = 0
        self.submitted = self.refused = self.delivered = 0
        self.in_flight: dict[int, tuple[int, float]] = {}  # deliver_sm sequence → (row pk, sent at)
        self.acknowledged: list[int] = []
        self.failed: list[int] = []
        self._sequence = itertools.count(1)
        self._tasks: set[asyncio.Task] = set()
        self._unbound = asyncio.Event()
        self._pump: asyncio.Task | None = None

    # --- reading -----------------------------------------------------------------------------------------

    async def run(self) -> None:
        try:
            while self.state != "closed":
                header = await self.reader.readexactly(16)
                frame = header + await self.reader.readexactly(pdus.frame_length(header) - 16)
                self.last_heard = time.monotonic()
                await self._handle(frame)
        except (asyncio.IncompleteReadError, ConnectionError, pdus.FrameError, OSError):
            pass
        finally:
            await self._finish()

    async def _handle(self, frame: bytes) -> None:
        _, command_id, status, sequence = pdus.header_of(frame)
        if command_id & RESPONSE_BIT:
            self._response(command_id, status, sequence)
            return
        try:
            pdu = pdus.decode(frame)
        except pdus.PDUParseError as error:
            code = pdus.STATUS_NUMBER.get(getattr(error.status, "name", ""), 0x02)
            self._send(pdus.encode(pdus.generic_nack(sequence, code)))
            return
        name = pdu.id.name
        if name in BIND_COMMANDS:
            await self._bind(pdu, BIND_COMMANDS[name])
        elif name in SUBMIT_COMMANDS:
            self._submit(pdu, frame)
        elif name == "enquire_link":
            self._send(pdus.encode(pdus.response_to(pdu)))
        elif name == "unbind":
            await self._wait_outstanding(UNBIND_SECONDS * 5)
            self._send(pdus.encode(pdus.response_to(pdu)))
            self.state = "closed"
        else:
            self._send(pdus.encode(pdus.generic_nack(sequence, statuses.INVALID_COMMAND.number)))

    def _response(self, command_id: int, status: int, sequence: int) -> None:
        if command_id == 0x80000006:  # unbind_resp
            self._unbound.set()
            return
        sent = self.in_flight.pop(sequence, None)
        if sent is None:
            return
        (self.acknowledged if status == 0 and command_id == 0x80000005 else self.failed).append(sent[0])
        if status == 0 and command_id == 0x80000005:
            self.delivered += 1

    # --- bind --------------------------------------------------------------------------------------------

    async def _bind(self, pdu, bind_type: str) -> None:
        answer = pdu.requireAck(seqNum=pdu.seqNum, system_id=SMSC_SYSTEM_ID)
        if self.bound is not None or self.state != "open":
            self._send(pdus.with_status(pdus.encode(answer), statuses.ALREADY_BOUND.number))
            return
        params = pdu.params
        request = binds.BindRequest(
            system_id=_text(params.get("system_id")),
            password=_text(params.get("password")),
            system_type=_text(params.get("system_type")),
            bind_type=bind_type,
            interface_version=int(params.get("interface_version") or 0x34),
            ip=self.ip,
            address=self.address,
            tls=self.tls,
        )
        delay = await self.server.database(binds.failure_delay, self.ip)
        if delay:
            await asyncio.sleep(delay)
        try:
            self.bound = await self.server.database(binds.bind, request, self.server.name)
        except binds.BindRefused as refused:
            logger.info("SMPP bind refused for %r from %s: %s", request.system_id, self.address, refused.reason)
            self._send(pdus.with_status(pdus.encode(answer), refused.status.number))
            self.state = "closed"
            return
        self.bind_type, self.state = bind_type, "bound"
        self.server.share_throughput({self.bound.credential_id: self.bound.sessions_bound})
        self._send(pdus.encode(answer))
        logger.info("SMPP %s bound as %s from %s", request.system_id, bind_type, self.address)
        if bind_type != "transmitter":
            self._pump = asyncio.create_task(self._deliver_forever())

    # --- submits -----------------------------------------------------------------------------------------

    def _submit(self, pdu, frame: bytes) -> None:
        refusal = self._refusal()
        if refusal is None:
            try:
                submission = submits.read_submission(pdu, frame)
            except submits.Refused as refused:
                refusal = Answer(refused.status, detail=str(refused))
        if refusal is not None:
            self.refused += 1
            self._send(self._submit_answer(pdu, refusal))
            return
        self.outstanding += 1
        self._spawn(self._answer_submit(pdu, submission))

    def _refusal(self) -> Answer | None:
        if self.state == "unbinding":
            return Answer(statuses.INVALID_BIND_STATUS, detail="the session is unbinding: submit on another bind")
        if self.bound is None or self.bind_type == "receiver":
            return Answer(statuses.INVALID_BIND_STATUS)
        if self.outstanding >= self.bound.window:
            return Answer(statuses.QUEUE_FULL)
        if not self.server.pipeline.throttle(self.bound.credential_id).allow():
            return Answer(statuses.THROTTLED)
        return None

    async def _answer_submit(self, pdu, submission: submits.Submission) -> None:
        try:
            answer = await self.server.pipeline.answer(self.bound.credential_id, submission)
        finally:
            self.outstanding -= 1
        if answer.status is statuses.OK:
            self.submitted += 1
        else:
            self.refused += 1
            logger.info(
                "SMPP submit of %s refused with %s: %s", self.bound.system_id, answer.status.name, answer.detail
            )
        self._send(self._submit_answer(pdu, answer))

    @staticmethod
    def _submit_answer(pdu, answer: Answer) -> bytes:
        """submit_sm_resp / data_sm_resp: the message id when accepted; the header alone when refused (SMPP 3.4
        §4.4.2: no body with a non-zero command_status)."""
        if answer.status is statuses.OK:
            return pdus.encode(pdus.response_to(pdu, 0, message_id=answer.message_id.encode()))
        frame = pdus.with_status(pdus.encode(pdus.response_to(pdu, 0)), answer.status.number)
        return (16).to_bytes(4, "big") + frame[4:16]

    async def _wait_outstanding(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.outstanding and time.monotonic() < deadline:
            await asyncio.sleep(0.01)

    # --- deliver_sm --------------------------------------------------------------------------------------

    async def _deliver_forever(self) -> None:
        """Lease rows up to the free window, send them, record the answers; look again after POLL_SECONDS when
        there was nothing to send."""
        bound = self.bound
        while self.state == "bound":
            await self._settle_answers()
            free = bound.window - len(self.in_flight)
            rows = await self.server.database(outbound.lease, bound.credential_id, bound.session_uid, free)
            for row in rows:
                sequence = next(self._sequence)
                self.in_flight[sequence] = (row.pk, time.monotonic())
                self._send(pdus.encode(outbound.deliver_sm(row, sequence)))
            await asyncio.sleep(0.02 if rows else POLL_SECONDS)

    async def _settle_answers(self) -> None:
        cutoff = time.monotonic() - ANSWER_TIMEOUT_SECONDS
        for sequence, (pk, sent_at) in list(self.in_flight.items()):
            if sent_at < cutoff:
                del self.in_flight[sequence]
                self.failed.append(pk)
        acknowledged, self.acknowledged = self.acknowledged, []
        failed, self.failed = self.failed, []
        uid = self.bound.session_uid
        if acknowledged:
            await self.server.database(outbound.mark_delivered, acknowledged, uid)
        if failed:
            await self.server.database(outbound.give_back, failed, uid)

    # --- writing and ending ------------------------------------------------------------------------------

    def _send(self, frame: bytes) -> None:
        if not self.writer.is_closing():
            self.writer.write(frame)

    def _spawn(self, coroutine) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def figures(self, seconds: float, previous: int) -> binds.SessionFigures:
        rate = (self.submitted - previous) / seconds if seconds > 0 else 0.0
        bound = self.bound
        return binds.SessionFigures(
            bound.session_uid, bound.credential_id, self.submitted, self.refused, self.delivered, rate
        )

    async def unbind(self, reason: str) -> None:
        """Stop taking submits, answer those taken, send unbind and wait briefly for its answer, then close."""
        if self.state != "bound":
            self.state = "closed"
            self.writer.close()
            return
        logger.info("SMPP unbinding %s (%s): %s", self.bound.system_id, self.address, reason)
        self.state = "unbinding"
        await self._wait_outstanding(UNBIND_SECONDS * 5)
        self._send(pdus.encode(op.Unbind(seqNum=next(self._sequence))))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._unbound.wait(), UNBIND_SECONDS)
        self.state = "closed"
        self.writer.close()

    async def _finish(self) -> None:
        self.state = "closed"
        await self._wait_outstanding(UNBIND_SECONDS * 5)
        if self._pump is not None:
            self._pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._pump
        with contextlib.suppress(Exception):
            await self.writer.drain()
        self.writer.close()
        if self.bound is not None:
            self.failed.extend(pk for pk, _ in self.in_flight.values())
            self.in_flight.clear()
            with contextlib.suppress(Exception):
                await self._settle_answers()
                await self.server.database(binds.end_session, self.bound.session_uid)
        self.server.forget(self)


def _text(value) -> str:
    return (value or b"").decode("ascii", "replace").strip() if isinstance(value, bytes) else str(value or "")
