"""Dramatiq broker set-up: configured before any actor module is imported."""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.stub import StubBroker

_configured: dramatiq.Broker | None = None


def configure_broker(broker_url: str | None) -> dramatiq.Broker:
    """In-process (StubBroker, drained by a Worker in the same process) without a URL."""
    global _configured
    if _configured is not None:
        return _configured
    broker: dramatiq.Broker
    if broker_url is None:
        broker = StubBroker()
        broker.emit_after("process_boot")
    elif broker_url.startswith(("redis://", "rediss://")):
        from dramatiq.brokers.redis import RedisBroker

        broker = RedisBroker(url=broker_url)
    elif broker_url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        broker = RabbitmqBroker(url=broker_url)
    else:
        raise ValueError("INBOX_BROKER_URL must be redis://, rediss://, amqp:// or amqps://")
    dramatiq.set_broker(broker)
    _configured = broker
    return broker


def ensure_broker() -> dramatiq.Broker:
    """Called where actors are declared: whatever imports them first, the broker is ours."""
    if _configured is not None:
        return _configured
    from inbox.settings import get_settings

    return configure_broker(get_settings().broker_url)


def jobs_run_here() -> bool:
    """Whether this process's jobs run in this process (the in-memory broker), if at all."""
    return isinstance(ensure_broker(), StubBroker)


def stop_worker(worker: dramatiq.Worker, timeout_ms: int = 600_000) -> None:
    """Stop a worker for good. Dramatiq leaves a stopped worker's hook on the broker, which
    starts a consumer for every queue declared later: on the in-memory broker, which lives as
    long as the process, that consumer would take jobs that no thread of the worker runs."""
    worker.stop(timeout=timeout_ms)
    worker.broker.middleware[:] = [
        m for m in worker.broker.middleware if getattr(m, "worker", None) is not worker
    ]
