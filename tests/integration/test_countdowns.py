"""SLA countdowns in the inbox as the server renders them (readable without JavaScript), and
the "Breaching soon" view agreeing with them: a running clock due within four hours, or
overdue, soonest first. Runs unchanged on SQLite and on PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col

from inbox.actions.sla.policies import PolicyFields, save_policy
from inbox.db import Database
from inbox.models import Ticket, utcnow
from inbox.settings import Settings
from tests.support.desk import make_agent, make_channel
from tests.support.sla_story import opened_ago
from tests.support.web import Client, page_references, sign_in


@pytest.fixture
def refs(db: Database, settings: Settings) -> dict[str, str]:
    channel = make_channel(db, settings)
    make_agent(db)
    with db.unit_of_work() as session:
        save_policy(
            session,
            PolicyFields(name="Low", position=0, priorities=["low"], first_response_minutes=600),
            actor=None,
        )
        save_policy(session, PolicyFields(name="Standard", first_response_minutes=60), actor=None)
    found = {
        "overdue": opened_ago(db, settings, channel, "Overdue", 65),
        "soon": opened_ago(db, settings, channel, "Soon", 30),
        "later": opened_ago(db, settings, channel, "Later", 0, priority="low"),
        "waiting": opened_ago(db, settings, channel, "Waiting", 50, status="waiting on customer"),
    }
    with db.unit_of_work() as session:  # as if its recompute had not run yet
        session.execute(
            update(Ticket)
            .where(col(Ticket.reference) == found["waiting"])
            .values(sla_due_at=utcnow() + timedelta(minutes=10))
        )
    return found


def _cell(html: str, reference: str) -> str:
    row = re.search(rf'<tr [^>]*id="ticket-row-{reference}".*?</tr>', html, re.S)
    assert row, f"no row for {reference}"
    cell = re.search(r'<td class="sla-due">(.*?)</td>', row.group(0), re.S)
    assert cell
    return cell.group(1)


def test_each_row_shows_its_countdown_as_text(client: Client, refs: dict[str, str]) -> None:
    sign_in(client)
    html = client.get("/tickets", params={"view": "open"}).text
    overdue = _cell(html, refs["overdue"])
    assert re.search(r'class="sla-countdown sla-overdue"[^>]*>overdue 5m \d\ds</time>', overdue)
    assert "data-sla-due=" in overdue and 'data-soon="14400"' in overdue
    soon = _cell(html, refs["soon"])
    assert re.search(r'class="sla-countdown sla-soon"[^>]*>due in (29|30)m</time>', soon)
    later = _cell(html, refs["later"])
    assert re.search(r'class="sla-countdown sla-ok"[^>]*>due in 9h 59m</time>', later)
    assert _cell(html, refs["waiting"]) == "—"  # paused: no countdown, even before a recompute
    assert '<script src="/static/countdown.js" defer></script>' in html


def test_breaching_soon_lists_what_the_countdowns_show_soonest_first(
    client: Client, refs: dict[str, str]
) -> None:
    sign_in(client)
    page = client.get("/tickets").text
    link = re.search(r'data-view="breaching">\s*<a href="([^"]+)"', page)
    assert link and "sort=sla" in link.group(1)
    html = client.get(link.group(1).replace("&amp;", "&")).text
    listed = page_references(html)
    assert listed == [refs["overdue"], refs["soon"]]
    counts = client.get("/inbox/counts").text
    assert re.search(r'data-view="breaching">.*?<span class="count">2</span>', counts, re.S)
