"""The inbox at scale: list, filtered view, deep page, search, ticket page and the sidebar's
counts, at two sizes.

    python bench/inbox.py [--tickets 1000000] [--small 10000] [--backends sqlite,postgres]

For each backend and each size: a fresh database migrated to 0002, tickets, customers,
identities and messages (three per ticket on average) generated from a fixed seed and loaded
with bulk SQL (``executemany`` on SQLite, ``COPY`` on PostgreSQL), then ``upgrade heads``,
which builds the search index over what is there, and ``ANALYZE`` (and on SQLite a checkpoint
that empties the write-ahead log). Once both sizes are built and their writes synced to disk,
each operation runs ``--runs`` times as the web handlers run it (the query functions in
``inbox.queries`` on the server's ``Database``), varying its argument, the two sizes taking
turns run by run (small, large, small, ...), so that both meet the same conditions of the
machine. The script prints p50 and p95 per operation, per size, and the ratio of the large
size's p95 to the small one's.

PostgreSQL comes from ``INBOX_BENCH_POSTGRES`` (default ``postgresql://postgres@127.0.0.1``);
the script creates and drops its own databases there (``--name``, so that two runs on one
server keep apart).

Building the million-ticket databases takes many minutes. ``--keep --workdir DIR`` keeps
them (SQLite files in DIR, PostgreSQL databases by ``--name``); a later run with ``--reuse``
and the same ``--workdir`` and ``--name`` measures them again, first migrated to the newest
schema (and analysed, when a migration ran), and builds only a size not built there.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from alembic import command  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlmodel import select  # noqa: E402

from inbox.db import Database  # noqa: E402
from inbox.migrate import alembic_config  # noqa: E402
from inbox.models import Agent  # noqa: E402
from inbox.queries.ticket_page import ticket_detail  # noqa: E402
from inbox.queries.tickets import (  # noqa: E402
    TicketFilters,
    list_tickets,
    viewer_for,
)
from inbox.queries.views import view_counts  # noqa: E402
from inbox.rules.references import ALPHABET, check_symbol, format_reference  # noqa: E402

PREFIX = "HD"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
CHUNK = 20_000
TEAMS = 5
AGENTS = 40
DEEP_PAGES = 80
BUILT_MARK = 20261125  # set on a database once its build finished
FIRST = [
    "maria", "tom", "aiko", "jonas", "sam", "lea", "omar", "nina", "ivan", "chen", "ana",
    "lukas", "sofia", "yusuf", "emma", "pablo", "mia", "noah", "zoe", "raj", "eva", "finn",
    "ines", "karl", "lina", "marco", "olga", "piet", "rosa", "theo",
]  # fmt: skip
LAST = [
    "lopez", "becker", "tanaka", "weber", "ortiz", "novak", "haddad", "kowalski", "petrov",
    "wang", "silva", "meyer", "rossi", "yilmaz", "dubois", "garcia", "jensen", "kim", "singh",
    "costa", "fischer", "hansen", "ivanova", "jovanovic", "larsen", "moreau", "nagy",
    "oliveira", "peters", "quinn", "richter", "schmidt", "tran", "urban", "vogel", "wolf",
    "young", "zimmer", "bauer", "keller",
]  # fmt: skip
TOPICS = [
    "refund", "locked", "password", "instalment", "chargeback", "declined", "fee", "invoice",
    "address", "limit", "statement", "transfer", "merchant", "fraud", "verification",
    "cancellation", "subscription", "interest", "overdraft", "receipt",
]  # fmt: skip
COMMON = [
    "the", "a", "to", "and", "i", "my", "of", "is", "for", "on", "it", "was", "have", "not",
    "you", "in", "with", "this", "that", "can", "please", "me", "account", "card", "payment",
    "your", "we", "be", "at", "from", "would", "like", "thanks", "hello", "help", "today",
    "yesterday", "again", "still", "but", "could", "when", "what", "how", "why", "order",
    "money", "bank", "app", "phone", "email", "number",
]  # fmt: skip
STATUSES = [  # name, category, weight: about 8% of all tickets are unresolved work
    ("closed", "closed", 70),
    ("resolved", "resolved", 22),
    ("new", "new", 2),
    ("open", "open", 3),
    ("waiting on customer", "waiting_on_customer", 2),
    ("waiting on third party", "waiting_on_third_party", 1),
]
TEXTS = 100_000  # distinct message texts, drawn from for every message
PRIORITIES = [("low", 20), ("normal", 60), ("high", 15), ("urgent", 5)]
CHANNELS = [("email", "Support email"), ("chat", "Chat"), ("telegram", "Telegram")]


def _rare_words(rng: random.Random, n: int) -> list[str]:
    syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "ve", "zo", "pi", "se", "do", "gu"]
    return ["".join(rng.choices(syllables, k=rng.randint(2, 4))) for _ in range(n)]


@dataclass
class Sizes:
    tickets: int

    @property
    def customers(self) -> int:
        return max(1, self.tickets // 3)


class Generator:
    """The same rows for both backends: a fixed seed, rows in chunks."""

    def __init__(self, sizes: Sizes, seed: int = 7) -> None:
        self.sizes = sizes
        self.rng = random.Random(seed)
        self.rare = _rare_words(self.rng, 5000)
        self.texts = [
            " ".join(self.rng.choices(COMMON, k=18) + self.rng.choices(self.rare, k=8))
            for _ in range(min(TEXTS, sizes.tickets * 3))
        ]
        self.references: list[str] = []
        self.messages = 0

    def agents(self) -> list[tuple[Any, ...]]:
        return [
            (n + 1, f"agent{n}@bench.test", f"Agent {n}", "agent", "", True, 0, _ts(NOW))
            for n in range(AGENTS)
        ]

    def teams(self) -> list[tuple[Any, ...]]:
        return [(n + 1, f"Team {n}") for n in range(TEAMS)]

    def team_members(self) -> list[tuple[int, int]]:
        return [(1 + n % TEAMS, n + 1) for n in range(AGENTS)] + [(2, 1)]

    def channels(self) -> list[tuple[Any, ...]]:
        return [
            (n + 1, kind, name, "", "{}", "", "{}", 60, False, False, "ok", "", _ts(NOW))
            for n, (kind, name) in enumerate(CHANNELS)
        ]

    def customers(self) -> Iterator[list[tuple[Any, ...]]]:
        rng = self.rng
        for start in range(0, self.sizes.customers, CHUNK):
            rows = []
            for cid in range(start + 1, min(start + CHUNK, self.sizes.customers) + 1):
                name = f"{rng.choice(FIRST).title()} {rng.choice(LAST).title()}"
                rows.append((cid, name, _ts(NOW - timedelta(days=800))))
            yield rows

    def identities(self) -> Iterator[list[tuple[Any, ...]]]:
        for start in range(0, self.sizes.customers, CHUNK):
            rows = []
            for cid in range(start + 1, min(start + CHUNK, self.sizes.customers) + 1):
                rows.append((cid, cid, "email", f"c{cid}@example.org", _ts(NOW)))
            yield rows

    def tickets(self) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
        """Chunks of (ticket rows, message rows)."""
        rng = self.rng
        span = timedelta(days=730).total_seconds()
        status_weights = [w for *_, w in STATUSES]
        priority_weights = [w for _, w in PRIORITIES]
        message_id = 0
        for start in range(0, self.sizes.tickets, CHUNK):
            tickets, messages = [], []
            for tid in range(start + 1, min(start + CHUNK, self.sizes.tickets) + 1):
                body = "".join(rng.choice(ALPHABET) for _ in range(8))
                reference = format_reference(PREFIX, body + check_symbol(body))
                self.references.append(reference)
                status, category, _ = rng.choices(STATUSES, status_weights)[0]
                priority = rng.choices(PRIORITIES, priority_weights)[0][0]
                channel = rng.randint(1, len(CHANNELS))
                customer = rng.randint(1, self.sizes.customers)
                created = NOW - timedelta(seconds=rng.random() * span)
                updated = min(NOW, created + timedelta(seconds=rng.random() * 5 * 86400))
                open_ = category not in ("resolved", "closed")
                assignee = rng.randint(1, AGENTS) if not open_ or rng.random() < 0.7 else None
                team = rng.randint(1, TEAMS) if rng.random() < 0.8 else None
                topic = rng.choice(TOPICS)
                subject = f"{topic.title()} {' '.join(rng.choices(COMMON, k=3))}"
                tickets.append(
                    (
                        tid,
                        reference,
                        subject,
                        status,
                        category,
                        priority,
                        channel,
                        CHANNELS[channel - 1][0],
                        customer,
                        assignee,
                        team,
                        _ts(created),
                        _ts(updated),
                        None if open_ else _ts(updated),
                    )
                )
                for n in range(rng.choice((1, 2, 3, 3, 4, 5))):
                    message_id += 1
                    self.messages += 1
                    text_ = rng.choice(self.texts)
                    if n == 0:
                        text_ = f"{topic} {text_} {topic}"
                    inbound = n % 2 == 0
                    messages.append(
                        (
                            message_id,
                            tid,
                            "email",
                            "inbound" if inbound else "outbound",
                            channel,
                            CHANNELS[channel - 1][0],
                            "customer" if inbound else "agent",
                            subject,
                            text_,
                            text_,
                            f"<m{message_id}@bench.test>",
                            "unverified",
                            False,
                            _ts(created + timedelta(minutes=10 * n)),
                        )
                    )
            yield tickets, messages

    def sla_due(self, open_ids: list[int]) -> list[tuple[str, int]]:
        """Unresolved tickets get a due time from two days late to five days ahead."""
        return [(_ts(NOW + timedelta(hours=self.rng.uniform(-48, 120))), tid) for tid in open_ids]


def _ts(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


TICKET_COLUMNS = (
    "id, reference, subject, status, status_category, priority, channel_id, channel_kind, "
    "customer_id, assignee_id, team_id, created_at, updated_at, resolved_at"
)
MESSAGE_COLUMNS = (
    "id, ticket_id, kind, direction, channel_id, channel_kind, author_label, subject, "
    "body_text, display_text, external_id, verification, is_automatic, created_at"
)
TABLES = [
    (
        "agent",
        "id, email, name, role, password_hash, is_active, failed_logins, created_at",
        "agents",
    ),
    ("team", "id, name", "teams"),
    ("team_member", "team_id, agent_id", "team_members"),
    (
        "channel",
        "id, kind, name, address, config, secrets_encrypted, cursor, poll_seconds, enabled, "
        "trusted, health, health_detail, created_at",
        "channels",
    ),
]


class Loader:
    def __init__(self, url: str) -> None:
        self.url = url

    def rows(self, table: str, columns: str, rows: list[tuple[Any, ...]]) -> None:
        raise NotImplementedError

    def execute(self, sql: str, params: list[tuple[Any, ...]] | None = None) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class SqliteLoader(Loader):
    def __init__(self, url: str) -> None:
        import sqlite3

        super().__init__(url)
        self.connection = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        self.connection.execute("PRAGMA journal_mode=WAL")
        self.connection.execute("PRAGMA synchronous=OFF")
        self.connection.execute("PRAGMA cache_size=-400000")
        self.connection.execute("BEGIN")

    def rows(self, table: str, columns: str, rows: list[tuple[Any, ...]]) -> None:
        marks = ", ".join("?" for _ in columns.split(","))
        self.connection.executemany(
            f"INSERT INTO {table} ({columns}) VALUES ({marks})",  # noqa: S608
            rows,
        )

    def execute(self, sql: str, params: list[tuple[Any, ...]] | None = None) -> None:
        if params is None:
            self.connection.execute(sql)
        else:
            self.connection.executemany(sql, params)

    def close(self) -> None:
        self.connection.execute("COMMIT")
        self.connection.close()


class PostgresLoader(Loader):
    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.connection = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
        self.connection.execute("SET timezone = 'UTC'")

    def rows(self, table: str, columns: str, rows: list[tuple[Any, ...]]) -> None:
        with (
            self.connection.cursor() as cursor,
            cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)

    def execute(self, sql: str, params: list[tuple[Any, ...]] | None = None) -> None:
        sql = sql.replace("?", "%s")
        with self.connection.cursor() as cursor:
            if params is None:
                cursor.execute(sql)  # type: ignore[call-overload]
            else:
                cursor.executemany(sql, params)  # type: ignore[call-overload]

    def close(self) -> None:
        self.connection.commit()
        self.connection.close()


def build(url: str, tickets: int) -> tuple[Built, dict[str, float]]:
    """A database at the current schema holding ``tickets`` tickets; seconds per step."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    command.upgrade(alembic_config(url), "0002")
    gen = Generator(Sizes(tickets))
    loader: Loader = SqliteLoader(url) if url.startswith("sqlite") else PostgresLoader(url)
    for table, columns, source in TABLES:
        loader.rows(table, columns, getattr(gen, source)())
    for chunk in gen.customers():
        loader.rows("customer", "id, name, created_at", chunk)
    for chunk in gen.identities():
        loader.rows("customer_identity", "id, customer_id, kind, value, created_at", chunk)
    for ticket_rows, message_rows in gen.tickets():
        loader.rows("ticket", TICKET_COLUMNS, ticket_rows)
        loader.rows("message", MESSAGE_COLUMNS, message_rows)
    if not url.startswith("sqlite"):
        for table in ("agent", "team", "channel", "customer", "customer_identity", "ticket"):
            loader.execute(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")  # noqa: S608
        loader.execute("SELECT setval('message_id_seq', (SELECT max(id) FROM message))")
    loader.close()
    timings["load"] = time.perf_counter() - started

    started = time.perf_counter()
    command.upgrade(alembic_config(url), "heads")
    timings["migrate (index)"] = time.perf_counter() - started

    started = time.perf_counter()
    loader = SqliteLoader(url) if url.startswith("sqlite") else PostgresLoader(url)
    open_ids = _open_ids(url)
    loader.execute("UPDATE ticket SET sla_due_at = ? WHERE id = ?", gen.sla_due(open_ids))
    loader.close()
    _analyze(url)
    _mark_built(url)
    timings["sla + analyze"] = time.perf_counter() - started
    return Built(url, gen.references, gen.messages), timings


@dataclass
class Built:
    """A database ready to measure: where it is, and what the operations draw from."""

    url: str
    references: list[str]
    messages: int


def reopen(url: str) -> tuple[Built, dict[str, float]]:
    """A database an earlier run built and kept, migrated to the newest schema."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    before = _revisions(url)
    command.upgrade(alembic_config(url), "heads")
    if _revisions(url) != before:
        _analyze(url)
    timings["migrate"] = time.perf_counter() - started
    db = Database(url)
    with db.engine.connect() as conn:
        references = list(conn.execute(text("SELECT reference FROM ticket ORDER BY id")).scalars())
        messages = conn.execute(text("SELECT count(*) FROM message")).scalar_one()
    db.dispose()
    return Built(url, references, messages), timings


def _revisions(url: str) -> set[str]:
    db = Database(url)
    with db.engine.connect() as conn:
        found = set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    db.dispose()
    return found


def _mark_built(url: str) -> None:
    """Tells a later ``--reuse`` that this database is whole, not a build cut short."""
    if url.startswith("sqlite"):
        import sqlite3

        connection = sqlite3.connect(url.removeprefix("sqlite:///"))
        connection.execute(f"PRAGMA user_version = {BUILT_MARK}")
        connection.close()
        return
    with psycopg.connect(
        url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
    ) as conn:
        name = conn.execute("SELECT current_database()").fetchone()
        assert name is not None
        conn.execute(f"COMMENT ON DATABASE \"{name[0]}\" IS 'bench {BUILT_MARK}'")


def _open_ids(url: str) -> list[int]:
    db = Database(url)
    with db.engine.connect() as conn:
        ids = conn.execute(
            text("SELECT id FROM ticket WHERE status_category NOT IN ('resolved', 'closed')")
        ).scalars()
        found = list(ids)
    db.dispose()
    return found


def _analyze(url: str) -> None:
    if url.startswith("sqlite"):
        import sqlite3

        connection = sqlite3.connect(url.removeprefix("sqlite:///"))
        connection.execute("ANALYZE")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.close()
        return
    connection = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
    connection.autocommit = True
    connection.execute("VACUUM ANALYZE")
    connection.close()


@dataclass
class Figures:
    p50: float
    p95: float


def measure(runs: int, operations: dict[int, Callable[[int], object]]) -> dict[int, Figures]:
    """One operation on each size, the sizes taking turns run by run, so that a busy moment
    of the machine falls on both alike rather than on whichever size ran then."""
    for n in range(min(5, runs)):  # warm the caches and the pools as a running server has
        for operation in operations.values():
            operation(n)
    seconds: dict[int, list[float]] = {size: [] for size in operations}
    for n in range(runs):
        for size, operation in operations.items():
            started = time.perf_counter()
            operation(n)
            seconds[size].append(time.perf_counter() - started)
    return {size: _figures(times) for size, times in seconds.items()}


def _figures(seconds: list[float]) -> Figures:
    seconds = sorted(seconds)
    return Figures(
        p50=statistics.median(seconds) * 1000,
        p95=seconds[min(len(seconds) - 1, int(len(seconds) * 0.95))] * 1000,
    )


def prepare_operations(db: Database, built: Built, runs: int) -> dict[str, Callable[[int], object]]:
    """Each operation as the web handlers run it, its argument varied by the run number."""
    rng = random.Random(11)
    with db.reading() as session:
        agent = session.exec(select(Agent).where(Agent.email == "agent0@bench.test")).one()
        viewer = viewer_for(session, agent)
    deep = TicketFilters(view="all")
    with db.reading() as session:
        cursor = None
        for _ in range(DEEP_PAGES):
            page = list_tickets(
                session, prefix=PREFIX, filters=deep, viewer=viewer, limit=50, cursor=cursor
            )
            cursor = page.next_cursor
    searches = [f"{rng.choice(LAST)} {rng.choice(TOPICS)}" for _ in range(runs + 5)]
    references = [rng.choice(built.references) for _ in range(runs + 5)]

    def page_of(filters: TicketFilters, at: str | None = None) -> Callable[[int], object]:
        def operation(_n: int) -> object:
            with db.reading() as session:
                return list_tickets(
                    session,
                    prefix=PREFIX,
                    filters=filters,
                    viewer=viewer_for(session, agent),
                    limit=50,
                    cursor=at,
                    now=NOW,
                )

        return operation

    def search(n: int) -> object:  # in its own order: the newest ticket first
        return page_of(TicketFilters(q=searches[n]))(n)

    def search_by_update(n: int) -> object:  # in an order the agent picks: every match sorted
        return page_of(TicketFilters(q=searches[n], sort="updated"))(n)

    def ticket_page(n: int) -> object:
        with db.reading() as session:
            return ticket_detail(session, references[n], PREFIX)

    def counts(_n: int) -> object:
        with db.reading() as session:
            return view_counts(session, viewer_for(session, agent), prefix=PREFIX, now=NOW)

    def counts_of_everything(_n: int) -> object:  # an administrator's: every team's tickets
        with db.reading() as session:
            viewer = replace(viewer_for(session, agent), role="admin")
            return view_counts(session, viewer, prefix=PREFIX, now=NOW)

    return {
        "inbox, first page": page_of(TicketFilters()),
        "filtered view": page_of(TicketFilters(view="open", channel="Chat", sort="sla")),
        f"deep page ({DEEP_PAGES + 1}th)": page_of(deep, cursor),
        "search": search,
        "search, recently updated": search_by_update,
        "ticket page": ticket_page,
        "view counts (sidebar)": counts,
        "view counts, admin": counts_of_everything,
    }


def measure_sizes(built: dict[int, Built], runs: int) -> dict[int, dict[str, Figures]]:
    """Both sizes at rest (the builds' writes on disk), then each operation on both sizes
    taking turns run by run, so that both meet the same conditions of the machine."""
    os.sync()
    dbs = {tickets: Database(b.url) for tickets, b in built.items()}
    operations = {
        tickets: prepare_operations(dbs[tickets], b, runs) for tickets, b in built.items()
    }
    results: dict[int, dict[str, Figures]] = {tickets: {} for tickets in built}
    for name in next(iter(operations.values())):
        figures = measure(runs, {tickets: ops[name] for tickets, ops in operations.items()})
        for tickets, figure in figures.items():
            results[tickets][name] = figure
    for db in dbs.values():
        db.dispose()
    return results


def _database(
    backend: str, tickets: int, workdir: Path, name: str, *, reuse: bool
) -> tuple[str, Callable[[], None], bool]:
    """The database of one size: its URL, how to drop it, and whether a whole one is there
    to reuse (else it is made empty, for a build)."""
    if backend == "sqlite":
        path = workdir / f"inbox-{tickets}.sqlite3"
        url = f"sqlite:///{path}"
        whole = reuse and path.is_file() and _sqlite_mark(path) == BUILT_MARK
        if not whole:
            for leftover in workdir.glob(f"{path.name}*"):  # a build cut short, its WAL
                leftover.unlink()
        return url, lambda: path.unlink(missing_ok=True), whole
    base = os.environ.get("INBOX_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1")
    dbname = f"{name}_{tickets}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        mark = admin.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (dbname,),
        ).fetchone()
        whole = reuse and mark is not None and mark[0] == f"bench {BUILT_MARK}"
        if not whole:
            admin.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{dbname}"')

    def drop() -> None:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')

    return f"postgresql+psycopg://{base.split('://', 1)[1]}/{dbname}", drop, whole


def _sqlite_mark(path: Path) -> int:
    import sqlite3

    connection = sqlite3.connect(path)
    try:
        return int(connection.execute("PRAGMA user_version").fetchone()[0])
    finally:
        connection.close()


# What the figures at the large size should meet: the operations, the p95 in ms, the largest
# p95 ratio (None: any), and the backends the target is set for (elsewhere it only reports).
TARGETS: list[tuple[tuple[str, ...], float, float | None, tuple[str, ...]]] = [
    (
        ("inbox, first page", "filtered view", f"deep page ({DEEP_PAGES + 1}th)", "ticket page"),
        50.0,
        2.0,
        ("sqlite",),
    ),
    (("search",), 150.0, 2.0, ("sqlite",)),
    (("view counts (sidebar)", "view counts, admin"), 10.0, None, ("sqlite", "postgres")),
]


def report(
    backend: str,
    runs: int,
    small_size: int,
    large_size: int,
    by_size: dict[int, dict[str, Figures]],
) -> str:
    """The table of figures, then each target of this backend, met or not."""
    out = io.StringIO()
    small, large = by_size[small_size], by_size[large_size]
    print(f"\n{backend}: server time in ms, {runs} runs each", file=out)
    print(
        f"{'operation':<24} {'p50':>7} {'p95':>7}   {'p50':>7} {'p95':>7}   {'p95 ratio':>9}",
        file=out,
    )
    print(f"{'':<24} {small_size:>15,}   {large_size:>15,}", file=out)
    for name in small:
        a, b = small[name], large[name]
        print(
            f"{name:<24} {a.p50:>7.1f} {a.p95:>7.1f}   {b.p50:>7.1f} {b.p95:>7.1f}   "
            f"{b.p95 / a.p95:>8.2f}x",
            file=out,
        )
    print(f"\n{backend}: targets at {large_size:,} tickets", file=out)
    for names, p95, ratio, backends in TARGETS:
        if backend not in backends:
            continue
        for name in names:
            a, b = small[name], large[name]
            met = b.p95 < p95 and (ratio is None or b.p95 / a.p95 < ratio)
            wanted = f"p95 < {p95:g} ms" + (f", ratio < {ratio:g}" if ratio else "")
            print(f"{name:<24} {wanted:<26} {'met' if met else 'NOT MET'}", file=out)
    return out.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--keep", action="store_true", help="keep the databases")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure the databases a --keep run left (same --workdir and --name); implies --keep",
    )
    parser.add_argument(
        "--workdir", type=Path, help="the SQLite databases' folder (default: a new temporary one)"
    )
    parser.add_argument(
        "--name", default="inbox_bench", help="the PostgreSQL databases' name, before the size"
    )
    args = parser.parse_args()
    keep = args.keep or args.reuse
    workdir = args.workdir or Path(
        tempfile.mkdtemp(prefix="inbox-bench-", dir=os.environ.get("TMPDIR"))
    )
    workdir.mkdir(parents=True, exist_ok=True)
    sizes = (args.small, args.tickets)
    for backend in args.backends.split(","):
        built: dict[int, Built] = {}
        drops: list[Callable[[], None]] = []
        try:
            for tickets in sizes:
                url, drop, whole = _database(backend, tickets, workdir, args.name, reuse=args.reuse)
                drops.append(drop)
                ready, timings = reopen(url) if whole else build(url, tickets)
                steps = ", ".join(f"{k} {v:.0f}s" for k, v in timings.items())
                print(
                    f"{backend}: {tickets:,} tickets, {ready.messages:,} messages "
                    f"({'reused: ' if whole else ''}{steps})",
                    flush=True,
                )
                built[tickets] = ready
            by_size = measure_sizes(built, args.runs)
        finally:
            if not keep:
                for drop in drops:
                    drop()
        print(report(backend, args.runs, args.small, args.tickets, by_size), flush=True)
    if not keep and args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
