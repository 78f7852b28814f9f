"""Whose turn it is: the embedded database's one writer lets waiting requests write before
background work, and the webhooks' filing bell keeps one filing job queued or running."""

from __future__ import annotations

import threading
import time

import pytest

from inbox.db import WriterLock, WriterTimeout
from workers.filing_bell import QUEUED_AT_MOST, BatchBell, FilingBell


def _wait_until(check: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def test_a_waiting_request_writes_before_waiting_background_work() -> None:
    lock = WriterLock()
    order: list[str] = []
    holding = threading.Event()
    release = threading.Event()

    def first() -> None:
        with lock.held():
            holding.set()
            release.wait(5)

    def writer(name: str, background: bool) -> None:
        with lock.held(background=background):
            order.append(name)

    threads = [threading.Thread(target=first)]
    threads[0].start()
    holding.wait(5)
    threads.append(threading.Thread(target=writer, args=("filing", True)))
    threads[-1].start()
    time.sleep(0.05)  # the background writer waits first
    threads.append(threading.Thread(target=writer, args=("request", False)))
    threads[-1].start()
    _wait_until(lambda: lock._foreground_waiting == 1)
    release.set()
    for thread in threads:
        thread.join(5)

    assert order == ["request", "filing"]


def test_background_work_is_not_held_back_for_ever_and_the_lock_is_reentrant() -> None:
    lock = WriterLock()
    done = threading.Event()

    def background() -> None:
        with lock.held(background=True), lock.held(background=True):
            done.set()

    lock._foreground_waiting = 1  # a request that keeps waiting (never in fact comes)
    started = time.monotonic()
    thread = threading.Thread(target=background)
    thread.start()
    assert done.wait(5)
    thread.join(5)
    assert time.monotonic() - started < 2


def test_the_bell_queues_one_job_and_the_next_only_after_it_started() -> None:
    sent: list[int] = []
    bell = FilingBell(lambda: sent.append(1))

    bell.ring()
    bell.ring()
    assert sent == [1]  # queued: the job will see both
    assert bell.start()
    bell.ring()  # stored while the job runs: the next job is queued when it ends
    assert sent == [1]
    assert not bell.start()  # a second job leaves the work to the running one
    bell.finish()
    assert sent == [1, 1]
    assert bell.start()
    bell.finish()
    assert sent == [1, 1]  # nothing rang meanwhile
    bell.ring()
    assert sent == [1, 1, 1]


def test_tickets_changed_while_a_recompute_runs_wait_for_its_next_batch_not_a_job_each() -> None:
    sent: list[int] = []
    bell = BatchBell(lambda: sent.append(1))

    bell.add([7, 3])
    bell.add([3, 5])
    assert sent == [1]  # one job for all three
    assert bell.start()
    assert bell.take(2) == [3, 5]
    bell.add([9])  # changed while the job runs
    assert bell.take(10) == [7, 9]
    assert bell.take(10) == []
    bell.finish()
    assert sent == [1]  # the job took everything: no job after it

    bell.add([4])
    assert sent == [1, 1]
    assert bell.start()
    assert bell.take(10) == [4]
    bell.add([6])  # after the job's last batch, before it ends
    bell.finish()
    assert sent == [1, 1, 1]  # the next job takes it
    bell.reset()  # the broker was emptied
    assert bell.take(10) == []


def test_a_job_lost_before_it_started_does_not_hold_the_bell() -> None:
    sent: list[float] = []
    bell = FilingBell(lambda: sent.append(time.monotonic()))
    bell.ring()
    bell._queued_at = time.monotonic() - QUEUED_AT_MOST - 0.1  # the broker was flushed

    bell.ring()

    assert len(sent) == 2


def test_a_writer_stuck_behind_a_holder_fails_and_the_log_shows_where_the_holder_is(
    caplog: pytest.LogCaptureFixture,
) -> None:
    lock = WriterLock(timeout=0.2)
    holding, release = threading.Event(), threading.Event()

    def holder_that_never_lets_go() -> None:
        with lock.held():
            holding.set()
            release.wait(5)

    thread = threading.Thread(target=holder_that_never_lets_go)
    thread.start()
    holding.wait(5)
    try:
        for background in (False, True):
            with pytest.raises(WriterTimeout), lock.held(background=background):
                pass
    finally:
        release.set()
        thread.join(5)

    assert "holder_that_never_lets_go" in caplog.text
    assert lock._foreground_waiting == 0
    with lock.held():  # free again once the holder is done
        pass
