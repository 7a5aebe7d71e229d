"""portal.writers.ThreadedWriter: every item written once, results handed back, the first error stops the rest."""

from __future__ import annotations

import threading
import time

import pytest

from portal.writers import ThreadedWriter


class Recorder:
    def __init__(self, fail_on: int | None = None, delay: float = 0.0):
        self.items: list[int] = []
        self.threads: set[str] = set()
        self.fail_on = fail_on
        self.delay = delay
        self.lock = threading.Lock()

    def __call__(self, item: int) -> int:
        time.sleep(self.delay)
        if item == self.fail_on:
            raise ValueError(f"cannot write {item}")
        with self.lock:
            self.items.append(item)
            self.threads.add(threading.current_thread().name)
        return item * 10


def test_inline_writes_in_submit():
    write = Recorder()
    writer = ThreadedWriter(write, threads=2, backlog=2, threaded=False, name="test")
    assert writer.submit(1) == [10]
    assert writer.finish() == []
    assert write.threads == {threading.current_thread().name}
    assert writer.busy_seconds > 0


@pytest.mark.parametrize("threads", [1, 3])
def test_threads_write_every_item_once_and_return_every_result(threads):
    write = Recorder(delay=0.001)
    writer = ThreadedWriter(write, threads=threads, backlog=threads, threaded=True, name="test")
    results = []
    for item in range(50):
        results += writer.submit(item)
    results += writer.finish()
    assert sorted(write.items) == list(range(50))
    assert sorted(results) == [item * 10 for item in range(50)]
    assert all(name.startswith("test-") for name in write.threads)
    assert writer.threads == []


def test_first_error_is_raised_and_later_items_are_skipped():
    write = Recorder(fail_on=3, delay=0.002)
    writer = ThreadedWriter(write, threads=1, backlog=1, threaded=True, name="test")
    with pytest.raises(ValueError, match="cannot write 3"):
        for item in range(100):
            writer.submit(item)
        writer.finish()
    with pytest.raises(ValueError):
        writer.finish()
    assert 3 not in write.items
    assert max(write.items) < 10  # stopped soon after the error, not at the end


def test_discard_queued_waits_only_for_items_being_written():
    write = Recorder(delay=0.05)
    writer = ThreadedWriter(write, threads=1, backlog=5, threaded=True, name="test")
    for item in range(5):
        writer.submit(item)
    writer.finish(discard_queued=True)
    assert len(write.items) < 5


def test_context_manager_raises_write_errors_and_lets_the_callers_error_through():
    with (
        pytest.raises(ValueError, match="cannot write 0"),
        ThreadedWriter(Recorder(fail_on=0), threads=2, backlog=2, threaded=True, name="test") as writer,
    ):
        writer.submit(0)
    with (
        pytest.raises(KeyError),
        ThreadedWriter(Recorder(fail_on=0), threads=2, backlog=2, threaded=True, name="test") as writer,
    ):
        writer.submit(0)
        time.sleep(0.05)
        raise KeyError("the caller's own error")
