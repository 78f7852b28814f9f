"""A worker stopped for good takes no more jobs: jobs of a queue declared after it stopped
are run by the worker that runs now (the in-memory broker outlives the workers of a process
that restarts its background services). And a job it held when it stopped does not hold up
the next test that waits for its queue."""

from __future__ import annotations

import time

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker
from dramatiq.errors import QueueJoinTimeout

from tests.support.desks import forget_held_jobs
from workers.broker import stop_worker


def test_a_queue_declared_after_a_worker_stopped_is_run_by_the_next_worker() -> None:
    broker = StubBroker()
    broker.emit_after("process_boot")
    ran: list[str] = []

    @dramatiq.actor(broker=broker, queue_name="first")
    def first() -> None:
        ran.append("first")

    earlier = dramatiq.Worker(broker, worker_threads=1, worker_timeout=50)
    earlier.start()
    first.send()
    broker.join("first", timeout=5_000)
    stop_worker(earlier, timeout_ms=5_000)

    @dramatiq.actor(broker=broker, queue_name="declared-later")
    def later() -> None:
        ran.append("later")

    now = dramatiq.Worker(broker, worker_threads=1, worker_timeout=50)
    now.start()
    try:
        later.send()
        broker.join("declared-later", timeout=5_000)  # QueueJoinTimeout if the job is lost
        now.join()
    finally:
        stop_worker(now, timeout_ms=5_000)

    assert ran == ["first", "later"]


def test_a_job_a_stopped_worker_held_does_not_hold_up_the_next_join() -> None:
    broker = StubBroker()
    broker.emit_after("process_boot")

    @dramatiq.actor(broker=broker, queue_name="later")
    def later() -> None:
        pass

    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=50)
    worker.start()
    later.send_with_options(delay=60_000)  # the worker fetches it and holds it until its time
    waiting = broker.queues["later.DQ"]
    deadline = time.monotonic() + 5
    while waiting.qsize() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert waiting.qsize() == 0
    stop_worker(worker, timeout_ms=5_000)
    broker.flush_all()  # the queues are empty, but the held job is still unfinished
    with pytest.raises(QueueJoinTimeout):
        broker.join("later", timeout=300)

    forget_held_jobs(broker)

    broker.join("later", timeout=300)
