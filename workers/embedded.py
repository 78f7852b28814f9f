"""Everything background in one process: the default, with zero services to install."""

from __future__ import annotations

import logging
import threading

import dramatiq

from workers.mailboxes import MailboxSupervisor
from workers.runtime import Runtime
from workers.scheduler import Scheduler

log = logging.getLogger(__name__)

WORKER_THREADS = 4
# SQLite takes one writer at a time and every thread shares one interpreter lock: a third
# or fourth thread only waits. Two let a delivery wait on the network while mail is filed.
SQLITE_WORKER_THREADS = 2
# How often SQLite's write-ahead log is copied back into the database file.
CHECKPOINT_SECONDS = 1.0


class BackgroundServices:
    """Dramatiq worker threads, the scheduler and the mailbox watchers."""

    def __init__(
        self,
        rt: Runtime,
        broker: dramatiq.Broker | None,
        *,
        worker_threads: int | None = None,
        mailboxes: bool = True,
    ) -> None:
        if worker_threads is None:
            worker_threads = SQLITE_WORKER_THREADS if rt.db.is_sqlite else WORKER_THREADS
        self.worker = dramatiq.Worker(broker, worker_threads=worker_threads) if broker else None
        self.rt = rt
        self.scheduler = Scheduler(rt)
        self.mailboxes = MailboxSupervisor(rt) if mailboxes else None
        self.stopping = threading.Event()
        self.checkpointer = threading.Thread(
            target=self._checkpoint, name="checkpoint", daemon=True
        )

    def start(self) -> None:
        self.rt.filer.start()
        if self.worker:
            self.worker.start()
        self.scheduler.start()
        if self.mailboxes:
            self.mailboxes.start()
        if self.rt.db.is_sqlite:
            self.checkpointer.start()

    def _checkpoint(self) -> None:
        """Off the writers' path: a commit that checkpoints holds the write lock meanwhile."""
        while not self.stopping.wait(CHECKPOINT_SECONDS):
            try:
                self.rt.db.checkpoint()
            except Exception:
                log.exception("checkpoint failed")

    def stop(self) -> None:
        self.stopping.set()
        if self.mailboxes:
            self.mailboxes.stop()
        self.scheduler.stop()
        if self.worker:
            self.worker.stop(timeout=10_000)
        self.rt.filer.close()
