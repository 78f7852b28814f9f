"""The two desks tests run against; registered from conftest as a plugin.

- ``desk``: the desk in the test process. The app (``create_app``), its runtime and a Dramatiq
  worker on the in-memory broker, a ``TestClient`` and a recording SMTP peer for the desk's
  mail. A module whose tests need a prepared desk subclasses :class:`InProcessDesk`,
  overrides :meth:`InProcessDesk.prepare` and says so once: ``pytestmark =
  pytest.mark.desk(kind=TheirDesk)``.
- ``server``: a real ``inbox serve`` process, as an operator runs it. With
  ``INBOX_TEST_BROKER=redis`` (or ``amqp``), separate ``inbox worker`` and ``inbox scheduler``
  processes do the work on that broker, and on Redis the web processes hear each other
  through it (``INBOX_TEST_REALTIME=postgres``: through PostgreSQL instead).
  ``pytest.mark.server(demo=True)`` loads the demo desk (``inbox demo``) once it answers.
  ``deployment`` is the same desk not started yet, for tests that start and kill it.
  ``second_web`` is the address of another web process of that desk when it scales out on
  Redis, else of the same one.

Between tests the in-memory broker is emptied, so no test sees another's jobs.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import dramatiq
import pytest
from dramatiq.brokers.stub import StubBroker
from litestar import Litestar
from litestar.testing import TestClient

from inbox.db import Database
from inbox.settings import Settings
from tests.support.apps import app_for
from tests.support.isolation import own_amqp_url, own_redis_url
from tests.support.processes import Deployment, running, web_process
from tests.support.served import load_demo_desk
from tests.support.smtp_peer import SmtpPeer
from workers.broker import configure_broker, stop_worker
from workers.runtime import Runtime

BROKER = os.environ.get("INBOX_TEST_BROKER", "")
REALTIME = os.environ.get("INBOX_TEST_REALTIME", "")
# Mailboxes are watched (IDLE) and polled every 5 s; a failed send is retried within a second.
SERVED = {"INBOX_POLL_SECONDS": "5", "INBOX_RETRY_BASE_SECONDS": "0.5"}


def drain(worker: dramatiq.Worker) -> None:
    """Wait until every queued job ran, and the jobs those queued, and so on."""
    broker = worker.broker
    for _ in range(3):
        for queue in broker.get_declared_queues():
            broker.join(queue, timeout=20_000)
        worker.join()


class InProcessDesk:
    """The app, its runtime and a worker of the in-memory broker, in the test process."""

    def __init__(self, settings: Settings, peer: SmtpPeer) -> None:
        self.settings = settings
        self.app, self.rt = app_for(settings)
        self.peer = peer
        self.worker = _start_worker(self.rt)
        self.client: TestClient[Litestar] = TestClient(self.app)

    @property
    def db(self) -> Database:
        """The runtime's database (a new one after :meth:`restart`)."""
        return self.rt.db

    def prepare(self) -> None:
        """What a module's tests have in common (agents, channels, policies): none here."""

    def drain(self) -> None:
        drain(self.worker)

    def restart(self) -> None:
        """Every process restarts and the broker loses what it held; the tables keep all."""
        from workers.bootstrap import start_runtime

        stop_worker(self.worker)
        forget_jobs(self.worker.broker)
        self.rt.db.dispose()
        self.rt = start_runtime(self.settings)[0]
        self.worker = _start_worker(self.rt)

    def __enter__(self) -> InProcessDesk:
        self.client.__enter__()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        stop_worker(self.worker)
        self.client.__exit__(kind, error, trace)
        self.rt.db.dispose()


def _start_worker(rt: Runtime) -> dramatiq.Worker:

    worker = dramatiq.Worker(
        configure_broker(rt.settings.broker_url), worker_threads=1, worker_timeout=100
    )
    worker.start()
    return worker


@pytest.fixture
def desk(
    request: pytest.FixtureRequest, settings: Settings, smtp_peer: SmtpPeer
) -> Iterator[InProcessDesk]:
    marker = request.node.get_closest_marker("desk")
    kind: type[InProcessDesk] = marker.kwargs["kind"] if marker else InProcessDesk
    with kind(settings, smtp_peer) as started:
        started.prepare()
        yield started


@pytest.fixture
def deployment(env: dict[str, str], tmp_path: Path) -> Deployment:
    extra = dict(SERVED)
    if BROKER == "redis":
        extra["INBOX_BROKER_URL"] = extra["INBOX_REALTIME_URL"] = own_redis_url()
    elif BROKER == "amqp":
        extra["INBOX_BROKER_URL"] = own_amqp_url()
    elif BROKER:
        raise ValueError(f"INBOX_TEST_BROKER must be redis or amqp, not {BROKER!r}")
    if REALTIME == "postgres":  # LISTEN/NOTIFY on the desk's own database instead of Redis
        if not env["INBOX_DATABASE_URL"].startswith("postgresql"):
            pytest.skip("INBOX_TEST_REALTIME=postgres needs INBOX_TEST_DATABASE=postgres")
        extra["INBOX_REALTIME_URL"] = env["INBOX_DATABASE_URL"]
    workdir = tmp_path / uuid.uuid4().hex[:6]
    return Deployment({**env, **extra}, workdir, separate_workers=bool(BROKER))


@pytest.fixture
def server(request: pytest.FixtureRequest, deployment: Deployment) -> Iterator[Deployment]:
    marker = request.node.get_closest_marker("server")
    with running(deployment) as started:
        if marker and marker.kwargs.get("demo"):
            load_demo_desk(started)
        yield started


@pytest.fixture
def second_web(server: Deployment, tmp_path: Path) -> Iterator[str]:
    """Another web process of the same desk when it scales out on Redis; else the same one.
    Its address."""
    if not BROKER:
        yield server.base_url
        return
    with web_process(server.env, tmp_path / "serve2.log") as address:
        yield address


@pytest.fixture(autouse=True)
def _empty_in_memory_broker() -> Iterator[None]:
    """Jobs a test left queued go with it (the desk's worker has stopped by now)."""
    yield
    if "workers.broker" in sys.modules:  # else no test of this process has a broker
        broker = configure_broker(None)  # the one configured: tests configure none other
        if isinstance(broker, StubBroker):
            forget_jobs(broker)


def forget_jobs(broker: dramatiq.Broker) -> None:
    """The broker's queues empty, as a restarted process finds them.

    The in-memory broker's counts of unfinished jobs are set to none as well: a worker stopped
    with jobs in hand (fetched ahead, or waiting for their time) never marks them done, since
    that broker cannot take them back, and a later join on their queue would wait for them
    until it timed out. The bells of this process forget their jobs and ids too."""
    broker.flush_all()
    if isinstance(broker, StubBroker):
        forget_held_jobs(broker)
    from workers.actors import PUSHED_FILING
    from workers.sla_actors import CHANGED_TICKETS

    PUSHED_FILING.reset()
    CHANGED_TICKETS.reset()


def forget_held_jobs(broker: StubBroker) -> None:
    """No job counts as unfinished any more, those that stopped workers held included."""
    for queue in broker.queues.values():
        with queue.all_tasks_done:
            queue.unfinished_tasks = 0
            queue.all_tasks_done.notify_all()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "desk(kind): the InProcessDesk subclass that `desk` is")
    config.addinivalue_line("markers", "server(demo=False): `server` with the demo desk loaded")
