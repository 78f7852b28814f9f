"""Filing stored mail: reading, parsing and filing a batch, in processes of its own where
configured.

Parsing and filing are CPU work under the interpreter lock. In filer processes they run
beside the fetching, the deliveries and the web requests of the process that starts them
(``inbox serve``, ``inbox worker``) instead of taking turns with them. A filer process has
its own database connections (on SQLite, writers of every process queue on one lock; see
``inbox.db``); the events of what it committed come back to the process that asked, which
dispatches them (jobs, live updates) as if it had committed them itself.

A filer process that dies (a pathological mail, memory exhausted) takes only its batch
with it: each of those mails counts a failure and is retried in a job of its own, and is
quarantined if it keeps failing. The pool is then started again.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from inbox.actions.ingest import (
    FilingFailure,
    FilingResult,
    parse_pending,
    process_inbound_items,
    read_pending_raw,
    record_processing_failure,
)
from inbox.blobs import BlobStore
from inbox.db import Database
from inbox.events import Event
from inbox.settings import Settings

log = logging.getLogger(__name__)


def file_stored_mail(
    db: Database, settings: Settings, blobs: BlobStore, item_ids: Sequence[int]
) -> FilingResult:
    """Parse the items still pending outside the write transaction, then file them in one."""
    with db.reading() as session:
        pending = read_pending_raw(session, item_ids)
    mails = [parse_pending(p) for p in pending]
    if not mails:
        return FilingResult()
    with db.unit_of_work() as session:
        return process_inbound_items(session, settings, blobs, mails)


class MailFiler:
    """``processes=0`` files in the calling thread."""

    def __init__(
        self, settings: Settings, db: Database, blobs: BlobStore, *, processes: int
    ) -> None:
        self.settings = settings
        self.db = db
        self.blobs = blobs
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the filer processes now rather than on the first mail: a spawned process
        spends most of a second importing, better spent before mail is waiting."""
        if self.processes > 0:
            pool = self._get_pool()
            for _ in range(self.processes):
                pool.submit(_ready)

    def file(self, item_ids: Sequence[int]) -> FilingResult:
        if self.processes <= 0:
            return file_stored_mail(self.db, self.settings, self.blobs, item_ids)
        pool = self._get_pool()
        try:
            result, events = pool.submit(_file_in_child, list(item_ids)).result()
        except BrokenProcessPool as exc:
            log.error("a mail filer process died; %d items count a failure", len(item_ids))
            self._discard(pool)
            return self._count_failures(item_ids, exc)
        self.db.dispatch(events)
        return result

    def _count_failures(self, item_ids: Sequence[int], exc: Exception) -> FilingResult:
        error = f"{type(exc).__name__}: {exc}"
        with self.db.unit_of_work() as session:
            return FilingResult(
                failures=[
                    FilingFailure(item_id, exc, record_processing_failure(session, item_id, error))
                    for item_id in item_ids
                ]
            )

    def _get_pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                # Never fork: this process runs threads that may hold locks at that moment.
                context = multiprocessing.get_context("spawn")
                self._pool = ProcessPoolExecutor(
                    self.processes,
                    mp_context=context,
                    initializer=_start_filer,
                    initargs=(os.getpid(), self.settings),
                )
            return self._pool

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


@dataclass
class _Filer:
    """What a filer process keeps between batches."""

    settings: Settings
    db: Database
    blobs: BlobStore
    committed: list[Event]


_filer: _Filer | None = None


def _start_filer(parent_pid: int, settings: Settings) -> None:
    global _filer
    _exit_with_parent(parent_pid)
    db = Database(settings.database_url)
    committed: list[Event] = []
    db.on_commit(committed.extend)
    _filer = _Filer(settings, db, BlobStore(settings.blob_dir), committed)


def _ready() -> None:
    """The warm-up task: the process has started and imported everything by now."""


def _file_in_child(item_ids: list[int]) -> tuple[FilingResult, list[Event]]:
    """In a filer process: file the batch; return the outcome and the committed events."""
    assert _filer is not None
    _filer.committed.clear()
    try:
        result = file_stored_mail(_filer.db, _filer.settings, _filer.blobs, item_ids)
    except Exception as exc:
        # Database errors do not always survive pickling; their text does.
        raise RuntimeError(f"{type(exc).__name__}: {exc}") from None
    # Exceptions cross the process boundary as text, for the same reason.
    result.failures = [
        FilingFailure(
            f.item_id, RuntimeError(f"{type(f.error).__name__}: {f.error}"), f.quarantined
        )
        for f in result.failures
    ]
    return result, list(_filer.committed)


def _exit_with_parent(parent_pid: int) -> None:
    """In a filer process: end when the process that started it is gone (killed with
    SIGKILL, it never says goodbye), instead of waiting for work forever."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
