"""Search results as an agent sees them: the newest matching ticket first (the ticket opened
last), page after page by cursor, only the tickets the agent may see, narrowed by the inbox's
views and filters; a sort the agent picks is kept. Runs unchanged on SQLite and PostgreSQL; on
SQLite, the query plan shows FTS5 reading its matches newest first, so a page stops early."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import select

from inbox.db import Database
from inbox.models import Agent, utcnow
from inbox.queries.tickets import TicketFilters, list_tickets, viewer_for
from inbox.settings import Settings
from tests.support.desk import (
    change_ticket,
    make_agent,
    make_channel,
    make_team,
    new_ticket,
    set_ticket_columns,
)
from tests.support.web import (
    Client,
    api_references,
    api_tickets,
    page_references,
    sign_in,
    walk_api_tickets,
)


@pytest.fixture
def refunds(db: Database, settings: Settings) -> dict[str, Any]:
    """An agent in Billing, a manager in Fraud, an administrator, and refund tickets opened in
    this order (the last is the newest): Billing's, one of no team, one of Fraud assigned to
    the agent, then two of Fraud's alone, the newest matches of all."""
    channel = make_channel(db, settings)
    agent_id, agent_token = make_agent(db, "agent@example.com")
    manager_id, _ = make_agent(db, "manager@example.com", role="manager")
    admin_token = make_agent(db, "admin@example.com", role="admin")[1]
    make_team(db, "Billing", agent_id)
    make_team(db, "Fraud", manager_id)
    labels = ("billing", "noteam", "fraud_mine", "fraud", "fraud_newest")
    refs = {
        label: new_ticket(
            db,
            settings,
            channel,
            sender=f"{label} <{label}@example.org>",
            subject=f"Refund please, {label}",
            body="I was charged twice.",
        )
        for label in labels
    }
    change_ticket(db, refs["billing"], "admin@example.com", team="Billing")
    change_ticket(
        db,
        refs["fraud_mine"],
        "admin@example.com",
        team="Fraud",
        assignee_email="agent@example.com",
    )
    change_ticket(db, refs["fraud"], "admin@example.com", team="Fraud")
    change_ticket(db, refs["fraud_newest"], "admin@example.com", team="Fraud")
    refs["unrelated"] = new_ticket(db, settings, channel, subject="Locked out", body="No access.")
    return {"refs": refs, "agent": agent_token, "admin": admin_token, "channel": channel}


def test_search_lists_the_newest_matching_ticket_first_not_the_last_updated(
    client: Client, db: Database, refunds: dict[str, Any]
) -> None:
    refs, token = refunds["refs"], refunds["admin"]
    set_ticket_columns(
        db, refs["billing"], updated_at=utcnow() + timedelta(minutes=5)
    )  # the oldest, touched
    assert api_references(client, token)[0] == refs["billing"]  # the inbox: recently updated first
    assert api_references(client, token, q="refund") == [
        refs["fraud_newest"],
        refs["fraud"],
        refs["fraud_mine"],
        refs["noteam"],
        refs["billing"],
    ]
    assert api_references(client, token, q="charged twi") == api_references(
        client, token, q="refund"
    )


def test_search_pages_continue_by_cursor_without_repeats_or_gaps(
    client: Client, db: Database, settings: Settings, refunds: dict[str, Any]
) -> None:
    token = refunds["admin"]
    newest_first = api_references(client, token, q="refund")
    assert len(newest_first) == 5
    for limit in (1, 2, 3):
        assert walk_api_tickets(client, token, q="refund", limit=limit) == newest_first
    first = api_tickets(client, token, q="refund", limit=2)
    # The cursor is the last ticket shown: a ticket opened since does not shift the pages.
    new_ticket(db, settings, refunds["channel"], subject="Refund, once more")
    rest = walk_api_tickets(client, token, q="refund", limit=2, cursor=first["next_cursor"])
    assert rest == newest_first[2:]


