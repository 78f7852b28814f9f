"""A Telegram bot as a channel, against a local server speaking the Bot API: long polling of
getUpdates with the offset as the cursor, replies by sendMessage, files by getFile, and the
Bot API's refusals (429 with retry_after, a blocked user, a revoked token)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlmodel import col, select

import connectors
from inbox.blobs import BlobStore
from inbox.db import Database
from inbox.models import Attachment, Channel, CustomerIdentity, InboundItem, Message, Outbox, utcnow
from inbox.settings import Settings
from tests.support.apps import app_for
from tests.support.desk import make_agent
from tests.support.processes import wait_for
from tests.support.social_desk import (
    add_channel,
    channel,
    file_pending,
    make_due,
    messages_of,
    reply,
    send_due,
    tickets_of_channel,
)
from tests.support.social_platforms import FakeTelegram
from workers.poll import poll_channels
from workers.pulling import PullWatcher
from workers.runtime import Runtime

TOKEN = "123456:AAE-test-token"


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram(token=TOKEN) as server:
        yield server


@pytest.fixture
def desk(db: Database, settings: Settings, telegram: FakeTelegram) -> tuple[Runtime, int]:
    _, rt = app_for(settings)
    channel_id = add_channel(
        db,
        settings,
        "telegram",
        name="Telegram",
        secrets={"token": TOKEN},
        values={"api_url": telegram.url},
    )
    return rt, channel_id


def test_a_customer_writes_the_bot_gets_a_ticket_and_the_agent_answer_goes_back_to_the_chat(
    db: Database, settings: Settings, telegram: FakeTelegram, desk: tuple[Runtime, int]
) -> None:
    rt, channel_id = desk
    agent_id, _ = make_agent(db)
    telegram.customer_writes(chat_id=4242, text="My transfer has not arrived", first_name="Ana")

    lines = poll_channels(rt, channel_name="Telegram")

    assert "1 new tickets" in lines[0]
    [ticket] = tickets_of_channel(db, channel_id)
    assert ticket.subject == "My transfer has not arrived" and ticket.channel_kind == "telegram"
    assert channel(db, channel_id).cursor == {"offset": 2}
    with db.reading() as session:
        identity = session.exec(select(CustomerIdentity)).one()
    assert (identity.kind, identity.value) == ("telegram_id", "4242")

    telegram.customer_writes(chat_id=4242, text="It was 50 EUR")
    poll_channels(rt, channel_name="Telegram")
    assert len(tickets_of_channel(db, channel_id)) == 1  # the same chat, the same ticket

    message_id = reply(db, settings, ticket.reference, agent_id, "It is on its way, Ana.")
    assert messages_of(db, ticket.reference)[-1].delivery == "queued"
    send_due(db)

    [sent] = telegram.sent("sendMessage")
    assert sent == {"chat_id": "4242", "text": "It is on its way, Ana."}
    with db.reading() as session:
        message = session.get(Message, message_id)
        assert message is not None and message.delivery == "sent"
        assert message.external_id and message.external_id.startswith("4242:")
    texts = [m.body_text for m in messages_of(db, ticket.reference)]
    assert texts == ["My transfer has not arrived", "It was 50 EUR", "It is on its way, Ana."]


def test_an_update_read_again_is_stored_once(
    db: Database, settings: Settings, telegram: FakeTelegram, desk: tuple[Runtime, int]
) -> None:
    rt, channel_id = desk
    telegram.customer_writes(chat_id=7, text="Hello")
    poll_channels(rt)
    kept = list(telegram.updates)
    with db.unit_of_work() as session:  # the cursor lost: Telegram sends the update again
        found = session.get(Channel, channel_id)
        assert found is not None
        found.cursor = {}
        session.add(found)
    telegram.updates = kept

    poll_channels(rt)

    with db.reading() as session:
        assert len(session.exec(select(InboundItem)).all()) == 1
        assert len(session.exec(select(Message)).all()) == 1


def test_a_card_number_in_a_message_is_masked_before_the_message_is_stored(
    db: Database, settings: Settings, telegram: FakeTelegram, desk: tuple[Runtime, int]
) -> None:
    rt, channel_id = desk
    telegram.customer_writes(chat_id=9, text="my card 4111 1111 1111 1111 was charged twice")
    poll_channels(rt)
    [ticket] = tickets_of_channel(db, channel_id)
    messages = messages_of(db, ticket.reference)
    assert messages[0].body_text == "my card •••• •••• •••• 1111 was charged twice"
    assert "Masked for your safety: card number" in messages[1].body_text
    with db.reading() as session:
        raw = session.exec(select(InboundItem.raw)).one()
    assert b"4111 1111 1111 1111" not in raw


def test_photos_and_documents_are_fetched_into_the_attachment_store(
    db: Database, settings: Settings, telegram: FakeTelegram, desk: tuple[Runtime, int]
) -> None:
    rt, channel_id = desk
    telegram.customer_writes(chat_id=5, text="the receipt", photo=b"\xff\xd8jpeg-bytes")
    telegram.customer_writes(chat_id=5, document=("statement.pdf", b"%PDF-1.7 statement"))
    poll_channels(rt)
    with db.reading() as session:
        attachments = session.exec(select(Attachment).order_by(col(Attachment.id))).all()
    assert [(a.filename, a.size) for a in attachments] == [
        ("photo.jpg", 12),
        ("statement.pdf", 18),
    ]
    blobs = BlobStore(settings.blob_dir)
    assert blobs.get(attachments[1].content_hash) == b"%PDF-1.7 statement"
    [ticket] = tickets_of_channel(db, channel_id)
    assert messages_of(db, ticket.reference)[0].body_text == "the receipt"


def test_an_oversized_file_is_not_fetched_and_the_message_says_so(
    db: Database,
    settings: Settings,
    telegram: FakeTelegram,
    desk: tuple[Runtime, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rt, channel_id = desk
    monkeypatch.setattr(connectors.get("telegram"), "max_media_bytes", 1000)
    # One announced as too big, one that says it is small and is not.
    telegram.customer_writes(chat_id=5, text="a", photo=b"x" * 10, announced_size=50_000_000)
    telegram.customer_writes(chat_id=5, document=("big.pdf", b"y" * 5000), announced_size=100)
    poll_channels(rt)
    with db.reading() as session:
        assert session.exec(select(Attachment)).all() == []
    [ticket] = tickets_of_channel(db, channel_id)
    texts = [m.body_text for m in messages_of(db, ticket.reference)]
    assert "[not fetched: photo.jpg: too large (50000000 bytes)]" in texts[0]
    assert "[not fetched: big.pdf: too large" in texts[1]


def test_a_file_redirected_to_another_host_is_not_fetched(
    db: Database, settings: Settings, telegram: FakeTelegram, desk: tuple[Runtime, int]
) -> None:
    rt, channel_id = desk
    telegram.file_redirect = "http://169.254.169.254/latest/meta-data/"
    telegram.customer_writes(chat_id=5, photo=b"img")
    poll_channels(rt)
    with db.reading() as session:
        assert session.exec(select(Attachment)).all() == []
    [ticket] = tickets_of_channel(db, channel_id)
    assert "is not the platform's own host" in messages_of(db, ticket.reference)[0].body_text


def test_a_429_waits_as_long_as_telegram_says_and_a_storm_reaches_telegram_once(
    db: Database, settings: Settings, telegram: FakeTelegram, desk: tuple[Runtime, int]
) -> None:
    rt, channel_id = desk
    agent_id, _ = make_agent(db)
    telegram.customer_writes(chat_id=11, text="Hi")
    poll_channels(rt)
    [ticket] = tickets_of_channel(db, channel_id)
    for n in range(5):
        reply(db, settings, ticket.reference, agent_id, f"answer {n}")
    telegram.fail_next(429, retry_after=40, times=50)

    send_due(db)

    assert sum(1 for _, p, _, _ in telegram.requests if p.endswith("/sendMessage")) == 1
    with db.reading() as session:
        rows = session.exec(select(Outbox)).all()
    assert {r.state for r in rows} == {"queued"}
    assert all(r.next_attempt_at >= utcnow() + timedelta(seconds=35) for r in rows)
    assert {m.delivery for m in messages_of(db, ticket.reference)[1:]} == {"queued"}

    with telegram.lock:  # the flood is over
        telegram._script.clear()
    make_due(db)
    send_due(db)
    texts = [b["text"] for b in telegram.sent("sendMessage")]
    assert texts == ["answer 0"] + [f"answer {n}" for n in range(5)]  # the refused one first
    assert {m.delivery for m in messages_of(db, ticket.reference)[1:]} == {"sent"}


def test_a_user_who_blocked_the_bot_fails_the_reply_at_once_with_telegram_words(
    db: Database, settings: Settings, telegram: FakeTelegram, desk: tuple[Runtime, int]
) -> None:
    rt, channel_id = desk
    agent_id, _ = make_agent(db)
    telegram.customer_writes(chat_id=13, text="Hi")
    poll_channels(rt)
    [ticket] = tickets_of_channel(db, channel_id)
    telegram.blocked.add(13)
    message_id = reply(db, settings, ticket.reference, agent_id, "Hello?")
    send_due(db)
    with db.reading() as session:
        message = session.get(Message, message_id)
        outbox = session.exec(select(Outbox)).one()
    assert message is not None and message.delivery == "failed"
    assert "bot was blocked by the user" in (message.delivery_error or "")
    assert outbox.state == "failed" and outbox.attempts == 1


def test_a_revoked_token_fails_replies_and_turns_the_channel_red_with_the_reason(
    db: Database, settings: Settings, telegram: FakeTelegram, desk: tuple[Runtime, int]
) -> None:
    rt, channel_id = desk
    agent_id, _ = make_agent(db)
    telegram.customer_writes(chat_id=17, text="Hi")
    poll_channels(rt)
    [ticket] = tickets_of_channel(db, channel_id)
    telegram.revoked = True
    message_id = reply(db, settings, ticket.reference, agent_id, "Hello")
    send_due(db)
    with db.reading() as session:
        message = session.get(Message, message_id)
    assert message is not None and message.delivery == "failed"
    found = channel(db, channel_id)
    assert found.health == "failing"
    assert found.health_detail == "Telegram refused the bot token (Unauthorized)"
    assert TOKEN not in (message.delivery_error or "") + found.health_detail


def test_the_filing_of_what_was_stored_needs_no_call_to_telegram(
    db: Database, settings: Settings, telegram: FakeTelegram, desk: tuple[Runtime, int]
) -> None:
    rt, channel_id = desk
    telegram.customer_writes(chat_id=19, text="Hi", photo=b"img")
    from workers.pulling import open_pull, sync_channel

    with open_pull(rt, channel(db, channel_id)) as source:
        assert sync_channel(rt, channel_id, source) == 1
    telegram.revoked = True  # whatever Telegram says now, the stored item holds all
    file_pending(rt)
    [ticket] = tickets_of_channel(db, channel_id)
    with db.reading() as session:
        assert len(session.exec(select(Attachment)).all()) == 1
    assert ticket.subject == "Hi"


def test_the_watcher_stores_updates_by_long_polling_and_shows_a_revoked_token_in_red(
    db: Database, settings: Settings, telegram: FakeTelegram, desk: tuple[Runtime, int]
) -> None:
    rt, channel_id = desk
    stop = threading.Event()
    watcher = PullWatcher(rt, channel_id, stop)
    watcher.start()
    try:
        telegram.customer_writes(chat_id=23, text="Are you there?")
        wait_for(lambda: _stored(db), timeout=20, what="the update stored")
        assert channel(db, channel_id).cursor == {"offset": 2}
        assert channel(db, channel_id).health == "ok"
        telegram.revoked = True
        found = wait_for(
            lambda: (c := channel(db, channel_id)).health == "failing" and c,
            timeout=30,
            what="the channel red",
        )
        assert found.health_detail == "Telegram refused the bot token (Unauthorized)"
    finally:
        stop.set()
        watcher.wake()
        watcher.join(timeout=20)


def _stored(db: Database) -> int:
    with db.reading() as session:
        return len(session.exec(select(InboundItem)).all())
