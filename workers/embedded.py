"""Everything background in one process: the default, with zero services to install."""

from __future__ import annotations

import threading

import dramatiq

from workers.broker import stop_worker
from workers.pulling import PullSupervisor
from workers.runtime import Runtime
from workers.scheduler import Scheduler

WORKER_THREADS = 4
# SQLite takes one writer at a time and every thread shares one interpreter lock: a third
# or fourth thread only waits. Two let a delivery wait on the network while mail is filed.
SQLITE_WORKER_THREADS = 2
# How often idle worker and consumer threads look up: a stop waits for each kind in turn, so
# Dramatiq's default (a second) kept a stopping desk waiting two.
STOP_POLL_MS = 250


class BackgroundServices:
    """Dramatiq worker threads, the scheduler and the watchers of pulled channels."""

    def __init__(
        self,
        rt: Runtime,
        broker: dramatiq.Broker | None,
        *,
        worker_threads: int | None = None,
        pulls: bool = True,
    ) -> None:
        if worker_threads is None:
            worker_threads = SQLITE_WORKER_THREADS if rt.db.is_sqlite else WORKER_THREADS
        self.worker = (
            dramatiq.Worker(broker, worker_threads=worker_threads, worker_timeout=STOP_POLL_MS)
            if broker
            else None
        )
        self.rt = rt
        self.scheduler = Scheduler(rt)
        self.pulls = PullSupervisor(rt) if pulls else None
        self.stopping = threading.Event()

    def start(self) -> None:
        if self.worker:  # jobs file mail, which the parser processes read; nothing else does
            self.rt.parser.start()
            self.worker.start()
        self.scheduler.start()
        if self.pulls:
            self.pulls.start()

    def stop(self) -> None:
        """Idempotent: the web app's shutdown and the process's own way out may both call it."""
        if self.stopping.is_set():
            return
        self.stopping.set()
        if self.pulls:
            self.pulls.stop()
        self.scheduler.stop()
        if self.worker:
            stop_worker(self.worker, timeout_ms=10_000)
        self.rt.parser.close()
