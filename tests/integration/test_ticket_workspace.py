"""The agent workspace on the ticket page: collision guard, merge and undo, split, macros and
canned responses, mentions and notifications, properties; through the pages and the JSON API.
Runs unchanged on SQLite and on PostgreSQL (``INBOX_TEST_DATABASE=postgres``)."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from sqlmodel import col, select

from inbox.db import Database
from inbox.models import (
    AuditEvent,
    Message,
    Notification,
    Outbox,
    Ticket,
    TicketLink,
    TicketTag,
)
from inbox.settings import Settings
from tests.support.desk import (
    agent_by_email,
    confirm_second_factor,
    ingest,
    mail,
    make_agent,
    make_channel,
    make_team,
    new_ticket,
    ticket_by_reference,
)
from tests.support.web import Client, csrf_token, sign_in

HX = {"HX-Request": "true"}


@pytest.fixture
def channel(db: Database, settings: Settings) -> int:
    return make_channel(db, settings)


def _login(client: Client, db: Database, email: str) -> str:
    """Signs in (with the second factor passed, for roles that need one); returns a CSRF
    token for the forms."""
    client.cookies.clear()
    sign_in(client, email)
    confirm_second_factor(db, agent_by_email(db, email).id or 0)
    return csrf_token(client.get("/tickets").text)


def _messages(db: Database, reference: str) -> list[Message]:
    with db.reading() as session:
        ticket = session.exec(select(Ticket).where(Ticket.reference == reference)).one()
        return list(
            session.exec(
                select(Message).where(Message.ticket_id == ticket.id).order_by(col(Message.id))
            ).all()
        )


def _outbox(db: Database, kind: str) -> list[Outbox]:
    with db.reading() as session:
        return list(session.exec(select(Outbox).where(Outbox.kind == kind)).all())


def _snapshot(db: Database, reference: str) -> dict[str, Any]:
    """Everything an agent would notice about a ticket: its messages, status and links."""
    with db.reading() as session:
        ticket = session.exec(select(Ticket).where(Ticket.reference == reference)).one()
        messages = session.exec(
            select(Message).where(Message.ticket_id == ticket.id).order_by(col(Message.id))
        ).all()
        links = session.exec(
            select(TicketLink).where(
                (col(TicketLink.ticket_id) == ticket.id)
                | (col(TicketLink.other_ticket_id) == ticket.id)
            )
        ).all()
        tags = session.exec(select(TicketTag.tag).where(TicketTag.ticket_id == ticket.id)).all()
        return {
            "status": (ticket.status, ticket.status_category, ticket.resolved_at),
            "messages": [(m.id, m.kind, m.direction, m.body_text, m.created_at) for m in messages],
            "links": sorted((link.ticket_id, link.other_ticket_id, link.kind) for link in links),
            "tags": sorted(tags),
            "assignee": ticket.assignee_id,
            "priority": ticket.priority,
        }


def _put_in_team(db: Database, reference: str, team_id: int) -> None:
    with db.unit_of_work() as session:
        ticket = session.exec(select(Ticket).where(Ticket.reference == reference)).one()
        ticket.team_id = team_id
        session.add(ticket)


def _seen_id(page: str) -> str:
    found = re.search(r'name="seen_message_id" value="(\d+)"', page)
    assert found
    return found.group(1)


# --- collision guard ---------------------------------------------------------------------


def test_reply_drafted_before_a_new_customer_message_waits_for_confirmation(
    client: Client, db: Database, settings: Settings, channel: int
) -> None:
    make_agent(db)
    reference = new_ticket(db, settings, channel, message_id="<first@example.org>")
    token = _login(client, db, "agent@example.com")
    seen = _seen_id(client.get(f"/tickets/{reference}").text)
    ingest(
        db,
        settings,
        channel,
        mail(body="Actually, it works again now!", headers={"In-Reply-To": "<first@example.org>"}),
    )
    inbound = [m for m in _messages(db, reference) if m.direction == "inbound"]
    assert len(inbound) == 2  # the second mail joined the ticket

    stale = client.post(
        f"/tickets/{reference}/replies",
        data={"body": "Have you tried resetting?", "seen_message_id": seen, "_csrf_token": token},
    )
    assert stale.status_code == 409
    assert "New message from the customer" in stale.text
    assert "Actually, it works again now!" in stale.text
    assert "Send anyway" in stale.text
    assert _outbox(db, "reply") == []  # nothing went out
    assert not [
        m for m in _messages(db, reference) if m.direction == "outbound" and not m.is_automatic
    ]

    # htmx gets the same confirmation in the timeline fragment.
    fragment = client.post(
        f"/tickets/{reference}/replies",
        data={"body": "Have you tried resetting?", "seen_message_id": seen, "_csrf_token": token},
        headers=HX,
    )
    assert fragment.status_code == 200 and "Send anyway" in fragment.text
    assert _outbox(db, "reply") == []

    confirm = re.search(
        r'<section class="stale-reply".*?name="body" value="([^"]*)".*?'
        r'name="seen_message_id" value="(\d+)"',
        stale.text,
        re.S,
    )
    assert confirm and int(confirm.group(2)) > int(seen)
    sent = client.post(
        f"/tickets/{reference}/replies",
        data={
            "body": html.unescape(confirm.group(1)),
            "seen_message_id": confirm.group(2),
            "_csrf_token": token,
        },
        follow_redirects=False,
    )
    assert sent.status_code == 303
    replies = _outbox(db, "reply")
    assert len(replies) == 1
    assert b"Have you tried resetting?" in replies[0].payload


def _form_key(page: str, form: str = "reply") -> str:
    """The idempotency key the page's reply (or note) form carries."""
    found = re.search(
        rf'<form class="composer {form}".*?name="idempotency_key" value="([^"]+)"', page, re.S
    )
    assert found, f"the {form} form carries an idempotency key"
    return found.group(1)


