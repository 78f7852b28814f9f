"""One filing job at a time for what the webhooks of this process stored.

A webhook stores one event per request, hundreds a second in a flood. A job per event would
mostly find its event filed already by the job before (each takes the others waiting along),
after a query and a queue round trip of its own. Where the jobs run in this process (the
in-memory broker of the embedded default), the bell queues a job only when none is queued or
running; one rung while a job runs queues the next when that one ends. So every stored event
is followed by a job that starts after its commit, and the jobs file batches, one after the
other.

A job queued and not started within ``QUEUED_AT_MOST`` seconds (its message lost with a
flushed broker, the worker threads busy) does not hold the bell: the next ring queues another.
Jobs that find another one running leave the work to it.

``BatchBell`` also holds the ids to work on, for work that is not waiting in a table: the SLA
recomputes of the tickets that changed (``workers.sla_actors``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

QUEUED_AT_MOST = 1.0


class FilingBell:
    def __init__(self, send: Callable[[], object]) -> None:
        self._send = send
        self._lock = threading.Lock()
        self._queued_at: float | None = None
        self._running = False
        self._again = False

    def ring(self) -> None:
        """Something was stored and committed: a job will look at it."""
        with self._lock:
            if self._running:
                self._again = True
                return
            queued = self._queued_at is not None
            if queued and time.monotonic() - (self._queued_at or 0.0) < QUEUED_AT_MOST:
                return
            self._queued_at = time.monotonic()
        try:
            self._send()
        except BaseException:
            with self._lock:
                self._queued_at = None
            raise

    def start(self) -> bool:
        """A job begins: False when another one is running (it files what this one would)."""
        with self._lock:
            if self._running:
                self._again = True
                return False
            self._running, self._again, self._queued_at = True, False, None
            return True

    def reset(self) -> None:
        """Forget every job (the in-memory broker was emptied, as a restart empties it)."""
        with self._lock:
            self._queued_at, self._running, self._again = None, False, False

    def finish(self) -> None:
        """The running job ends; the next one is queued when rung meanwhile."""
        with self._lock:
            self._running = False
            again, self._again = self._again, False
        if again:
            self.ring()


class BatchBell(FilingBell):
    """A bell that also holds what to work on: ids added while a job runs are taken by that
    job's next batch, or by the one job queued after it, never by a job each."""

    def __init__(self, send: Callable[[], object]) -> None:
        super().__init__(send)
        self._ids: set[int] = set()

    def add(self, ids: Iterable[int]) -> None:
        with self._lock:
            self._ids.update(ids)
        self.ring()

    def take(self, most: int) -> list[int]:
        """Up to ``most`` of the ids waiting, lowest first, no longer waiting."""
        with self._lock:
            taken = sorted(self._ids)[:most]
            self._ids.difference_update(taken)
        return taken

    def reset(self) -> None:
        super().reset()
        with self._lock:
            self._ids.clear()

    def finish(self) -> None:
        with self._lock:
            self._running = False
            again, self._again = self._again and bool(self._ids), False
        if again:
            self.ring()
