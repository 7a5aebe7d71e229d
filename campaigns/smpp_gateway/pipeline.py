"""The server process's way from a read submit to its answer, shared by all its sessions: the throughput cap of
each credential, the parts of concatenated messages waiting for each other, and the batches handed to the
database threads (`accepting.accept_submissions`).

A submit is answered only after its message is committed (or refused), so an ESME_ROK always names a stored
message and a submit left unanswered by a dying process was never stored.
"""

import asyncio
import logging
import time
from collections import defaultdict
from concurrent.futures import Executor

from campaigns.smpp_gateway import statuses
from campaigns.smpp_gateway.accepting import Answer, accept_submissions
from campaigns.smpp_gateway.submits import Submission

logger = logging.getLogger("campaigns.smpp_gateway")

BATCH_LINGER_SECONDS = 0.003  # how long the first submit of a batch waits for others
BATCH_MAX = 500
PARALLEL_BATCHES = 2
PARTS_TIMEOUT_SECONDS = 60.0


class Throttle:
    """A token bucket: `rate` submits per second, bursts of up to one second's worth."""

    def __init__(self, rate: int):
        self.rate = max(1, rate)
        self.tokens = float(self.rate)
        self.at = time.monotonic()

    def allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(float(self.rate), self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class PartsBuffer:
    """Parts of concatenated messages (UDH or SAR), keyed by credential, sender, number, reference and total.
    When the last part arrives the joined message is submitted and every part gets its answer (the same message
    id); parts still incomplete after `PARTS_TIMEOUT_SECONDS` are refused."""

    def __init__(self):
        self.waiting: dict[tuple, dict[int, tuple[Submission, asyncio.Future]]] = {}
        self.started: dict[tuple, float] = {}

    def add(
        self, credential_id: int, submission: Submission
    ) -> tuple[asyncio.Future, list[tuple[Submission, asyncio.Future]] | None]:
        """The future of this part's answer, and every part with its future when this one completes the
        message."""
        reference, total, sequence = submission.part
        key = (credential_id, submission.sender, submission.recipient, reference, total)
        future = asyncio.get_running_loop().create_future()
        parts = self.waiting.setdefault(key, {})
        self.started.setdefault(key, time.monotonic())
        if sequence in parts:
            future.set_result(Answer(statuses.DUPLICATE_PART, detail=f"part {sequence} of {total} given twice"))
            return future, None
        parts[sequence] = (submission, future)
        if len(parts) < total:
            return future, None
        del self.waiting[key], self.started[key]
        return future, list(parts.values())

    def expire(self) -> int:
        """Refuse the parts of messages that stayed incomplete too long; returns how many messages."""
        cutoff = time.monotonic() - PARTS_TIMEOUT_SECONDS
        expired = [key for key, started in self.started.items() if started < cutoff]
        for key in expired:
            for submission, future in self.waiting.pop(key).values():
                if not future.done():
                    detail = f"part {submission.part[2]} of {submission.part[1]}: the other parts never came"
                    future.set_result(Answer(statuses.SUBMIT_FAILED, detail=detail))
            del self.started[key]
        return len(expired)


class SubmitPipeline:
    """Collects the submits of every session for a few milliseconds and accepts them in batches per credential,
    at most `PARALLEL_BATCHES` at once, on the database threads."""

    def __init__(self, executor: Executor):
        self.executor = executor
        self.queue: list[tuple[int, Submission, asyncio.Future]] = []
        self.throttles: dict[int, Throttle] = {}
        self.parts = PartsBuffer()
        self.slots = asyncio.Semaphore(PARALLEL_BATCHES)
        self.wake = asyncio.Event()
        self.running: set[asyncio.Task] = set()
        self.flusher: asyncio.Task | None = None

    def start(self) -> None:
        self.flusher = asyncio.create_task(self._flush_forever())

    def share_throughput(self, credential_id: int, throughput: int, local: int, total: int) -> None:
        """This process holds `local` of the credential's `total` live sessions: it allows that share of the
        credential's throughput, so the servers behind a load balancer together allow the credential's rate."""
        rate = max(1, round(throughput * local / max(total, local, 1)))
        throttle = self.throttles.get(credential_id)
        if throttle is None or throttle.rate != rate:
            self.throttles[credential_id] = Throttle(rate)

    def throttle(self, credential_id: int) -> Throttle:
        return self.throttles[credential_id]

    async def answer(self, credential_id: int, submission: Submission) -> Answer:
        """The answer to one submit (a part of a concatenated message waits for the others)."""
        if submission.whole:
            return await self._queued(credential_id, submission)
        future, completed = self.parts.add(credential_id, submission)
        if completed is not None:
            answer = await self._queued(credential_id, submission.joined([part for part, _ in completed]))
            for _, waiter in completed:
                if not waiter.done():
                    waiter.set_result(answer)
        return await future

    def _queued(self, credential_id: int, submission: Submission) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        self.queue.append((credential_id, submission, future))
        self.wake.set()
        return future

    async def _flush_forever(self) -> None:
        while True:
            await self.wake.wait()
            await asyncio.sleep(BATCH_LINGER_SECONDS)
            self.wake.clear()
            while self.queue:
                batch, self.queue = self.queue[:BATCH_MAX], self.queue[BATCH_MAX:]
                by_credential: dict[int, list[tuple[Submission, asyncio.Future]]] = defaultdict(list)
                for credential_id, submission, future in batch:
                    by_credential[credential_id].append((submission, future))
                for credential_id, items in by_credential.items():
                    await self.slots.acquire()
                    task = asyncio.create_task(self._accept(credential_id, items))
                    self.running.add(task)
                    task.add_done_callback(self.running.discard)
            self.parts.expire()

    async def _accept(self, credential_id: int, items: list[tuple[Submission, asyncio.Future]]) -> None:
        try:
            loop = asyncio.get_running_loop()
            submissions = [submission for submission, _ in items]
            answers = await loop.run_in_executor(self.executor, accept_submissions, credential_id, submissions)
        except Exception as error:  # the database is down: nothing was stored, every submit may be tried again
            logger.exception("SMPP submits of credential %s could not be accepted", credential_id)
            answers = [Answer(statuses.SYSTEM_ERROR, detail=repr(error)[:200])] * len(items)
        finally:
            self.slots.release()
        for (_, future), answer in zip(items, answers, strict=True):
            if not future.done():
                future.set_result(answer)

    async def drain(self, timeout: float) -> None:
        """Wait until every queued submit is answered (the server is stopping)."""
        deadline = time.monotonic() + timeout
        while (self.queue or self.running) and time.monotonic() < deadline:
            self.wake.set()
            await asyncio.sleep(0.01)
        if self.flusher is not None:
            self.flusher.cancel()