def test_the_reply_form_submitted_twice_sends_one_reply(
    client: Client, db: Database, settings: Settings, channel: int
) -> None:
    make_agent(db)
    reference = new_ticket(db, settings, channel, message_id="<k1@example.org>")
    token = _login(client, db, "agent@example.com")
    page = client.get(f"/tickets/{reference}").text
    form = {
        "body": "We have refunded the fee.",
        "seen_message_id": _seen_id(page),
        "idempotency_key": _form_key(page),
        "_csrf_token": token,
    }
    first = client.post(f"/tickets/{reference}/replies", data=form, headers=HX)
    # The customer writes meanwhile; the second click still only finds the first reply.
    ingest(db, settings, channel, mail(body="Thanks!", headers={"In-Reply-To": "<k1@example.org>"}))
    again = client.post(f"/tickets/{reference}/replies", data=form, headers=HX)

    assert first.status_code == again.status_code == 200
    assert "New message from the customer" not in again.text
    assert again.text.count("We have refunded the fee.") == 1
    assert len(_outbox(db, "reply")) == 1
    assert _form_key(again.text) != form["idempotency_key"]  # a fresh key for the next reply


def test_the_note_form_submitted_twice_adds_one_note_and_notifies_once(
    client: Client, db: Database, settings: Settings, channel: int
) -> None:
    make_agent(db)
    manager_id, _ = make_agent(db, email="max@example.com", role="manager", name="Max Manager")
    reference = new_ticket(db, settings, channel)
    token = _login(client, db, "agent@example.com")
    page = client.get(f"/tickets/{reference}").text
    form = {"body": "@max the card was stolen.", "_csrf_token": token}
    form["idempotency_key"] = _form_key(page, "note")
    first = client.post(f"/tickets/{reference}/notes", data=form, headers=HX)
    again = client.post(f"/tickets/{reference}/notes", data=form, headers=HX)

    assert first.status_code == again.status_code == 200
    assert again.text.count("the card was stolen.") == 1
    notes = [m for m in _messages(db, reference) if m.kind == "internal_note"]
    assert [n.body_text for n in notes] == ["@max the card was stolen."]
    with db.reading() as session:
        notified = [n.agent_id for n in session.exec(select(Notification))]
    assert notified == [manager_id]
    assert _form_key(again.text, "note") != form["idempotency_key"]  # a fresh key for the next note

    # The same key with other words is refused: it names the note already added.
    other = client.post(
        f"/tickets/{reference}/notes", data={**form, "body": "Something else"}, headers=HX
    )
    assert "that idempotency key belongs to another note" in other.text
    assert len([m for m in _messages(db, reference) if m.kind == "internal_note"]) == 1