def test_search_shows_only_what_the_agent_may_see_even_when_others_are_newer(
    client: Client, db: Database, refunds: dict[str, Any]
) -> None:
    refs, token = refunds["refs"], refunds["agent"]
    mine = [refs["fraud_mine"], refs["noteam"], refs["billing"]]
    assert api_references(client, token, q="refund") == mine
    # The two newest matches are Fraud's: a page of one still finds the agent's first.
    assert api_references(client, token, q="refund", limit=1) == [refs["fraud_mine"]]
    assert walk_api_tickets(client, token, q="refund", limit=1) == mine
    assert api_references(client, token, q="fraud_newest") == []
    assert api_references(client, token, q=refs["fraud_newest"]) == []  # nor by its reference
    sign_in(client, "agent@example.com")
    assert page_references(client.get("/tickets", params={"q": "refund"}).text) == mine


def test_search_combines_with_views_and_filters(
    client: Client, db: Database, refunds: dict[str, Any]
) -> None:
    refs, admin, agent = refunds["refs"], refunds["admin"], refunds["agent"]
    change_ticket(db, refs["fraud"], "admin@example.com", status="resolved")
    change_ticket(
        db,
        refs["noteam"],
        "admin@example.com",
        status="waiting on customer",
        assignee_email="agent@example.com",
    )

    def found(token: str = admin, **params: str) -> list[str]:
        return api_references(client, token, q="refund", **params)

    assert found(view="open") == [
        refs["fraud_newest"],
        refs["fraud_mine"],
        refs["noteam"],
        refs["billing"],
    ]
    assert found(status="resolved") == [refs["fraud"]]
    assert found(view="waiting") == [refs["noteam"]]
    assert found(view="unassigned") == [refs["fraud_newest"], refs["billing"]]
    assert found(agent, view="mine") == [refs["fraud_mine"], refs["noteam"]]
    assert found(assignee="agent@example.com") == [refs["fraud_mine"], refs["noteam"]]
    assert found(team="Fraud") == [refs["fraud_newest"], refs["fraud"], refs["fraud_mine"]]
    assert found(team="none") == [refs["noteam"]]
    assert found(agent, team="Fraud") == [refs["fraud_mine"]]
    assert found(channel="Support", status="resolved") == [refs["fraud"]]
    assert found(channel="Chat") == []
    assert walk_api_tickets(client, admin, q="refund", view="open", limit=1) == found(view="open")


