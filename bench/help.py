"""The help centre's server time: an article page and a search over 10,000 published
articles, against the desk's cheapest answer in the same run.

    python bench/help.py [--articles 10000] [--runs 300] [--backends sqlite,postgres]

For each backend: a fresh database migrated to the newest schema, one manager, and
``--articles`` published articles (English, titles of 4 to 8 words, bodies of 120 to 400
words drawn from a fixed-seed vocabulary of 4,000 words, in 12 categories) loaded with bulk
SQL, their search index built by the migration's triggers as they go in; then ``ANALYZE``.
The app is built as ``inbox serve`` builds it (``create_app``, no background work) and
driven in this process through Litestar's ``TestClient``; each request's *server time* is
measured by a wrapper around the ASGI app, from the call to the last byte of the answer,
so the test client's own work is not counted. The operations take turns run by run:

- ``baseline``: ``GET /healthz``, the least any answer costs (routing, middleware, the
  security headers, JSON);
- ``article``: ``GET /help/articles/{slug}``, a different article each run (the cache is
  warm for them, as it is on a running desk; the view is counted in memory and written with
  the next batch, by a thread once a second);
- ``article (rebuilt)``: the same with that article's page dropped from the cache, as the
  first reader of each page meets it after a publish (which changes the help centre's
  revision);
- ``article (cold)``: the same with the published-page cache emptied before each run (and
  put back after it, so that the other operations find it as they left it): the locales
  are read again too;
- ``search``: ``GET /help/search?q=`` two words, the second as typed so far (a prefix of
  four letters), each run different;
- ``suggest``: ``GET /help/suggest?q=`` the same, as the chat widget asks while typing.

It prints p50 and p95 per operation and each p50's ratio to the baseline's, and, once the
app has stopped (writing what it still counted), the views stored against the article pages
opened.

PostgreSQL comes from ``INBOX_BENCH_POSTGRES`` (default ``postgresql://postgres@127.0.0.1``);
the script creates and drops its own database there.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from litestar.testing import TestClient  # noqa: E402
from sqlalchemy import text  # noqa: E402

from inbox.actions.help import note_help_centre_changed  # noqa: E402
from inbox.actions.signin.agents import create_agent  # noqa: E402
from inbox.db import Database  # noqa: E402
from inbox.migrate import upgrade_database  # noqa: E402
from inbox.settings import load_settings  # noqa: E402

TOPICS = [
    "password",
    "payment",
    "instalment",
    "card",
    "account",
    "refund",
    "transfer",
    "statement",
    "limit",
    "address",
    "verification",
    "identity",
    "phone",
    "email",
    "notification",
    "subscription",
    "merchant",
    "dispute",
    "fee",
]
CATEGORIES = [f"Category {n}" for n in range(1, 13)]


def vocabulary(rng: random.Random, size: int) -> list[str]:
    syllables = [c + v for c in "bcdfghklmnprstvz" for v in "aeiou"]
    words: set[str] = set(TOPICS)
    while len(words) < size:
        words.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def build(url: str, articles: int) -> list[tuple[str, str]]:
    """The database with its articles; returns (slug, a search typed) pairs to use."""
    upgrade_database(url)
    db = Database(url)
    with db.unit_of_work() as session:
        create_agent(
            session,
            email="writer@bench.test",
            name="Writer",
            role="manager",
            password="a bench passphrase of some length",
        )
    rng = random.Random(7)
    words = vocabulary(rng, 4000)
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    with db.unit_of_work() as session:
        for n, name in enumerate(CATEGORIES, start=1):
            session.execute(
                text(
                    "INSERT INTO help_category (id, slug, name, position, created_at)"
                    " VALUES (:id, :slug, :name, 0, :at)"
                ),
                {"id": n, "slug": f"category-{n}", "name": name, "at": now},
            )
    rows = []
    for n in range(1, articles + 1):
        title = " ".join(rng.choice(words) for _ in range(rng.randint(4, 8))).capitalize()
        body = " ".join(rng.choice(words) for _ in range(rng.randint(120, 400)))
        rows.append(
            {
                "id": n,
                "slug": f"article-{n}",
                "title": title,
                "body": body,
                "category": rng.randint(1, len(CATEGORIES)),
                "at": now,
            }
        )
    insert = text(
        "INSERT INTO help_article (id, slug, locale, title, body_markdown, category_id, status,"
        " views, helpful_yes, helpful_no, created_at, updated_at, published_at) VALUES"
        " (:id, :slug, 'en', :title, :body, :category, 'published', 0, 0, 0, :at, :at, :at)"
    )
    for start in range(0, len(rows), 1000):
        with db.unit_of_work() as session:
            session.execute(insert, rows[start : start + 1000])
    with db.unit_of_work() as session:
        note_help_centre_changed(session)
        session.execute(text("ANALYZE"))
    db.dispose()
    picks = []
    for _ in range(1000):
        first, second = rng.choice(TOPICS), rng.choice(words)
        picks.append((f"article-{rng.randint(1, articles)}", f"{first} {second[:4]}"))
    return picks


class Timed:
    """The app wrapped to time each request from the call to the answer's last byte."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seconds: list[float] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        started = time.perf_counter()
        await self.app(scope, receive, send)
        if scope["type"] == "http":
            self.seconds.append(time.perf_counter() - started)


