"""Custom statuses: an administrator adds one on the admin page; agents then use it, and its
category is what counts (a waiting status pauses the SLA clock)."""

from __future__ import annotations

from sqlmodel import select

from inbox.db import Database
from inbox.models import AuditEvent, SlaClock, Ticket
from inbox.settings import Settings
from tests.support.desk import (
    confirm_second_factor,
    make_agent,
    make_channel,
    new_ticket,
    ticket_by_reference,
)
from tests.support.web import Client, csrf_token, sign_in


def _admin(client: Client, db: Database) -> str:
    """Signs the admin in; returns their API token."""
    admin_id, token = make_agent(db, email="admin@example.com", role="admin", name="Ada Admin")
    sign_in(client, "admin@example.com")
    confirm_second_factor(db, admin_id)  # two-factor sign-in is tested elsewhere
    return token


def test_an_admin_adds_a_waiting_status_and_it_pauses_the_clock(
    client: Client, db: Database, settings: Settings
) -> None:
    token = _admin(client, db)
    page = client.get("/admin/statuses")
    assert page.status_code == 200 and "waiting on customer" in page.text
    added = client.post(
        "/admin/statuses",
        data={
            "name": "  Waiting on   Vendor ",
            "category": "waiting_on_third_party",
            "_csrf_token": csrf_token(page.text),
        },
        follow_redirects=False,
    )
    assert added.status_code == 303
    page = client.get("/admin/statuses")
    assert 'data-status="waiting on vendor"' in page.text
    with db.reading() as session:
        audit = session.exec(select(AuditEvent).where(AuditEvent.action == "status.added")).one()
    assert audit.actor_label == "admin@example.com"
    assert audit.detail == {"name": "waiting on vendor", "category": "waiting_on_third_party"}

    # Agents can pick it, and the SLA clock reads its category.
    reference = new_ticket(db, settings, make_channel(db, settings))
    changed = client.patch(
        f"/api/v1/tickets/{reference}",
        json={"status": "waiting on vendor"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert changed.status_code == 200, changed.text
    ticket = ticket_by_reference(db, reference)
    assert (ticket.status, ticket.status_category) == (
        "waiting on vendor",
        "waiting_on_third_party",
    )
    with db.reading() as session:
        states = {
            c.state for c in session.exec(select(SlaClock).where(SlaClock.ticket_id == ticket.id))
        }
    assert states <= {"paused", "stopped"}


def test_refused_statuses_say_why_and_agents_may_not_add_any(
    client: Client, db: Database, settings: Settings
) -> None:
    make_agent(db)
    sign_in(client)
    assert client.get("/admin/statuses").status_code == 403
    client.cookies.clear()
    _admin(client, db)
    page = client.get("/admin/statuses")
    token = csrf_token(page.text)
    duplicate = client.post(
        "/admin/statuses",
        data={"name": "Open", "category": "open", "_csrf_token": token},
    )
    assert duplicate.status_code == 409 and "already a status named" in duplicate.text
    unknown = client.post(
        "/admin/statuses",
        data={"name": "parked", "category": "limbo", "_csrf_token": token},
    )
    assert unknown.status_code == 422 and "category must be one of" in unknown.text
    markup = client.post(
        "/admin/statuses",
        data={"name": "<b>x</b>", "category": "open", "_csrf_token": token},
    )
    assert markup.status_code == 422 and "&lt;b&gt;" in markup.text
    no_csrf = client.post("/admin/statuses", data={"name": "parked", "category": "open"})
    assert no_csrf.status_code == 403
    with db.reading() as session:
        assert session.exec(select(Ticket)).all() == []