def test_api_reply_with_a_stale_seen_message_id_answers_409(
    client: Client, db: Database, settings: Settings, channel: int
) -> None:
    _, token = make_agent(db)
    auth = {"Authorization": f"Bearer {token}"}
    reference = new_ticket(db, settings, channel, message_id="<a1@example.org>")
    seen = _messages(db, reference)[-1].id or 0
    ingest(
        db,
        settings,
        channel,
        mail(body="one more thing", headers={"In-Reply-To": "<a1@example.org>"}),
    )
    newest = max(m.id or 0 for m in _messages(db, reference) if m.direction == "inbound")

    stale = client.post(
        f"/api/v1/tickets/{reference}/replies",
        json={"body": "hello", "seen_message_id": seen},
        headers=auth,
    )
    assert stale.status_code == 409
    assert stale.json()["error"] == "stale_reply"
    assert str(newest) in stale.json()["detail"]
    assert _outbox(db, "reply") == []

    bad = client.post(
        f"/api/v1/tickets/{reference}/replies",
        json={"body": "hello", "seen_message_id": "x"},
        headers=auth,
    )
    assert bad.status_code == 422 and bad.json()["error"] == "invalid"

    ok = client.post(
        f"/api/v1/tickets/{reference}/replies",
        json={"body": "hello", "seen_message_id": newest},
        headers=auth,
    )
    assert ok.status_code == 201 and len(_outbox(db, "reply")) == 1
    unchecked = client.post(
        f"/api/v1/tickets/{reference}/replies", json={"body": "again"}, headers=auth
    )
    assert unchecked.status_code == 201  # without seen_message_id nothing is checked


# --- merge and undo ----------------------------------------------------------------------


def test_merge_then_undo_leaves_both_tickets_exactly_as_before(
    client: Client, db: Database, settings: Settings, channel: int
) -> None:
    make_agent(db)
    source = new_ticket(
        db, settings, channel, sender="Maria <maria@example.org>", subject="Card lost"
    )
    target = new_ticket(
        db, settings, channel, sender="Maria <maria@example.org>", subject="Card stolen?"
    )
    token = _login(client, db, "agent@example.com")
    client.post(
        f"/tickets/{source}/notes", data={"body": "Checked the card log.", "_csrf_token": token}
    )
    client.post(
        f"/tickets/{source}/properties",
        data={"status": "waiting on customer", "_csrf_token": token},
    )
    before = {source: _snapshot(db, source), target: _snapshot(db, target)}
    source_messages = [m.id for m in _messages(db, source)]

    merged = client.post(
        f"/tickets/{source}/merge", data={"into": target.lower(), "_csrf_token": token}
    )
    assert merged.status_code == 200
    assert "merged into" in merged.text and f'href="/tickets/{target}"' in merged.text
    assert "Undo merge" in merged.text
    closed = ticket_by_reference(db, source)
    assert closed.status_category == "closed"
    target_ids = [m.id for m in _messages(db, target)]
    assert set(source_messages) <= set(target_ids)  # the messages moved to the target
    source_events = [m.body_text for m in _messages(db, source) if m.kind == "system"]
    assert source_events == [f"merged into {target}"]
    target_page = client.get(f"/tickets/{target}").text
    assert f"merged from {source}" in target_page
    assert "Checked the card log." in target_page

    again = client.post(f"/tickets/{source}/merge", data={"into": target, "_csrf_token": token})
    assert again.status_code == 409 and "already merged" in again.text

    undone = client.post(f"/tickets/{source}/unmerge", data={"_csrf_token": token})
    assert undone.status_code == 200 and "Undo merge" not in undone.text
    assert {source: _snapshot(db, source), target: _snapshot(db, target)} == before
    with db.reading() as session:
        actions = session.exec(select(AuditEvent.action)).all()
    assert "ticket.merge" in actions and "ticket.unmerge" in actions


