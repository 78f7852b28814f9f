"""An X account's direct messages as a channel, against a local server speaking X API v2:
``GET /2/dm_events`` newest first with paging and rate-limit headers, replies by ``POST
/2/dm_conversations/with/{id}/messages``."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlmodel import select

from connectors.errors import CredentialsRefused, TransientConnectorError
from inbox.db import Database
from inbox.models import CustomerIdentity, InboundItem, Message
from inbox.settings import Settings
from tests.support.apps import app_for
from tests.support.desk import make_agent
from tests.support.social_desk import (
    add_channel,
    channel,
    messages_of,
    reply,
    send_due,
    tickets_of_channel,
)
from tests.support.social_platforms import FakeX
from workers.poll import poll_channels
from workers.runtime import Runtime

TOKEN = "x-user-token"
OWN = "900"


@pytest.fixture
def x() -> Iterator[FakeX]:
    with FakeX(token=TOKEN, user_id=OWN, page_size=2) as server:
        yield server


@pytest.fixture
def desk(db: Database, settings: Settings, x: FakeX) -> tuple[Runtime, int]:
    _, rt = app_for(settings)
    channel_id = add_channel(
        db,
        settings,
        "x",
        name="X",
        account_id=OWN,
        secrets={"token": TOKEN},
        values={"api_url": x.url, "user_id": OWN},
    )
    return rt, channel_id


def _event_gets(x: FakeX) -> int:
    return sum(1 for m, p, _, _ in x.requests if m == "GET" and p == "/2/dm_events")


def test_direct_messages_become_tickets_per_conversation_and_replies_go_to_the_conversation(
    db: Database, settings: Settings, x: FakeX, desk: tuple[Runtime, int]
) -> None:
    rt, channel_id = desk
    agent_id, _ = make_agent(db)
    x.customer_writes("77", "My payment bounced", name="Xavier")
    x.customer_writes("88", "Account locked", name="Yara")
    x.customer_writes("77", "Any news?", name="Xavier")

    poll_channels(rt)

    tickets = tickets_of_channel(db, channel_id)
    assert [t.subject for t in tickets] == ["My payment bounced", "Account locked"]
    assert [m.body_text for m in messages_of(db, tickets[0].reference)] == [
        "My payment bounced",
        "Any news?",
    ]
    with db.reading() as session:
        identities = session.exec(select(CustomerIdentity.kind, CustomerIdentity.value)).all()
    assert sorted(identities) == [("x_user_id", "77"), ("x_user_id", "88")]
    assert channel(db, channel_id).cursor == {"last_event_id": x.events[-1]["id"]}

    message_id = reply(db, settings, tickets[0].reference, agent_id, "It went through now")
    send_due(db)
    assert x.sent("/2/dm_conversations/with/77/messages") == [{"text": "It went through now"}]
    with db.reading() as session:
        message = session.get(Message, message_id)
    assert message is not None and message.delivery == "sent"
    assert message.external_id == x.events[-1]["id"]

    poll_channels(rt)  # our own reply comes back among the events: the same message
    assert len(messages_of(db, tickets[0].reference)) == 3


def test_a_poll_reads_newest_first_and_stops_at_the_last_event_it_has(
    db: Database, settings: Settings, x: FakeX, desk: tuple[Runtime, int]
) -> None:
    rt, _ = desk
    for n in range(5):
        x.customer_writes("77", f"message {n}")
    poll_channels(rt)
    assert _event_gets(x) == 3  # pages of two, newest first, to the oldest
    x.customer_writes("77", "one more")
    before = _event_gets(x)

    poll_channels(rt)

    assert _event_gets(x) - before == 1  # the first page holds the last event seen
    with db.reading() as session:
        assert len(session.exec(select(InboundItem)).all()) == 6
        texts = session.exec(select(Message.body_text).order_by(Message.id)).all()  # type: ignore[arg-type]
    assert list(texts) == [f"message {n}" for n in range(5)] + ["one more"]


def test_a_spent_rate_limit_stops_the_pass_and_the_next_goes_on_where_it_stopped(
    db: Database, settings: Settings, x: FakeX, desk: tuple[Runtime, int]
) -> None:
    rt, channel_id = desk
    for n in range(5):
        x.customer_writes("77", f"message {n}")
    x.remaining = 2  # two pages, then the window is spent until its reset
    x.reset_in = 1
    poll_channels(rt)
    cursor = channel(db, channel_id).cursor
    assert cursor["last_event_id"] == "" and cursor["resume_token"] == "4"
    with db.reading() as session:
        assert len(session.exec(select(InboundItem)).all()) == 4

    time.sleep(1.2)
    x.remaining = 15
    poll_channels(rt)

    assert channel(db, channel_id).cursor == {"last_event_id": x.events[-1]["id"]}
    with db.reading() as session:
        texts = session.exec(select(Message.body_text).order_by(Message.id)).all()  # type: ignore[arg-type]
    assert sorted(texts) == [f"message {n}" for n in range(5)]


def test_a_429_carries_the_wait_until_the_rate_limit_resets(
    db: Database, settings: Settings, x: FakeX, desk: tuple[Runtime, int]
) -> None:
    rt, _ = desk
    x.remaining = 0
    x.reset_in = 600
    with pytest.raises(TransientConnectorError) as refused:
        poll_channels(rt)
    assert refused.value.retry_after is not None and 590 <= refused.value.retry_after <= 600


def test_a_revoked_token_is_refused_credentials(
    db: Database, settings: Settings, x: FakeX, desk: tuple[Runtime, int]
) -> None:
    rt, _ = desk
    x.revoked = True
    with pytest.raises(CredentialsRefused, match="X refused the access token"):
        poll_channels(rt)
