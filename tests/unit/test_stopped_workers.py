"""A worker stopped for good takes no more jobs: jobs of a queue declared after it stopped
are run by the worker that runs now (the in-memory broker outlives the workers of a process
that restarts its background services)."""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.stub import StubBroker

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