def figures(seconds: list[float]) -> tuple[float, float]:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return statistics.median(ordered) * 1000, p95 * 1000


def measure(backend: str, url: str, data_dir: Path, articles: int, runs: int) -> None:
    picks = build(url, articles)
    settings = load_settings(
        {
            "INBOX_DATA_DIR": str(data_dir),
            "INBOX_DATABASE_URL": url,
            "INBOX_SECRET_KEY": "bench-secret-key-of-enough-length-0123456789",
        }
    )
    from inbox.app import create_app
    from inbox.web.help import pages
    from inbox.web.help.pages import PUBLISHED
    from inbox.web.help.throttle import AddressWindow

    pages.SEARCHES = AddressWindow(limit=10**9, window=60.0)  # one address asks everything
    app = create_app(settings, background=False)
    timed = Timed(app)

    opened = [0]  # article pages asked for, each a view to count

    def article(path: str) -> Callable[[TestClient[Any]], object]:
        def run(client: TestClient[Any]) -> object:
            opened[0] += 1
            return client.get(path)

        return run

    def rebuilt(slug: str) -> Callable[[TestClient[Any]], object]:
        def run(client: TestClient[Any]) -> object:
            with PUBLISHED._lock:
                PUBLISHED._entries.pop(("article", slug, "en"), None)
            return article(f"/help/articles/{slug}")(client)

        return run

    def cold(path: str) -> Callable[[TestClient[Any]], object]:
        def run(client: TestClient[Any]) -> object:
            with PUBLISHED._lock:
                kept = PUBLISHED._entries.copy()
                PUBLISHED._entries.clear()
            try:
                return article(path)(client)
            finally:  # the warm operations find the cache as they left it
                with PUBLISHED._lock:
                    PUBLISHED._entries.clear()
                    PUBLISHED._entries.update(kept)

        return run

    with TestClient(timed) as client:  # type: ignore[arg-type]
        operations: dict[str, Callable[[int], Callable[[TestClient[Any]], object]]] = {
            "baseline": lambda n: lambda c: c.get("/healthz"),
            "article": lambda n: article(f"/help/articles/{picks[n % len(picks)][0]}"),
            "article (rebuilt)": lambda n: rebuilt(picks[(n + 800) % len(picks)][0]),
            "article (cold)": lambda n: cold(f"/help/articles/{picks[(n + 500) % len(picks)][0]}"),
            "search": lambda n: lambda c: c.get("/help/search", params={"q": picks[n][1]}),
            "suggest": lambda n: (
                lambda c: c.get("/help/suggest", params={"q": picks[(n + 1) % len(picks)][1]})
            ),
        }
        for n in range(20):  # warm the pools, the templates and the article cache
            for make in operations.values():
                make(n)(client)
        for n in range(runs):  # the articles measured warm were each opened once already
            article(f"/help/articles/{picks[n % len(picks)][0]}")(client)
        seconds: dict[str, list[float]] = {name: [] for name in operations}
        found: list[int] = []
        for n in range(runs):
            for name, make in operations.items():
                timed.seconds.clear()
                answer = make(n)(client)
                assert getattr(answer, "status_code", 200) == 200, (name, answer)
                seconds[name].append(timed.seconds[-1])
                if name == "search":
                    found.append(getattr(answer, "text", "").count('class="card"><a href'))
    db = Database(url)
    with db.reading() as session:
        stored = session.execute(text("SELECT sum(views) FROM help_article")).scalar_one()
    db.dispose()
    base = figures(seconds["baseline"])[0]
    print(f"\n{backend}: {articles:,} published articles, {runs} runs each")
    print(f"  {'operation':<18} {'p50 ms':>8} {'p95 ms':>8} {'p50 / baseline':>15}")
    for name, values in seconds.items():
        p50, p95 = figures(values)
        print(f"  {name:<18} {p50:8.2f} {p95:8.2f} {p50 / base:14.1f}x")
    print(f"  searches found {statistics.mean(found):.1f} articles on average (at most 20)")
    print(f"  views stored: {stored:,} of {opened[0]:,} article pages opened")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--backends", default="sqlite")
    args = parser.parse_args()
    for backend in args.backends.split(","):
        workdir = Path(tempfile.mkdtemp(prefix="bench-help-"))
        try:
            if backend == "sqlite":
                url = f"sqlite:///{workdir / 'inbox.sqlite3'}"
                measure(backend, url, workdir, args.articles, args.runs)
                continue
            server = os.environ.get("INBOX_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1")
            name = f"inbox_bench_help_{os.getpid()}"
            with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
                admin.execute(f"CREATE DATABASE {name}")
            try:
                measure(backend, f"{server}/{name}", workdir, args.articles, args.runs)
            finally:
                with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
                    admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        finally:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
