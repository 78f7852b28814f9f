"""Direct messages filed many at a time: a conversation's first and next messages in a few
statements per batch, in order, with a ticket that would change (waiting, snoozed, resolved
long ago) or a message that needs masking filed one at a time, still in order."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from litestar import Litestar
from sqlalchemy import event
from sqlmodel import col, select

from inbox.actions.followups import snooze_ticket
from inbox.actions.tickets import set_status
from inbox.db import Database
from inbox.models import (
    Agent,
    InboundItem,
    Message,
    SocialConversation,
    Ticket,
    TicketSnooze,
    utcnow,
)
from inbox.settings import Settings
from tests.support.apps import app_for
from tests.support.desk import make_agent
from tests.support.social_desk import add_channel, file_pending, messages_of, tickets_of_channel
from tests.support.social_platforms import signed_webhook, whatsapp_message
from tests.support.web import Client
from workers.runtime import Runtime

SECRET = "batch-app-secret"
PHONE_ID = "106540352242999"


@pytest.fixture
def rt(settings: Settings, app: Litestar) -> Runtime:
    return app_for(settings)[1]


@pytest.fixture
def channel_id(db: Database, settings: Settings) -> int:
    return add_channel(
        db,
        settings,
        "whatsapp",
        name="WhatsApp",
        account_id=PHONE_ID,
        secrets={"token": "t", "app_secret": SECRET, "verify_token": "v"},
        values={"graph_url": "http://127.0.0.1:9"},
    )


def _write(client: Client, number: str, n: int, text: str) -> None:
    body = whatsapp_message(PHONE_ID, number, f"wamid.B{n:05d}", text, name=f"Client {number}")
    raw, headers = signed_webhook(body, SECRET)
    assert client.post("/webhooks/meta", content=raw, headers=headers).status_code == 200


@contextmanager
def _statements(db: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def _texts(db: Database, reference: str) -> list[str]:
    return [m.body_text for m in messages_of(db, reference) if m.kind == "social"]


def test_first_and_next_messages_of_many_conversations_are_filed_together_in_order(
    client: Client, db: Database, rt: Runtime, channel_id: int
) -> None:
    _write(client, "34600000001", 0, "Hola, first of one")
    file_pending(rt)  # one conversation the desk has already
    [before] = tickets_of_channel(db, channel_id)
    n = 1
    for round_ in range(4):
        for customer in range(1, 11):
            _write(client, f"346000000{customer:02d}", n, f"message {round_} of {customer}")
            n += 1

    with _statements(rt.db) as statements:
        file_pending(rt)

    # 40 messages, 10 conversations (9 of them new): a few statements, not a few per message.
    assert len([s for s in statements if not s.startswith(("SAVEPOINT", "RELEASE"))]) < 30
    tickets = tickets_of_channel(db, channel_id)
    assert len(tickets) == 10
    first = next(t for t in tickets if t.subject == "Hola, first of one")
    assert _texts(db, first.reference) == ["Hola, first of one"] + [
        f"message {r} of 1" for r in range(4)
    ]
    reasons = [m.thread_reason for m in messages_of(db, first.reference)]
    assert reasons == ["new_ticket", *["conversation"] * 4]
    other = next(t for t in tickets if t.subject == "message 0 of 7")
    assert _texts(db, other.reference) == [f"message {r} of 7" for r in range(4)]
    with db.reading() as session:
        assert {i.state for i in session.exec(select(InboundItem))} == {"done"}
        conversations = session.exec(select(SocialConversation)).all()
        assert len(conversations) == 10 and all(c.last_inbound_at for c in conversations)
    assert first.updated_at > before.updated_at
    assert first.last_customer_message_at and before.last_customer_message_at
    assert first.last_customer_message_at > before.last_customer_message_at


def test_a_masked_message_keeps_its_place_among_the_messages_filed_together(
    client: Client, db: Database, rt: Runtime, channel_id: int
) -> None:
    _write(client, "34611111111", 1, "my payment failed")
    _write(client, "34611111111", 2, "card 4111 1111 1111 1111")
    _write(client, "34611111111", 3, "can you check?")
    _write(client, "34622222222", 4, "another customer")

    file_pending(rt)

    [ticket] = [t for t in tickets_of_channel(db, channel_id) if t.subject == "my payment failed"]
    assert _texts(db, ticket.reference) == [
        "my payment failed",
        "card •••• •••• •••• 1111",
        "can you check?",
    ]


def test_a_message_that_changes_its_ticket_is_filed_one_at_a_time(
    client: Client, db: Database, settings: Settings, rt: Runtime, channel_id: int
) -> None:
    for n, number in enumerate(("34633333331", "34633333332", "34633333333"), start=1):
        _write(client, number, n, f"first from {number}")
    file_pending(rt)
    waiting, snoozed, resolved = tickets_of_channel(db, channel_id)
    agent_id, _ = make_agent(db)
    with db.unit_of_work() as session:
        agent = session.get(Agent, agent_id)
        assert agent is not None
        found = {t.id: session.get(Ticket, t.id) for t in (waiting, snoozed, resolved)}
        set_status(session, found[waiting.id], "waiting on customer")  # type: ignore[arg-type]
        now = utcnow()
        snooze_ticket(
            session,
            found[snoozed.id],  # type: ignore[arg-type]
            agent=agent,
            until=now + timedelta(days=2),
            kind="snooze",
            now=now,
            zone=ZoneInfo("UTC"),
        )
        set_status(session, found[resolved.id], "resolved")  # type: ignore[arg-type]
        found[resolved.id].resolved_at = now - timedelta(days=90)  # type: ignore[union-attr]

    for n, ticket in enumerate((waiting, snoozed, resolved), start=10):
        number = ticket.subject.removeprefix("first from ")
        _write(client, number, n, f"again from {number}")
        _write(client, number, n + 10, f"and again from {number}")
    file_pending(rt)

    with db.reading() as session:
        reopened = session.get(Ticket, waiting.id)
        assert reopened is not None and reopened.status == "open"
        snooze = session.exec(select(TicketSnooze)).one()
        assert snooze.state == "woken"
        followups = session.exec(
            select(Ticket).where(col(Ticket.subject).startswith("again from"))
        ).all()
    assert [t.subject for t in followups] == ["again from 34633333333"]
    assert _texts(db, followups[0].reference) == [
        "again from 34633333333",
        "and again from 34633333333",
    ]
    assert _texts(db, waiting.reference)[1:] == [
        "again from 34633333331",
        "and again from 34633333331",
    ]


def test_a_redelivered_message_in_the_same_batch_is_filed_once(
    client: Client, db: Database, rt: Runtime, channel_id: int
) -> None:
    _write(client, "34644444444", 1, "hello")
    _write(client, "34644444444", 2, "are you there")
    file_pending(rt)
    _write(client, "34644444444", 2, "are you there")  # stored once: nothing new
    _write(client, "34644444444", 3, "third")

    file_pending(rt)

    [ticket] = tickets_of_channel(db, channel_id)
    assert _texts(db, ticket.reference) == ["hello", "are you there", "third"]
    with db.reading() as session:
        assert len(session.exec(select(Message).where(Message.kind == "social")).all()) == 3
