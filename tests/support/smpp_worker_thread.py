"""`smpp_worker`'s loop on a thread of the test process (the test database is shared with it), stopped the way
SIGTERM stops the command: `with running_smpp_worker([connector]) as worker: … worker.sessions()`."""

import asyncio
import contextlib
import threading
import time

from campaigns.sending.smpp_worker import run_workers


class SmppWorkerThread:
    def __init__(self, connectors, max_binds=None, grace: float = 5.0):
        self.connectors, self.max_binds, self.grace = list(connectors), max_binds, grace
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stop_event: asyncio.Event | None = None
        self.error: BaseException | None = None
        self._ready = threading.Event()
        self.thread = threading.Thread(target=self._main, name="smpp-worker-test", daemon=True)

    def _main(self) -> None:
        try:
            asyncio.run(self._run())
        except BaseException as exc:  # surfaced by stop()
            self.error = exc
            self._ready.set()

    async def _run(self) -> None:
        self.loop, self.stop_event = asyncio.get_running_loop(), asyncio.Event()
        self._ready.set()
        await run_workers(self.connectors, max_binds=self.max_binds, stop=self.stop_event, grace=self.grace)

    def start(self) -> "SmppWorkerThread":
        self.thread.start()
        self._ready.wait(10)
        return self

    def stop(self, timeout: float = 30.0) -> None:
        if self.loop is not None and self.stop_event is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.stop_event.set)
        self.thread.join(timeout)
        if self.thread.is_alive():
            raise AssertionError("the SMPP worker did not stop in time")
        if self.error is not None:
            raise self.error


@contextlib.contextmanager
def running_smpp_worker(connectors, max_binds=None, grace: float = 5.0):
    worker = SmppWorkerThread(connectors, max_binds, grace).start()
    try:
        yield worker
    finally:
        worker.stop()


def wait_until(condition, timeout: float = 15.0, interval: float = 0.05, message: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {message}")
