"""Article views counted in memory by each web process and written in batches
(``inbox.web.help.views``): none lost, none counted twice, exact in the managers' report and
the API as soon as they are read. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlmodel import select

from inbox.actions.help import access_article, delete_article
from inbox.db import Database
from inbox.models import Agent, HelpArticle
from inbox.web.help.views import ArticleViews
from tests.support.desk import make_agent
from tests.support.help_centre import write_article
from tests.support.processes import wait_for
from tests.support.web import Client


def stored_views(db: Database) -> dict[str, int]:
    with db.reading() as session:
        return dict(session.exec(select(HelpArticle.slug, HelpArticle.views)).all())


def test_views_reach_the_report_and_the_api_exactly_when_they_are_read(
    manager: Client, db: Database
) -> None:
    write_article(db, "Locked account", slug="locked")
    write_article(db, "Card declined", slug="declined")
    for _ in range(7):
        manager.get("/help/articles/locked")
    manager.get("/help/articles/declined")
    report = manager.get("/admin/help/report").text
    row = re.search(r"Locked account</a>.*?</tr>", report, re.S)
    assert row and re.findall(r"<td>([^<]*)</td>", row.group())[:2] == ["en", "7"]
    assert "8 views;" in report

    manager.get("/help/articles/declined")
    token = make_agent(db, email="reader@example.com", role="agent", name="Reader")[1]
    items = manager.get(
        "/api/v1/help/articles", headers={"Authorization": f"Bearer {token}"}
    ).json()["items"]
    assert {a["slug"]: a["views"] for a in items} == {"locked": 7, "declined": 2}


def test_views_are_written_within_a_second_without_anyone_asking(
    client: Client, db: Database
) -> None:
    make_agent(db, email="writer@example.com", role="manager")
    write_article(db, "Locked account", slug="locked")
    for _ in range(3):
        client.get("/help/articles/locked")
    wait_for(lambda: stored_views(db) == {"locked": 3}, timeout=5, what="three views written")


def test_views_counted_at_once_by_many_threads_and_two_processes_all_land(
    db: Database,
) -> None:
    make_agent(db, email="writer@example.com", role="manager")
    first, second = (
        write_article(db, "Locked account", slug="locked"),
        write_article(db, "Card declined", slug="declined"),
    )
    other = Database(db.url)  # another web process of the desk, with counts of its own
    here, there = ArticleViews(db, every=0.01), ArticleViews(other, every=0.01)

    def read(counter: ArticleViews) -> None:
        for n in range(200):
            counter.add(first if n % 4 else second)

    threads = [threading.Thread(target=read, args=(c,)) for c in (here, there, here, there)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    here.close()
    there.close()
    other.dispose()
    assert stored_views(db) == {"locked": 600, "declined": 200}


class _FailingOnce:
    """A database whose first write fails, as when the server restarts."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.failed = False

    @contextmanager
    def unit_of_work(self) -> Iterator[Any]:
        if not self.failed:
            self.failed = True
            raise ConnectionError("server closed the connection")
        with self.db.unit_of_work() as session:
            yield session


def test_a_batch_that_fails_is_written_with_the_next_and_deleted_articles_are_skipped(
    db: Database,
) -> None:
    make_agent(db, email="writer@example.com", role="manager")
    kept = write_article(db, "Locked account", slug="locked")
    gone = write_article(db, "Card declined", slug="declined")
    counter = ArticleViews(_FailingOnce(db), every=3600)  # type: ignore[arg-type]
    counter.add(kept)
    counter.flush()  # fails: the view stays counted
    assert stored_views(db) == {"locked": 0, "declined": 0}
    counter.add(kept)
    counter.add(gone)
    with db.unit_of_work() as session:
        writer = session.exec(select(Agent).where(Agent.email == "writer@example.com")).one()
        delete_article(session, access_article(session, gone), actor=writer)
    counter.close()
    assert stored_views(db) == {"locked": 2}
