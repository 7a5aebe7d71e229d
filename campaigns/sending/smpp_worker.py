"""`manage.py smpp_worker`: holds an SMPP connector's binds and sends its messages from the outbox.

One asyncio loop per process; database work runs on a few threads (`smpp_store`). Per connector:
- bind slots are taken under a heartbeat lease, so several workers split a connector's `binds`;
- a feeder claims due messages (the outbox's claims and leases, in this connector's lane) while the binds have
  room in their windows, and each message's segments are submitted on the least busy bound session;
- answers map through the seed's command-status table (`dlr_codes.submit_error`): throttling slows the bind
  and resends the same segment, transient errors retry the message later, permanent ones reject it; a submit
  whose answer is lost leaves its message `unknown` (never resubmitted);
- receipts and inbound messages are stored in small batches before they are acknowledged.
SIGTERM: stop claiming, let the messages in flight finish (a grace period), unbind, give the slots back.
"""

import asyncio
import contextlib
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from campaigns import dlr_codes
from campaigns.connectors import ConnectorResult
from campaigns.connectors.settings import smpp_settings
from campaigns.connectors.smpp import pdus
from campaigns.connectors.smpp.session import AnswerLost, NotSent, Session
from campaigns.connectors.smpp.wire import encode_message
from campaigns.sending import smpp_store

logger = logging.getLogger("campaigns.sending.smpp_worker")

HEARTBEAT_SECONDS = 5.0
IDLE_POLL_SECONDS = 0.25
MAX_CLAIM = 500
CLAIMS_IN_FLIGHT = 3
THROTTLE_RESENDS = 8
DELIVERY_BATCH = 1000
DELIVERY_FLUSH_SECONDS = 0.1
DB_THREADS = 4


