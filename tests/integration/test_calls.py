"""Phone support: call notes on tickets, calls that open tickets, the customer panel."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlmodel import col, select

from inbox.actions.calls import CallDetails, log_call, open_ticket_from_call
from inbox.actions.customers import resolve_customer
from inbox.db import Database
from inbox.models import Agent, CallNote, Customer, CustomerIdentity, Message, Ticket, utcnow
from inbox.rules.references import normalize_reference
from inbox.settings import Settings
from tests.support.desk import (
    agent_by_email,
    make_agent,
    make_channel,
    new_ticket,
    ticket_by_reference,
)
from tests.support.web import Client, csrf_token, sign_in


def _sign_in(client: Client, email: str = "agent@example.com") -> str:
    """Signs in; returns a CSRF token for the forms of the call pages."""
    sign_in(client, email, next=None)
    return csrf_token(client.get("/calls/new").text)


def _call(**overrides: object) -> CallDetails:
    fields: dict[str, object] = {
        "direction": "inbound",
        "phone": "+49 151 12345678",
        "started_at": utcnow() - timedelta(minutes=6),
        "duration_seconds": 320,
        "outcome": "resolved",
        "summary": "Explained the late fee; waived it.",
    }
    fields.update(overrides)
    return CallDetails(**fields)  # type: ignore[arg-type]


def _log(db: Database, settings: Settings, ticket: Ticket, agent: Agent, call: CallDetails) -> None:
    """An agent logs a call on the ticket, in a unit of work of its own."""
    with db.unit_of_work() as session:
        current = session.get(Ticket, ticket.id)
        assert current is not None
        log_call(session, settings, ticket=current, agent=agent, call=call)


def _mail_ticket(db: Database, settings: Settings, channel_id: int | None = None) -> Ticket:
    channel_id = channel_id or make_channel(db, settings)
    return ticket_by_reference(db, new_ticket(db, settings, channel_id, subject="Late fee"))


def test_call_opens_a_ticket_whose_reference_the_page_shows_to_read_out(
    client: Client, db: Database
) -> None:
    make_agent(db)
    csrf = _sign_in(client)
    page = client.post(
        "/calls",
        data={
            "_csrf_token": csrf,
            "direction": "inbound",
            "phone": "0049 151 12345678",
            "name": "Jonas Weber",
            "subject": "Late payment fee",
            "duration_minutes": "4.5",
            "outcome": "callback_needed",
            "summary": "Wants the fee explained in writing.",
        },
    )
    assert page.status_code == 201
    shown = re.search(r'id="new-reference">([^<]+)<', page.text)
    assert shown and normalize_reference(shown.group(1), "HD") == shown.group(1)
    reference = shown.group(1)
    assert "Hotel Delta — " in page.text  # spelled out for reading aloud
    with db.reading() as session:
        ticket = session.exec(select(Ticket).where(Ticket.reference == reference)).one()
        identity = session.get(CustomerIdentity, ticket.contact_identity_id)
        customer = session.get(Customer, ticket.customer_id)
        call = session.exec(select(CallNote).where(CallNote.ticket_id == ticket.id)).one()
    assert ticket.channel_kind == "phone" and ticket.subject == "Late payment fee"
    assert identity is not None and (identity.kind, identity.value) == ("phone", "+4915112345678")
    assert customer is not None and customer.name == "Jonas Weber"
    assert (call.duration_seconds, call.outcome, call.phone) == (
        270,
        "callback_needed",
        identity.value,
    )
    ticket_page = client.get(f"/tickets/{reference}")
    assert "Wants the fee explained in writing." in ticket_page.text
    assert "Inbound call from +49 1511 2345678" in ticket_page.text


def test_call_from_a_known_number_joins_that_customer(db: Database, settings: Settings) -> None:
    agent_id, _ = make_agent(db)
    agent = agent_by_email(db, "agent@example.com")
    with db.unit_of_work() as session:
        customer, _identity = resolve_customer(
            session, kind="phone", value="+4915112345678", name="Jonas Weber"
        )
        customer_id = customer.id
    with db.unit_of_work() as session:
        ticket, _message = open_ticket_from_call(
            session, settings, agent=agent, call=_call(phone="+49 (0)151 1234 5678")
        )
        reference = ticket.reference
    with db.reading() as session:
        ticket = session.exec(select(Ticket).where(Ticket.reference == reference)).one()
        assert ticket.customer_id == customer_id
        assert len(session.exec(select(Customer)).all()) == 1
        call = session.exec(select(CallNote)).one()
        assert call.agent_id == agent_id


def test_call_on_a_ticket_adds_a_new_number_to_that_customer(
    db: Database, settings: Settings
) -> None:
    make_agent(db)
    agent = agent_by_email(db, "agent@example.com")
    ticket = _mail_ticket(db, settings)
    _log(db, settings, ticket, agent, _call(phone="+33612345678"))
    with db.reading() as session:
        phones = session.exec(
            select(CustomerIdentity).where(CustomerIdentity.kind == "phone")
        ).all()
        assert [(p.value, p.customer_id) for p in phones] == [("+33612345678", ticket.customer_id)]
        assert len(session.exec(select(Customer)).all()) == 1


def test_a_call_is_a_response_unless_nobody_answered(db: Database, settings: Settings) -> None:
    make_agent(db)
    agent = agent_by_email(db, "agent@example.com")
    ticket = _mail_ticket(db, settings)
    assert ticket.first_response_at is None and ticket.status == "new"
    _log(
        db,
        settings,
        ticket,
        agent,
        _call(direction="outbound", outcome="no_answer", duration_seconds=0),
    )
    current = ticket_by_reference(db, ticket.reference)
    assert current.first_response_at is None and current.status == "new"
    _log(db, settings, ticket, agent, _call(direction="outbound"))
    current = ticket_by_reference(db, ticket.reference)
    assert current.first_response_at is not None and current.status == "open"


def test_identity_checklist_marks_the_call_verified_only_when_complete(
    db: Database, settings: Settings
) -> None:
    make_agent(db)
    agent = agent_by_email(db, "agent@example.com")
    ticket = _mail_ticket(db, settings)
    with db.unit_of_work() as session:
        current = session.get(Ticket, ticket.id)
        assert current is not None
        partial = log_call(
            session,
            settings,
            ticket=current,
            agent=agent,
            call=_call(verification_checks=("date_of_birth",)),
        )
        full = log_call(
            session,
            settings,
            ticket=current,
            agent=agent,
            call=_call(
                verification_checks=("date_of_birth", "postcode_on_file", "last_payment_amount")
            ),
        )
        partial_id, full_id = partial.id, full.id
    with db.reading() as session:
        calls = {
            c.message_id: c for c in session.exec(select(CallNote).order_by(col(CallNote.id))).all()
        }
        assert not calls[partial_id].identity_verified
        assert calls[full_id].identity_verified
        full_message = session.get(Message, full_id)
        assert full_message is not None and full_message.verification == "agent"
        assert "identity verified on the call" in full_message.body_text


def test_the_agent_is_the_signed_in_one_whatever_the_form_says(
    client: Client, db: Database, settings: Settings
) -> None:
    make_agent(db, email="someone.else@example.com", name="Someone Else")
    agent_id, _ = make_agent(db)
    make_agent(db, "colleague@example.com", name="Cara Colleague")
    ticket = _mail_ticket(db, settings)
    csrf = _sign_in(client)
    response = client.post(
        f"/tickets/{ticket.reference}/calls",
        data={
            "_csrf_token": csrf,
            "direction": "inbound",
            "phone": "+4915112345678",
            "outcome": "resolved",
            "summary": "Talked it through.",
            "agent_id": "1",
            "author_label": "Someone Else",
        },
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200 and "Talked it through." in response.text
    assert "@colleague" in response.text  # the timeline keeps its workspace: mentions, macros
    with db.reading() as session:
        call = session.exec(select(CallNote)).one()
        message = session.get(Message, call.message_id)
    assert call.agent_id == agent_id
    assert message is not None and message.author_label == "Alex Agent"


def test_a_bad_number_is_refused_with_the_reason(
    client: Client, db: Database, settings: Settings
) -> None:
    make_agent(db)
    ticket = _mail_ticket(db, settings)
    csrf = _sign_in(client)
    response = client.post(
        f"/tickets/{ticket.reference}/calls",
        data={
            "_csrf_token": csrf,
            "direction": "inbound",
            "phone": "12345",
            "outcome": "resolved",
            "summary": "x",
        },
        headers={"HX-Request": "true"},
    )
    assert "country code" in response.text
    with db.reading() as session:
        assert session.exec(select(CallNote)).first() is None


def test_api_logs_calls_and_opens_tickets_with_declared_fields_only(
    client: Client, db: Database, settings: Settings
) -> None:
    agent_id, token = make_agent(db)
    auth = {"Authorization": f"Bearer {token}"}
    opened = client.post(
        "/api/v1/calls",
        json={
            "direction": "inbound",
            "phone": "+4915112345678",
            "started_at": (utcnow() - timedelta(minutes=3)).isoformat(),
            "duration_seconds": 150,
            "outcome": "resolved",
            "summary": "Asked about instalments.",
            "name": "Jonas Weber",
        },
        headers=auth,
    )
    assert opened.status_code == 201, opened.text
    body = opened.json()
    reference = body["ticket"]["reference"]
    assert body["ticket"]["spoken_reference"].startswith("Hotel Delta — ")
    assert body["call"]["agent_id"] == agent_id and body["call"]["phone"] == "+4915112345678"
    assert body["message"]["kind"] == "call_note"

    logged = client.post(
        f"/api/v1/tickets/{reference.lower()}/calls",
        json={
            "direction": "outbound",
            "phone": "+4915112345678",
            "duration_seconds": 60,
            "outcome": "voicemail",
            "summary": "Left a voicemail about the refund.",
            "verification_checks": [],
        },
        headers=auth,
    )
    assert logged.status_code == 201 and logged.json()["call"]["outcome"] == "voicemail"
    shown = client.get(f"/api/v1/tickets/{reference}", headers=auth).json()
    assert [m["kind"] for m in shown["messages"]] == ["call_note", "call_note"]

    smuggled = client.post(
        f"/api/v1/tickets/{reference}/calls",
        json={
            "direction": "inbound",
            "phone": "+4915112345678",
            "outcome": "resolved",
            "summary": "x",
            "agent_id": 99,
        },
        headers=auth,
    )
    assert smuggled.status_code == 422
    assert smuggled.json() == {"error": "invalid", "detail": "unknown field(s): agent_id"}
    naive = client.post(
        f"/api/v1/tickets/{reference}/calls",
        json={
            "direction": "inbound",
            "phone": "+4915112345678",
            "outcome": "resolved",
            "summary": "x",
            "started_at": "2026-11-24T05:00:00",
        },
        headers=auth,
    )
    assert naive.status_code == 422 and naive.json()["error"] == "invalid"
    missing = client.post(
        "/api/v1/tickets/HD-0000-00000/calls",
        json={"direction": "inbound", "phone": "+4915112345678", "outcome": "x", "summary": "x"},
        headers=auth,
    )
    assert missing.status_code in (404, 422)


def test_customer_panel_lists_identities_on_every_channel_and_past_tickets(
    client: Client, db: Database, settings: Settings
) -> None:
    make_agent(db)
    agent = agent_by_email(db, "agent@example.com")
    channel_id = make_channel(db, settings)
    first = _mail_ticket(db, settings, channel_id)
    second = _mail_ticket(db, settings, channel_id)
    _log(db, settings, second, agent, _call())
    _sign_in(client)
    panel = client.get(f"/tickets/{second.reference}/customer", headers={"HX-Request": "true"})
    assert panel.status_code == 200
    assert "maria@example.org" in panel.text and "+49 1511 2345678" in panel.text
    assert f'href="/tickets/{first.reference}"' in panel.text
    assert f'href="/tickets/{second.reference}"' not in panel.text  # past tickets only
    assert "No account in the directory" in panel.text
    page = client.get(f"/tickets/{second.reference}")
    assert f'hx-get="/tickets/{second.reference}/customer"' in page.text