def test_merge_and_unmerge_through_the_api(
    client: Client, db: Database, settings: Settings, channel: int
) -> None:
    _, token = make_agent(db)
    auth = {"Authorization": f"Bearer {token}"}
    source = new_ticket(db, settings, channel, subject="First")
    target = new_ticket(db, settings, channel, subject="Second")
    before = {source: _snapshot(db, source), target: _snapshot(db, target)}

    extra = client.post(
        f"/api/v1/tickets/{source}/merge", json={"into": target, "status": "open"}, headers=auth
    )
    assert extra.status_code == 422 and extra.json() == {
        "error": "invalid",
        "detail": "unknown field(s): status",
    }
    itself = client.post(f"/api/v1/tickets/{source}/merge", json={"into": source}, headers=auth)
    assert itself.status_code == 422 and itself.json()["error"] == "invalid"
    nowhere = client.post(
        f"/api/v1/tickets/{source}/merge", json={"into": "HD-0000-00000"}, headers=auth
    )
    assert nowhere.status_code == 404 and nowhere.json()["error"] == "not_found"
    not_merged = client.post(f"/api/v1/tickets/{source}/unmerge", headers=auth)
    assert not_merged.status_code == 409 and not_merged.json()["error"] == "conflict"

    merged = client.post(f"/api/v1/tickets/{source}/merge", json={"into": target}, headers=auth)
    assert merged.status_code == 200
    body = merged.json()
    assert body["source"]["status_category"] == "closed"
    assert body["source"]["links"] == [
        {"kind": "merged", "reference": target, "reason": "merged by Alex Agent"}
    ]
    assert [m["body_text"] for m in body["source"]["messages"]] == [f"merged into {target}"]
    assert "I cannot sign in." in [m["body_text"] for m in body["target"]["messages"]]
    assert len(body["target"]["messages"]) == 5  # two mails, two acknowledgements, one event

    onward = client.post(f"/api/v1/tickets/{target}/merge", json={"into": source}, headers=auth)
    assert onward.status_code == 409  # the source is closed by a merge into this very ticket

    undone = client.post(f"/api/v1/tickets/{source}/unmerge", json={}, headers=auth)
    assert undone.status_code == 200
    assert undone.json()["source"]["status"] == "new"
    assert {source: _snapshot(db, source), target: _snapshot(db, target)} == before


def test_agents_cannot_merge_or_write_on_tickets_they_may_not_see(
    client: Client, db: Database, settings: Settings, channel: int
) -> None:
    make_agent(db)
    other_id, _ = make_agent(db, email="other@example.com", name="Oli Other")
    hidden_team = make_team(db, "Fraud", other_id)
    make_team(db, "Billing")
    mine = new_ticket(db, settings, channel, subject="Mine")
    hidden = new_ticket(db, settings, channel, subject="Hidden")
    _put_in_team(db, hidden, hidden_team)
    token = _login(client, db, "agent@example.com")
    assert (
        client.post(
            f"/tickets/{hidden}/merge", data={"into": mine, "_csrf_token": token}
        ).status_code
        == 404
    )
    into_hidden = client.post(f"/tickets/{mine}/merge", data={"into": hidden, "_csrf_token": token})
    assert into_hidden.status_code == 404
    assert ticket_by_reference(db, mine).status_category == "new"
    assert ticket_by_reference(db, hidden).status_category == "new"
    for path, data in [
        (f"/tickets/{hidden}/notes", {"body": "@other look"}),
        (f"/tickets/{hidden}/replies", {"body": "hello"}),
        (f"/tickets/{hidden}/properties", {"status": "open"}),
        (f"/tickets/{hidden}/messages/{_messages(db, hidden)[0].id}/split", {}),
    ]:
        assert client.post(path, data={**data, "_csrf_token": token}).status_code == 404, path
    assert len(_messages(db, hidden)) == 2  # the mail and its acknowledgement, nothing added


