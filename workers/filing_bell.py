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
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

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

    def finish(self) -> None:
        """The running job ends; the next one is queued when rung meanwhile."""
        with self._lock:
            self._running = False
            again, self._again = self._again, False
        if again:
            self.ring()