class ConnectorWorker:
    def __init__(self, connector, *, max_binds: int | None, worker: str, executor: ThreadPoolExecutor):
        self.connector = connector
        self.settings = smpp_settings(connector)
        self.max_binds = min(max_binds or self.settings.binds, self.settings.binds)
        self.worker = worker
        self.executor = executor
        self.sessions: dict[int, list[Session]] = {}
        self.tasks: list[asyncio.Task] = []
        self.stopping = False
        self.in_flight: set[asyncio.Task] = set()
        self.messages_in_flight = 0
        self.deliveries: list[tuple[pdus.Delivery, asyncio.Future]] = []
        self.delivery_ready = asyncio.Event()
        self._rotation = 0
        self._counted = {}

    async def db(self, function, *args):
        return await asyncio.get_running_loop().run_in_executor(self.executor, function, *args)

    # --- slots and sessions -------------------------------------------------------------------------------

    def _sessions_for(self, slot: int) -> list[Session]:
        modes = ["transmitter", "receiver"] if self.settings.bind_mode == "transmitter_receiver" else ["transceiver"]
        name = f"{self.connector.name}#{slot}"
        return [
            Session(self.settings, mode=mode, on_delivery=self.on_delivery, name=f"{name}/{mode}") for mode in modes
        ]

    async def take_slots(self) -> None:
        wanted = self.max_binds - len(self.sessions)
        if wanted <= 0 or self.stopping:
            return
        slots = await self.db(smpp_store.acquire_slots, self.connector, self.settings.binds, wanted, self.worker)
        for slot in slots:
            if slot in self.sessions:
                continue
            self.sessions[slot] = self._sessions_for(slot)
            self.tasks += [asyncio.create_task(session.run()) for session in self.sessions[slot]]
            logger.info("%s: took bind slot %s", self.connector.name, slot)

    def senders(self) -> list[Session]:
        return [s for group in self.sessions.values() for s in group if s.can_submit]

    def pick_sender(self) -> Session | None:
        senders = self.senders()
        return min(senders, key=lambda s: s.window_in_use) if senders else None

    # --- the loop -----------------------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event, grace: float = 10.0) -> None:
        await self.take_slots()
        background = [
            asyncio.create_task(self.feed()),
            asyncio.create_task(self.beat()),
            asyncio.create_task(self.flush_deliveries()),
        ]
        await stop.wait()
        await self.shutdown(background, grace)

    async def shutdown(self, background: list[asyncio.Task], grace: float = 10.0) -> None:
        self.stopping = True
        deadline = time.monotonic() + grace
        while self.in_flight and time.monotonic() < deadline:
            await asyncio.wait(self.in_flight, timeout=0.1)
        await asyncio.gather(
            *(s.stop(max(0.1, deadline - time.monotonic())) for g in self.sessions.values() for s in g)
        )
        self.delivery_ready.set()
        await asyncio.sleep(DELIVERY_FLUSH_SECONDS * 2)
        for task in background + self.tasks:
            task.cancel()
        await asyncio.gather(*background, *self.tasks, return_exceptions=True)
        await self.db(smpp_store.heartbeat, self.connector, self.worker, self.statuses())
        await self.db(smpp_store.release_slots, self.connector, self.worker)
        logger.info("%s: stopped, slots released", self.connector.name)

    async def feed(self) -> None:
        while not self.stopping:
            senders = self.senders()
            room = sum(self.settings.window - s.window_in_use for s in senders) * 2 - self.messages_in_flight
            if not senders or room <= 0 or len(self.in_flight) >= CLAIMS_IN_FLIGHT:
                await asyncio.sleep(0.005 if senders else IDLE_POLL_SECONDS)
                continue
            self._rotation += 1
            claimed = await self.db(self.claim, min(room, MAX_CLAIM), self._rotation)
            if claimed is None:
                await asyncio.sleep(IDLE_POLL_SECONDS)
                continue
            task = asyncio.create_task(self.send_claim(*claimed))
            self.in_flight.add(task)
            task.add_done_callback(self.in_flight.discard)

    def claim(self, limit: int, rotation: int):
        """On a database thread: a claim and what its submits need."""
        claim = smpp_store.claim_next(self.connector, limit, rotation)
        if claim is None:
            return None
        return claim, smpp_store.submit_params(claim.messages, self.settings)

    async def send_claim(self, claim, params: dict) -> None:
        self.messages_in_flight += len(claim.messages)
        try:
            outcomes = await asyncio.gather(*(self.send_message(m, params[m.pk]) for m in claim.messages))
        finally:
            self.messages_in_flight -= len(claim.messages)
        results = [(m, r) for m, r in zip(claim.messages, outcomes, strict=True) if r is not None]
        unsent = [m for m, r in zip(claim.messages, outcomes, strict=True) if r is None]
        await self.db(smpp_store.record, claim, results)
        if unsent:
            await self.db(smpp_store.release_unsent, claim, unsent)

    async def send_message(self, message, params) -> ConnectorResult | None:
        """Submit every segment of one message; None when nothing left (the message goes back to the queue)."""
        settings = self.settings
        wire = encode_message(
            message.outgoing_text(),
            message.encoding,
            flash=message.flash,
            destination_port=message.destination_port,
            long_messages=settings.long_messages,
            gsm_packed=settings.gsm_packed,
            latin1=settings.latin1,
            reference=message.pk,
        )
        first_id, accepted = "", 0
        for pdu in pdus.submit_pdus(params, wire):
            throttled = 0
            while True:
                session = self.pick_sender()
                try:
                    if session is None:
                        raise NotSent("no bound session")
                    answer = await session.submit(pdu)
                except NotSent as exc:
                    if not accepted:
                        return None
                    if not await self._wait_for_sender():
                        return ConnectorResult.unknown(f"{accepted} part(s) sent, then {exc}", first_id)
                    continue
                except AnswerLost as exc:
                    return ConnectorResult.unknown(f"submit answer lost: {exc}", first_id)
                if answer.status == 0:
                    session.pacer.recovered()
                    first_id, accepted = first_id or answer.message_id, accepted + 1
                    break
                error = dlr_codes.submit_error(answer.status)
                detail = f"{error.name}: {error.description}"
                if error.kind == "throttle" and throttled < THROTTLE_RESENDS:
                    throttled += 1
                    session.pacer.slow_down()
                    continue
                if error.kind == "permanent":
                    return ConnectorResult.rejected(error.code, detail)
                if accepted:
                    return ConnectorResult.unknown(f"{accepted} part(s) sent, then {detail}", first_id)
                return ConnectorResult.retry(detail)
        return ConnectorResult.accepted(first_id)

    async def _wait_for_sender(self) -> bool:
        deadline = time.monotonic() + self.settings.response_timeout_seconds
        while time.monotonic() < deadline and not self.stopping:
            if self.senders():
                return True
            await asyncio.sleep(0.1)
        return False

    # --- deliveries ---------------------------------------------------------------------------------------

    async def on_delivery(self, session: Session, pdu) -> int:
        delivery = pdus.read_delivery(pdu)
        future = asyncio.get_running_loop().create_future()
        self.deliveries.append((delivery, future))
        if len(self.deliveries) >= DELIVERY_BATCH:
            self.delivery_ready.set()
        return await future

    async def flush_deliveries(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.delivery_ready.wait(), DELIVERY_FLUSH_SECONDS)
            self.delivery_ready.clear()
            batch, self.deliveries = self.deliveries, []
            if not batch:
                continue
            try:
                await self.db(smpp_store.store_deliveries, self.connector, [d for d, _ in batch])
                status = 0
            except Exception:
                logger.exception("%s: storing %s deliveries failed", self.connector.name, len(batch))
                status = 0x64  # ESME_RX_T_APPN: the upstream delivers them again later
            for _, future in batch:
                if not future.done():
                    future.set_result(status)

    # --- status -------------------------------------------------------------------------------------------

    async def beat(self) -> None:
        while True:
            try:
                lost = await self.db(smpp_store.heartbeat, self.connector, self.worker, self.statuses())
                for slot in lost:
                    await self._drop_slot(slot)
                await self.take_slots()
            except Exception:
                logger.exception("%s: heartbeat failed", self.connector.name)
            await asyncio.sleep(HEARTBEAT_SECONDS)

    async def _drop_slot(self, slot: int) -> None:
        logger.warning("%s: bind slot %s was taken over; closing it here", self.connector.name, slot)
        for session in self.sessions.pop(slot, []):
            await session.stop(1.0)

    def statuses(self) -> list[dict]:
        now, rows = time.monotonic(), []
        for slot, group in self.sessions.items():
            submitted = sum(s.submitted for s in group)
            before, at = self._counted.get(slot, (submitted, now))
            self._counted[slot] = (submitted, now)
            errors = [s for s in group if s.last_error_at]
            latest = max(errors, key=lambda s: s.last_error_at) if errors else None
            rows.append(
                {
                    "slot": slot,
                    "state": _combined_state(group),
                    "mode": "+".join(s.mode for s in group),
                    "state_since": _aware(max(s.state_since for s in group)),
                    "last_error": latest.last_error if latest else "",
                    "last_error_at": _aware(latest.last_error_at) if latest else None,
                    "window_in_use": sum(s.window_in_use for s in group),
                    "submitted": submitted,
                    "receipts": sum(s.receipts for s in group),
                    "rate": round((submitted - before) / (now - at), 1) if now > at else 0.0,
                }
            )
        return rows


def _aware(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


def _combined_state(group: list[Session]) -> str:
    if all(s.bound for s in group):
        return "bound"
    return "binding" if any(s.state == "binding" for s in group) else "unbound"


async def run_workers(connectors, *, max_binds: int | None, stop: asyncio.Event, grace: float = 10.0) -> None:
    """Run one ConnectorWorker per connector until `stop` is set."""
    worker = smpp_store.worker_name()
    with ThreadPoolExecutor(max_workers=DB_THREADS, thread_name_prefix="smpp-db") as executor:
        workers = [ConnectorWorker(c, max_binds=max_binds, worker=worker, executor=executor) for c in connectors]
        try:
            await asyncio.gather(*(w.run(stop, grace) for w in workers))
        finally:
            barrier = threading.Barrier(DB_THREADS, timeout=1)
            loop = asyncio.get_running_loop()
            closing = [
                loop.run_in_executor(executor, smpp_store.close_thread_connection, barrier) for _ in range(DB_THREADS)
            ]
            await asyncio.gather(*closing)
