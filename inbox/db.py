"""Engine, sessions and the unit of work.

SQLite is the embedded default: WAL, a busy timeout, and ``BEGIN IMMEDIATE``
for writing sessions so two writers queue up instead of failing on a lock
upgrade. Within one process, writers also queue on a lock of their own: SQLite
lets a waiting writer sleep in steps of up to 100 ms, while a lock hands over
at once. A background writer (filing a batch) lets the writers already waiting
go first, so a request that stores one webhook event waits for at most the one
transaction under way, not for a run of them. Read-only sessions use plain
deferred transactions and never block.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlmodel import Session

from inbox.events import Event, take_events

Dispatcher = Callable[[list[Event]], None]
log = logging.getLogger(__name__)

# How long a background writer lets foreground writers go first, at most: a flood of
# requests delays the filing, it does not stop it.
BACKGROUND_PATIENCE = 0.25
# How long a writer waits for its turn before it fails, as SQLite's own busy timeout would.
WRITER_TIMEOUT = 30.0


class WriterTimeout(RuntimeError):
    """A writer waited longer than ``WRITER_TIMEOUT`` for the one before it."""


class WriterLock:
    """One writer at a time in this process; reentrant. A foreground writer (a request) is
    let in before a background one (``background=True``: a batch of filing) that waits with
    it, for up to ``BACKGROUND_PATIENCE`` seconds. A writer that waits more than ``timeout``
    seconds fails with :class:`WriterTimeout`, and the log shows where the holder is."""

    def __init__(self, timeout: float = WRITER_TIMEOUT) -> None:
        self.timeout = timeout
        self._state = threading.Condition(threading.Lock())
        self._owner: int | None = None
        self._depth = 0
        self._foreground_waiting = 0

    @contextmanager
    def held(self, *, background: bool = False) -> Iterator[None]:
        self._acquire(background)
        try:
            yield
        finally:
            self._release()

    def _acquire(self, background: bool) -> None:
        me = threading.get_ident()
        with self._state:
            if self._owner == me:
                self._depth += 1
                return
            started = time.monotonic()
            if background:
                patience = started + BACKGROUND_PATIENCE
                while True:
                    if self._owner is not None:
                        self._wait_for_owner(started)
                        continue
                    left = patience - time.monotonic()
                    if not self._foreground_waiting or left <= 0:
                        break
                    self._state.wait(left)
            else:
                self._foreground_waiting += 1
                try:
                    while self._owner is not None:
                        self._wait_for_owner(started)
                finally:
                    self._foreground_waiting -= 1
            self._owner, self._depth = me, 1

    def _wait_for_owner(self, started: float) -> None:
        left = started + self.timeout - time.monotonic()
        if left <= 0 or (not self._state.wait(left) and self._owner is not None):
            owner = self._owner
            frame = sys._current_frames().get(owner) if owner is not None else None
            where = "".join(traceback.format_stack(frame)) if frame else "(thread gone)"
            log.error("a writer waited %.0f s; the holder is at:\n%s", self.timeout, where)
            raise WriterTimeout(f"waited {self.timeout:.0f} s for the database's writer")

    def _release(self) -> None:
        with self._state:
            self._depth -= 1
            if self._depth == 0:
                self._owner = None
                self._state.notify_all()


_sqlite_writers: dict[str, WriterLock] = {}
_sqlite_writers_guard = threading.Lock()


def _sqlite_writer(url: str) -> WriterLock:
    """One lock per database file and process, shared by every ``Database`` on it."""
    with _sqlite_writers_guard:
        return _sqlite_writers.setdefault(url, WriterLock())


def _sqlite_engine(url: str, *, immediate: bool) -> Engine:
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30, "isolation_level": None},
        # As many as the web process's worker threads (anyio's 40) use at once under load:
        # a connection made for a moment and closed again costs its pragmas every time.
        pool_size=40,
        max_overflow=16,
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Database:
    """Both engines, and the hook that turns committed events into work."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self._writer: WriterLock | None = None
        if self.is_sqlite:
            self.engine = _sqlite_engine(url, immediate=True)
            self.read_engine = _sqlite_engine(url, immediate=False)
            self._writer = _sqlite_writer(url)
        else:
            self.engine = create_engine(url, echo=echo, pool_size=10, max_overflow=20)
            self.read_engine = self.engine
        self._dispatchers: list[Dispatcher] = []

    def on_commit(self, dispatcher: Dispatcher) -> None:
        self._dispatchers.append(dispatcher)

    def off_commit(self, dispatcher: Dispatcher) -> None:
        self._dispatchers.remove(dispatcher)

    def dispatch(self, events: list[Event]) -> None:
        if events:
            for dispatcher in list(self._dispatchers):
                dispatcher(events)

    @contextmanager
    def unit_of_work(self, *, background: bool = False) -> Iterator[Session]:
        """One transaction; commits once, then hands its events to the dispatchers.
        ``background``: work no one waits for (filing a batch), which lets the requests
        waiting to write go first."""
        writer = self._writer.held(background=background) if self._writer else nullcontext()
        with writer:
            session = Session(self.engine, expire_on_commit=False)
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                take_events(session)
                raise
            finally:
                session.close()
        self.dispatch(take_events(session))

    @contextmanager
    def reading(self) -> Iterator[Session]:
        session = Session(self.read_engine, expire_on_commit=False)
        try:
            yield session
        finally:
            session.close()  # ends the transaction; loaded objects stay readable

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()