def test_undo_is_refused_when_the_merge_was_built_upon(
    client: Client, db: Database, settings: Settings, channel: int
) -> None:
    _, token = make_agent(db)
    auth = {"Authorization": f"Bearer {token}"}
    first = new_ticket(db, settings, channel, subject="One")
    second = new_ticket(db, settings, channel, subject="Two")
    third = new_ticket(db, settings, channel, subject="Three")
    client.post(f"/api/v1/tickets/{first}/merge", json={"into": second}, headers=auth)
    into_merged = client.post(f"/api/v1/tickets/{third}/merge", json={"into": first}, headers=auth)
    assert into_merged.status_code == 409 and second in into_merged.json()["detail"]
    client.post(f"/api/v1/tickets/{second}/merge", json={"into": third}, headers=auth)
    blocked = client.post(f"/api/v1/tickets/{first}/unmerge", headers=auth)
    assert blocked.status_code == 409 and "undo that merge first" in blocked.json()["detail"]
    assert client.post(f"/api/v1/tickets/{second}/unmerge", headers=auth).status_code == 200
    assert client.post(f"/api/v1/tickets/{first}/unmerge", headers=auth).status_code == 200

    # A merged message split out of the target since: the merge cannot be put back exactly.
    client.post(f"/api/v1/tickets/{first}/merge", json={"into": second}, headers=auth)
    moved = next(m for m in _messages(db, second) if m.body_text == "I cannot sign in.")
    client.post(f"/api/v1/tickets/{second}/split", json={"message_id": moved.id}, headers=auth)
    refused = client.post(f"/api/v1/tickets/{first}/unmerge", headers=auth)
    assert refused.status_code == 409 and "split out" in refused.json()["detail"]


# --- split -------------------------------------------------------------------------------


def test_split_moves_a_message_into_a_new_linked_ticket_of_the_same_customer(
    client: Client, db: Database, settings: Settings, channel: int
) -> None:
    make_agent(db)
    reference = new_ticket(db, settings, channel, message_id="<s1@example.org>")
    ingest(
        db,
        settings,
        channel,
        mail(
            subject="Also: change my address",
            body="Separate thing: please change my address.",
            headers={"In-Reply-To": "<s1@example.org>"},
        ),
    )
    second = _messages(db, reference)[-1]
    assert second.body_text.startswith("Separate thing")
    token = _login(client, db, "agent@example.com")
    assert "Split into new ticket" in client.get(f"/tickets/{reference}").text

    split = client.post(
        f"/tickets/{reference}/messages/{second.id}/split",
        data={"_csrf_token": token},
        follow_redirects=False,
    )
    assert split.status_code == 303
    new_reference = split.headers["location"].rsplit("/", 1)[1]
    new = ticket_by_reference(db, new_reference)
    old = ticket_by_reference(db, reference)
    assert new.customer_id == old.customer_id and new.subject == "Also: change my address"
    assert [m.id for m in _messages(db, new_reference) if m.kind != "system"] == [second.id]
    assert second.id not in [m.id for m in _messages(db, reference)]
    assert [m.body_text for m in _messages(db, new_reference) if m.kind == "system"] == [
        f"split from {reference}"
    ]
    assert f"message split out into {new_reference}" in [
        m.body_text for m in _messages(db, reference)
    ]
    new_page = client.get(f"/tickets/{new_reference}").text
    assert "split from" in new_page and f'href="/tickets/{reference}"' in new_page
    old_page = client.get(f"/tickets/{reference}").text
    assert "split out into" in old_page and f'href="/tickets/{new_reference}"' in old_page


def test_split_through_the_api(
    client: Client, db: Database, settings: Settings, channel: int
) -> None:
    _, token = make_agent(db)
    auth = {"Authorization": f"Bearer {token}"}
    reference = new_ticket(db, settings, channel, message_id="<p1@example.org>")
    ingest(
        db,
        settings,
        channel,
        mail(body="second topic", headers={"In-Reply-To": "<p1@example.org>"}),
    )
    first, second = _messages(db, reference)[:1][0], _messages(db, reference)[-1]
    unknown = client.post(
        f"/api/v1/tickets/{reference}/split",
        json={"message_id": second.id, "team": "x"},
        headers=auth,
    )
    assert unknown.status_code == 422
    made = client.post(
        f"/api/v1/tickets/{reference}/split",
        json={"message_id": second.id, "subject": "Second topic"},
        headers=auth,
    )
    assert made.status_code == 201
    body = made.json()
    assert body["subject"] == "Second topic"
    assert [m["id"] for m in body["messages"] if m["kind"] != "system"] == [second.id]
    assert body["links"][0]["reference"] == reference
    # Down to one message (the acknowledgement), the ticket keeps it: it would be empty.
    moved = client.post(
        f"/api/v1/tickets/{reference}/split", json={"message_id": first.id}, headers=auth
    )
    assert moved.status_code == 201
    (acknowledgement,) = [m for m in _messages(db, reference) if m.kind != "system"]
    last = client.post(
        f"/api/v1/tickets/{reference}/split",
        json={"message_id": acknowledgement.id},
        headers=auth,
    )
    assert last.status_code == 422
    assert last.json()["detail"] == "the only message of a ticket cannot be split out"


