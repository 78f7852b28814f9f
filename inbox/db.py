"""Engine, sessions and the unit of work.

SQLite is the embedded default: WAL, a busy timeout, and ``BEGIN IMMEDIATE``
for writing sessions so two writers queue up instead of failing on a lock
upgrade. Writers also queue on a lock of their own, threads on a lock of the
process and processes on a lock file beside the database: SQLite lets a waiting
writer sleep in steps of up to 100 ms, while a lock hands over at once.
Read-only sessions use plain deferred transactions and never block.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlmodel import Session

from inbox.events import Event, take_events

Dispatcher = Callable[[list[Event]], None]

# A commit that finds this many pages in the write-ahead log copies them back into the
# database file itself, holding the write lock meanwhile. Long-running processes call
# ``Database.checkpoint`` from a thread of their own instead, beside the writers.
WAL_AUTOCHECKPOINT_PAGES = 10_000


class _WriterLock:
    """One writer at a time on a SQLite file: the threads of this process take turns on a
    lock, and the process holding it takes the file lock (``flock``) that other processes
    wait on. Re-entrant within a thread, like the unit of work nested in another."""

    def __init__(self, database_path: str | None) -> None:
        self._threads = threading.RLock()
        self._depth = 0  # changed only by the thread holding ``_threads``
        self._lock_path = f"{database_path}.writer-lock" if database_path else None
        self._fd: int | None = None

    def __enter__(self) -> None:
        self._threads.acquire()
        try:
            if self._depth == 0 and self._lock_path:
                if self._fd is None:
                    self._fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
                fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise
        self._depth += 1

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._threads.release()


_sqlite_writers: dict[str, _WriterLock] = {}
_sqlite_writers_guard = threading.Lock()


def _sqlite_writer(url: str) -> _WriterLock:
    """One lock per database file and process, shared by every ``Database`` on it."""
    database = make_url(url).database
    path = os.path.abspath(database) if database and database != ":memory:" else None
    with _sqlite_writers_guard:
        return _sqlite_writers.setdefault(url, _WriterLock(path))


def _sqlite_engine(url: str, *, immediate: bool) -> Engine:
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30, "isolation_level": None},
        pool_size=8,
        max_overflow=16,
    )

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
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
        self._writer: AbstractContextManager[Any] = nullcontext()
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

    def dispatch(self, events: list[Event]) -> None:
        if events:
            for dispatcher in self._dispatchers:
                dispatcher(events)

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """One transaction; commits once, then hands its events to the dispatchers."""
        with self._writer:
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

    def checkpoint(self) -> None:
        """Copy what the write-ahead log holds back into the SQLite file, without waiting
        for writers or readers (a passive checkpoint); nothing to do on PostgreSQL."""
        if not self.is_sqlite:
            return
        connection = self.read_engine.raw_connection()
        try:
            connection.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            connection.close()

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()
