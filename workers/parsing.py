"""Reading stored inbound items (``inbox.parsing``), in a pool of processes where one is
configured.

Parsing mail is pure CPU work under the interpreter lock; in a process of its own it runs
beside the filing, the fetching and the web requests instead of taking turns with them.
A parser process that dies (a pathological mail, memory exhausted) takes only its batch
with it: those items count a failure, are retried one by one, and are quarantined
if they keep failing. The pool is then started again.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from inbox.parsing.items import Arrival, PendingRaw, Unread
from inbox.parsing.readers import read_pending

log = logging.getLogger(__name__)
# The kinds whose items are worth a parser process: mail (MIME, charsets, HTML).
IN_PROCESSES = frozenset({"email"})


class InboundParser:
    """``processes=0`` parses in the calling thread."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None
        self._ready: Future[None] | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the parser processes now rather than on the first mail: a spawned process
        spends a second or more importing. Until it is ready, mail is parsed in the caller's
        thread, so mail waiting at start-up does not wait for it. Idempotent."""
        if self.processes > 0 and self._ready is None:
            self._ready = self._get_pool().submit(_ready)

    def parse(self, pending: Sequence[PendingRaw]) -> list[Arrival]:
        """Mail in the parser processes; the small JSON of chat frames and direct messages
        in this thread, where reading one costs less than handing it to another process."""
        mail = [p for p in pending if p.kind in IN_PROCESSES]
        starting = self._ready is not None and not self._ready.done()
        if self.processes <= 0 or not mail or starting:
            return [read_pending(p) for p in pending]
        pool = self._get_pool()
        try:
            arrivals = list(pool.map(read_pending, mail, chunksize=8))
            read: dict[int, Arrival] = {p.item_id: a for p, a in zip(mail, arrivals, strict=True)}
        except BrokenProcessPool as exc:
            log.error("a mail parser process died; %d items count a failure", len(mail))
            self._discard(pool)
            read = {p.item_id: Unread(p.item_id, exc) for p in mail}
        return [read.get(p.item_id) or read_pending(p) for p in pending]

    def _get_pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                # Never fork: this process runs threads that may hold locks at that moment.
                context = multiprocessing.get_context("spawn")
                self._pool = ProcessPoolExecutor(
                    self.processes,
                    mp_context=context,
                    initializer=_exit_with_parent,
                    initargs=(os.getpid(),),
                )
            return self._pool

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Stop the parser processes at once. Called once no job runs any longer: nothing
        waits for what they read, and an item they were reading stays stored, to be read
        again. Waiting for them could take seconds (one still importing, one reading a
        large mail) and hold up the process's exit."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is None:
            return
        processes = list(pool._processes.values())  # the pool's own; no public way to them
        manager: threading.Thread | None = getattr(pool, "_executor_manager_thread", None)
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()
        for process in processes:
            process.join(timeout=5)
        # Python 3.11's pool closes its wake-up pipe from this thread while the interpreter's
        # exit may still write to it (an "OSError: Bad file descriptor" at exit, a race that
        # Python 3.12 fixed): the thread is done before this process goes on to exit.
        if manager is not None:
            manager.join(timeout=5)


def _ready() -> None:
    """Run in a new parser process; importing this module there is the warm-up."""


def _exit_with_parent(parent_pid: int) -> None:
    """In a parser process: end when the process that started it is gone (killed with
    SIGKILL, it never says goodbye), instead of waiting for work forever."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
