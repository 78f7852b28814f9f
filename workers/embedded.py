"""Everything background in one process: the default, with zero services to install."""

from __future__ import annotations

import dramatiq

from workers.mailboxes import MailboxSupervisor
from workers.runtime import Runtime
from workers.scheduler import Scheduler


class BackgroundServices:
    """Dramatiq worker threads, the scheduler and the mailbox watchers."""

    def __init__(
        self,
        rt: Runtime,
        broker: dramatiq.Broker | None,
        *,
        worker_threads: int = 4,
        mailboxes: bool = True,
    ) -> None:
        self.worker = dramatiq.Worker(broker, worker_threads=worker_threads) if broker else None
        self.scheduler = Scheduler(rt)
        self.mailboxes = MailboxSupervisor(rt) if mailboxes else None

    def start(self) -> None:
        if self.worker:
            self.worker.start()
        self.scheduler.start()
        if self.mailboxes:
            self.mailboxes.start()

    def stop(self) -> None:
        if self.mailboxes:
            self.mailboxes.stop()
        self.scheduler.stop()
        if self.worker:
            self.worker.stop(timeout=10_000)