# --- macros and canned responses ---------------------------------------------------------


def _create_macro(client: Client, token: str, **fields: str) -> Any:
    return client.post(
        "/admin/macros", data={**fields, "_csrf_token": token}, follow_redirects=False
    )


def test_macro_sets_status_priority_and_tags_and_fills_placeholders_literally(
    client: Client, db: Database, settings: Settings, channel: int
) -> None:
    make_agent(db)
    make_agent(db, email="manager@example.com", role="manager", name="Max Manager")
    hostile_name = "{{agent.email}} {% raw %}"
    reference = new_ticket(
        db, settings, channel, sender=f'"{hostile_name}" <maria@example.org>', subject="Refund"
    )
    token = _login(client, db, "manager@example.com")
    body = (
        "Hello {{customer.name}}, about {{ ticket.reference }}: "
        "{{ 7*7 }} {% if 1 %}x{% endif %} {{config}} <script>alert(1)</script> -- {{agent.name}}"
    )
    created = _create_macro(
        client,
        token,
        name="Refund sent",
        body=body,
        set_status="waiting on customer",
        set_priority="low",
        add_tags="refund, Billing",
    )
    assert created.status_code == 303
    assert (
        _create_macro(client, token, name="Greeting", body="Hi {{customer.name}},").status_code
        == 303
    )
    admin_page = client.get("/admin/macros").text
    assert "Refund sent" in admin_page and "&lt;script&gt;" in admin_page
    assert "<script>alert(1)" not in admin_page

    token = _login(client, db, "agent@example.com")
    assert client.get("/admin/macros").status_code == 403  # agents use macros, not define them
    assert _create_macro(client, token, name="Mine", body="x").status_code == 403
    page = client.get(f"/tickets/{reference}").text
    macro_id = re.search(r'<option value="(\d+)">Refund sent', page)
    assert macro_id

    applied = client.post(
        f"/tickets/{reference}/macros",
        data={"macro_id": macro_id.group(1), "body": "Draft line.", "_csrf_token": token},
        headers=HX,
    )
    assert applied.status_code == 200
    reply_box = re.search(r'<textarea id="reply-body"[^>]*>(.*?)</textarea>', applied.text, re.S)
    assert reply_box
    text = html.unescape(reply_box.group(1))
    assert text == (
        f"Draft line.\n\nHello {hostile_name}, about {reference}: "
        "{{ 7*7 }} {% if 1 %}x{% endif %} {{config}} <script>alert(1)</script> -- Alex Agent"
    )
    assert "<script>alert(1)" not in applied.text  # escaped in the page
    ticket = ticket_by_reference(db, reference)
    assert (ticket.status, ticket.priority) == ("waiting on customer", "low")
    assert _snapshot(db, reference)["tags"] == ["billing", "refund"]
    events = [m.body_text for m in _messages(db, reference) if m.kind == "system"]
    assert events[0] == "macro applied: Refund sent"
    assert "status → waiting on customer" in events[1] and "priority → low" in events[1]
    assert _outbox(db, "reply") == []  # the text waits in the reply box; nothing is sent


def test_canned_response_only_inserts_text(
    client: Client, db: Database, settings: Settings, channel: int
) -> None:
    make_agent(db)
    make_agent(db, email="admin@example.com", role="admin", name="Ada Admin")
    reference = new_ticket(db, settings, channel, sender="Maria Lopez <maria@example.org>")
    token = _login(client, db, "admin@example.com")
    _create_macro(client, token, name="Greeting", body="Hi {{customer.name}},\n\n{{unknown.thing}}")
    duplicate = _create_macro(client, token, name="Greeting", body="again")
    assert duplicate.status_code == 409 and "exists already" in duplicate.text
    empty = _create_macro(client, token, name="Nothing")
    assert empty.status_code == 422
    token = _login(client, db, "agent@example.com")
    page = client.get(f"/tickets/{reference}").text
    macro_id = re.search(r'<option value="(\d+)">Greeting', page)
    assert macro_id
    before = _snapshot(db, reference)
    applied = client.post(
        f"/tickets/{reference}/macros",
        data={"macro_id": macro_id.group(1), "body": "", "_csrf_token": token},
    )
    assert applied.status_code == 200
    assert "Hi Maria Lopez,\n\n{{unknown.thing}}</textarea>" in applied.text
    assert _snapshot(db, reference) == before  # no changes, no events