def test_a_sort_the_agent_picks_is_kept_while_searching(
    client: Client, db: Database, refunds: dict[str, Any]
) -> None:
    refs, token = refunds["refs"], refunds["admin"]
    change_ticket(db, refs["noteam"], "admin@example.com", priority="urgent")
    change_ticket(db, refs["billing"], "admin@example.com", priority="high")
    now = utcnow()
    set_ticket_columns(db, refs["fraud"], sla_due_at=now + timedelta(hours=1))
    set_ticket_columns(db, refs["billing"], sla_due_at=now + timedelta(hours=2))
    set_ticket_columns(db, refs["fraud_mine"], updated_at=now + timedelta(minutes=5))
    by_priority = walk_api_tickets(client, token, q="refund", sort="priority", limit=2)
    assert by_priority[:2] == [refs["noteam"], refs["billing"]]
    by_due = walk_api_tickets(client, token, q="refund", sort="sla", limit=2)
    assert by_due[:2] == [refs["fraud"], refs["billing"]]
    assert (
        walk_api_tickets(client, token, q="refund", sort="updated", limit=2)[0]
        == refs["fraud_mine"]
    )
    newest = walk_api_tickets(client, token, q="refund", limit=2)
    assert walk_api_tickets(client, token, q="refund", sort="newest", limit=2) == newest
    assert sorted(by_priority) == sorted(by_due) == sorted(newest)
    # A page of one order does not continue another.
    cursor = api_tickets(client, token, q="refund", limit=1)["next_cursor"]
    response = client.get(
        "/api/v1/tickets",
        params={"q": "refund", "sort": "updated", "cursor": cursor},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 422


def _selected_sort(html: str) -> tuple[str, str]:
    select_ = re.search(r'<select name="sort"[^>]*>(.*?)</select>', html, re.S)
    assert select_
    chosen = re.findall(r'<option value="([^"]*)" selected>([^<]*)</option>', select_.group(1))
    assert len(chosen) == 1, chosen
    return chosen[0]


def test_the_inbox_page_says_search_results_are_newest_first(
    client: Client, db: Database, refunds: dict[str, Any]
) -> None:
    sign_in(client, "agent@example.com")
    inbox = client.get("/tickets").text
    assert _selected_sort(inbox) == ("", "Recently updated")
    assert 'class="list-order"' not in inbox
    found = client.get("/tickets", params={"q": "refund"}).text
    assert _selected_sort(found) == ("", "Newest first")
    assert "Tickets matching “refund”, newest ticket first." in found
    assert ">Newest<" not in found  # by time opened: the same order, offered once
    picked = client.get("/tickets", params={"q": "refund", "sort": "priority"}).text
    assert _selected_sort(picked) == ("priority", "Priority")
    assert "Tickets matching “refund”, most urgent first." in picked
    assert re.search(r'<input type="hidden" name="sort" value="priority">', picked)
    updated = client.get("/tickets", params={"q": "refund", "sort": "updated"}).text
    assert _selected_sort(updated) == ("updated", "Recently updated")


def test_more_rows_of_a_search_in_the_page_follow_the_cursor(
    client: Client, db: Database, settings: Settings
) -> None:
    channel = make_channel(db, settings)
    make_agent(db, "me@example.com")
    refs = [new_ticket(db, settings, channel, subject=f"Refund {n}") for n in range(53)]
    sign_in(client, "me@example.com")
    first = client.get("/tickets", params={"q": "refund"}).text
    assert page_references(first) == refs[::-1][:50]
    more = re.search(r'hx-get="(/tickets\?[^"]*cursor=[^"]+)"', first)
    assert more and "q=refund" in more.group(1) and "sort=" not in more.group(1)
    rest = client.get(more.group(1).replace("&amp;", "&"), headers={"HX-Request": "true"}).text
    assert page_references(rest) == refs[::-1][50:] and "More" not in rest


def test_sqlite_reads_search_matches_newest_first_and_stops_with_the_page(
    db: Database, settings: Settings, refunds: dict[str, Any]
) -> None:
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the plan of FTS5; PostgreSQL reads every match from its GIN index")
    statements: list[tuple[str, Any]] = []

    def capture(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    event.listen(db.read_engine, "before_cursor_execute", capture)
    try:
        with db.reading() as session:
            agent = session.exec(select(Agent).where(Agent.email == "agent@example.com")).one()
            viewer = viewer_for(session, agent)
            first = list_tickets(
                session,
                prefix=settings.reference_prefix,
                filters=TicketFilters(q="refund"),
                viewer=viewer,
                limit=1,
            )
            list_tickets(
                session,
                prefix=settings.reference_prefix,
                filters=TicketFilters(q="refund", view="open"),
                viewer=viewer,
                limit=1,
                cursor=first.next_cursor,
            )
            lists = [(s, p) for s, p in statements if "FROM ticket JOIN ticket_fts" in s]
            assert len(lists) == 2
            raw = session.connection().connection.dbapi_connection
            assert raw is not None
            for statement, parameters in lists:
                plan = [
                    row[3] for row in raw.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)
                ]
                # FTS5 drives (its index flags 0x40 rowid order, 0x80 descending), each match
                # reaches its ticket by primary key, and nothing is sorted afterwards: the
                # LIMIT ends the walk once the page is full.
                fts = re.fullmatch(r"SCAN ticket_fts VIRTUAL TABLE INDEX (\d+):.*", plan[0])
                assert fts and int(fts.group(1)) & 0xC0 == 0xC0, plan
                assert "SEARCH ticket USING INTEGER PRIMARY KEY (rowid=?)" in plan, plan
                assert not [step for step in plan if "TEMP B-TREE" in step], plan
    finally:
        event.remove(db.read_engine, "before_cursor_execute", capture)
