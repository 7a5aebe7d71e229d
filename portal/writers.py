"""Writing on threads with their own database connections, while the calling thread prepares the next work.

Bulk jobs (an import's batches, a campaign's message chunks) spend much of their time waiting for the database.
`ThreadedWriter` hands each item to one of `threads` writer threads, each with its own connection (closed when
the thread ends), so the database works on one or two items while Python prepares the next; with two threads,
on two server processes at once. At most `backlog` items wait. The first error stops the writing: items still
queued are skipped and the error is raised by the next `submit` or by `finish`. With `threaded=False` (SQLite,
which has one writer at a time, or inside a transaction, whose rows another connection would not see) each item
is written in place by `submit`.

Used as a context manager, it waits for everything at the end of the block and raises the first write error.
`busy_seconds` is the wall time during which at least one item was being written.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from django.db import connection

logger = logging.getLogger(__name__)

__all__ = ["ThreadedWriter", "can_write_on_threads"]

Item = TypeVar("Item")
Result = TypeVar("Result")


def can_write_on_threads() -> bool:
    """PostgreSQL takes writes from other connections while this one goes on; SQLite has one writer at a time,
    and inside an atomic block another connection would not see this one's rows."""
    return connection.vendor == "postgresql" and not connection.in_atomic_block


class ThreadedWriter(Generic[Item, Result]):
    def __init__(
        self, write: Callable[[Item], Result], *, threads: int, backlog: int, threaded: bool, name: str
    ) -> None:
        self.write = write
        self.threaded = threaded
        self.thread_count = max(1, threads)
        self.backlog = max(1, backlog)
        self.name = name
        self.queue: queue.Queue = queue.Queue(maxsize=self.backlog)
        self.results: queue.SimpleQueue = queue.SimpleQueue()
        self.threads: list[threading.Thread] = []
        self.failure: BaseException | None = None
        self.discard = False
        self.busy_seconds = 0.0
        self._busy = 0
        self._busy_since = 0.0
        self._lock = threading.Lock()

    def _timed(self, item: Item) -> Result:
        with self._lock:
            if not self._busy:
                self._busy_since = time.perf_counter()
            self._busy += 1
        try:
            return self.write(item)
        finally:
            with self._lock:
                self._busy -= 1
                if not self._busy:
                    self.busy_seconds += time.perf_counter() - self._busy_since

    def _loop(self) -> None:
        try:
            while (item := self.queue.get()) is not None:
                if self.failure is None and not self.discard:
                    try:
                        self.results.put(self._timed(item))
                    except BaseException as exc:  # raised in the submitting thread
                        self.failure = exc
        finally:
            connection.close()

    def _raise_failure(self) -> None:
        """The first write error; it stays set, so the threads skip whatever is still queued."""
        if self.failure is not None:
            raise self.failure

    def _completed(self) -> list[Result]:
        """The results written since the last call (or the first write error)."""
        self._raise_failure()
        done = []
        while not self.results.empty():
            done.append(self.results.get())
        return done

    def submit(self, item: Item) -> list[Result]:
        """Hand `item` over (waiting while `backlog` items wait); returns the results completed meanwhile."""
        if not self.threaded:
            return [self._timed(item)]
        self._raise_failure()
        if not self.threads:
            self.threads = [
                threading.Thread(target=self._loop, name=f"{self.name}-{number}", daemon=True)
                for number in range(self.thread_count)
            ]
            for thread in self.threads:
                thread.start()
        self.queue.put(item)
        return self._completed()

    def __enter__(self) -> ThreadedWriter:
        return self

    def __exit__(self, kind, error, traceback) -> None:
        """Waits for every item and raises the first write error; after an error of the caller, waits only for
        the items being written and lets the caller's error through."""
        if kind is None:
            self.finish()
            return
        try:
            self.finish(discard_queued=True)
        except Exception:
            logger.warning("A write failed too while stopping after %s", kind.__name__, exc_info=True)

    def finish(self, *, discard_queued: bool = False) -> list[Result]:
        """Wait for the items handed over (or only those being written, with `discard_queued`) and stop the
        threads; returns the results not yet returned, or raises the first write error."""
        if self.threads:
            self.discard = discard_queued
            for _thread in self.threads:
                self.queue.put(None)
            for thread in self.threads:
                thread.join()
            self.threads = []
        return self._completed()