def test_managers_edit_and_delete_macros(
    client: Client, db: Database, settings: Settings, channel: int
) -> None:
    make_agent(db, email="manager@example.com", role="manager", name="Max Manager")
    token = _login(client, db, "manager@example.com")
    assert 'href="/admin/macros"' in client.get("/tickets").text
    _create_macro(client, token, name="Thanks", body="Thanks!")
    page = client.get("/admin/macros").text
    found = re.search(r'action="/admin/macros/(\d+)" class="macro-form"', page)
    assert found
    macro_id = found.group(1)
    edited = client.post(
        f"/admin/macros/{macro_id}",
        data={
            "name": "Thanks a lot",
            "body": "Thanks a lot!",
            "set_priority": "low",
            "_csrf_token": token,
        },
        follow_redirects=False,
    )
    assert edited.status_code == 303
    page = client.get("/admin/macros").text
    assert "Thanks a lot" in page and "priority → low" in page
    bad = client.post(
        f"/admin/macros/{macro_id}",
        data={"name": "Thanks a lot", "set_status": "nonsense", "_csrf_token": token},
    )
    assert bad.status_code == 422 and "unknown status" in bad.text
    client.post(f"/admin/macros/{macro_id}/delete", data={"_csrf_token": token})
    assert "No macros yet." in client.get("/admin/macros").text
    with db.reading() as session:
        actions = set(session.exec(select(AuditEvent.action)).all())
    assert {"macro.create", "macro.update", "macro.delete"} <= actions


# --- mentions and notifications ----------------------------------------------------------


def test_mention_notifies_only_an_agent_who_may_see_the_ticket(
    client: Client, db: Database, settings: Settings, channel: int
) -> None:
    author_id, _ = make_agent(db)
    manager_id, _ = make_agent(db, email="max@example.com", role="manager", name="Max Manager")
    outsider_id, _ = make_agent(db, email="olga@example.com", name="Olga Outside")
    team = make_team(db, "Cards", author_id, manager_id)
    make_team(db, "Loans", outsider_id)
    reference = new_ticket(db, settings, channel)
    _put_in_team(db, reference, team)
    token = _login(client, db, "agent@example.com")
    page = client.get(f"/tickets/{reference}").text
    assert "@max" in page and "@olga" not in page  # the hint offers only who may see it

    noted = client.post(
        f"/tickets/{reference}/notes",
        data={"body": "@max and @olga, is this <b>fraud</b>? cc @nobody", "_csrf_token": token},
        headers=HX,
    )
    assert noted.status_code == 200
    assert "Notified Max Manager." in noted.text
    assert "@olga" in noted.text and "@nobody" in noted.text  # reported as not notified
    with db.reading() as session:
        notifications = session.exec(select(Notification)).all()
    assert [(n.agent_id, n.kind) for n in notifications] == [(manager_id, "mention")]
    mails = _outbox(db, "mention")
    assert [m.recipients for m in mails] == [["max@example.com"]]
    assert f"/tickets/{reference}#message-".encode() in mails[0].payload

    token = _login(client, db, "max@example.com")
    assert '<span class="badge"' in client.get("/notifications/count").text
    listing = client.get("/notifications").text
    assert f'href="/tickets/{reference}#message-' in listing
    assert "is this &lt;b&gt;fraud&lt;/b&gt;?" in listing  # escaped
    notification_id = notifications[0].id
    refused = client.post(f"/notifications/{notification_id}/read")
    assert refused.status_code == 403  # no CSRF token
    client.post(f"/notifications/{notification_id}/read", data={"_csrf_token": token})
    assert "badge" not in client.get("/notifications/count").text
    assert "Mark read" not in client.get("/notifications").text

    token = _login(client, db, "olga@example.com")
    assert "Nothing yet" in client.get("/notifications").text


def test_api_note_mentions_notify(
    client: Client, db: Database, settings: Settings, channel: int
) -> None:
    _, token = make_agent(db)
    make_agent(db, email="max@example.com", role="manager", name="Max Manager")
    reference = new_ticket(db, settings, channel)
    response = client.post(
        f"/api/v1/tickets/{reference}/notes",
        json={"body": "@MaxManager please call back; @max@example.com"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201
    assert response.json()["notified"] == ["max@example.com"]
    assert len(_outbox(db, "mention")) == 1  # one agent, mentioned twice, one mail


# --- assign, team, status, priority, tags ------------------------------------------------


def test_ticket_page_changes_assignee_team_status_priority_and_tags(
    client: Client, db: Database, settings: Settings, channel: int
) -> None:
    agent_id, _ = make_agent(db)
    make_agent(db, email="max@example.com", role="manager", name="Max Manager")
    make_team(db, "Cards", agent_id)
    reference = new_ticket(db, settings, channel)
    token = _login(client, db, "agent@example.com")
    changed = client.post(
        f"/tickets/{reference}/properties",
        data={
            "status": "open",
            "priority": "urgent",
            "assignee": "max@example.com",
            "team": "Cards",
            "tags": "vip, chargeback",
            "_csrf_token": token,
        },
        headers=HX,
    )
    assert changed.status_code == 200
    assert '<dd class="fact-assignee">Max Manager</dd>' in changed.text
    snapshot = _snapshot(db, reference)
    assert snapshot["tags"] == ["chargeback", "vip"] and snapshot["priority"] == "urgent"
    assert ticket_by_reference(db, reference).status == "open"
    assert "Assign to me" in changed.text
    client.post(f"/tickets/{reference}/assign-to-me", data={"_csrf_token": token})
    assert ticket_by_reference(db, reference).assignee_id == agent_id
    page = client.get(f"/tickets/{reference}").text
    assert "Assign to me" not in page and "assignee → agent@example.com" in page
    bad = client.post(
        f"/tickets/{reference}/properties",
        data={"priority": "whenever", "_csrf_token": token},
    )
    assert bad.status_code == 422 and "priority must be one of" in bad.text


# --- CSRF and shortcuts ------------------------------------------------------------------


def test_every_new_form_refuses_a_post_without_its_csrf_token(
    client: Client, db: Database, settings: Settings, channel: int
) -> None:
    make_agent(db, email="admin@example.com", role="admin", name="Ada Admin")
    reference = new_ticket(db, settings, channel)
    other = new_ticket(db, settings, channel)
    _login(client, db, "admin@example.com")
    message_id = _messages(db, reference)[0].id
    before = _snapshot(db, reference)
    for path, data in [
        (f"/tickets/{reference}/properties", {"status": "open"}),
        (f"/tickets/{reference}/assign-to-me", {}),
        (f"/tickets/{reference}/macros", {"macro_id": "1"}),
        (f"/tickets/{reference}/merge", {"into": other}),
        (f"/tickets/{reference}/unmerge", {}),
        (f"/tickets/{reference}/messages/{message_id}/split", {}),
        ("/notifications/read-all", {}),
        ("/notifications/1/read", {}),
        ("/admin/macros", {"name": "x", "body": "y"}),
        ("/admin/macros/1", {"name": "x", "body": "y"}),
        ("/admin/macros/1/delete", {}),
    ]:
        assert client.post(path, data=data).status_code == 403, path
    assert _snapshot(db, reference) == before


def test_pages_carry_the_shortcut_script_and_help(
    client: Client, db: Database, settings: Settings, channel: int
) -> None:
    make_agent(db)
    reference = new_ticket(db, settings, channel)
    _login(client, db, "agent@example.com")
    page = client.get(f"/tickets/{reference}").text
    assert '<script src="/static/shortcuts.js" defer></script>' in page
    assert 'id="shortcut-help"' in page
    for key in ("r", "n", "a", "s"):
        assert f'data-shortcut="{key}"' in page
    script = client.get("/static/shortcuts.js")
    assert script.status_code == 200 and "data-shortcut" in script.text
