"""A Telegram bot set to a webhook, against a local server speaking the Bot API: setWebhook
with a secret the desk made, updates posted to /webhooks/telegram/{key} with the
X-Telegram-Bot-Api-Secret-Token header, refused without it, stored once, filed like polled
ones; long polling stops for the channel, and deleteWebhook brings it back."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar
from sqlmodel import col, select

from connectors.errors import ConnectorError
from inbox.db import Database
from inbox.models import Attachment, AuditEvent, InboundItem, Message
from inbox.settings import Settings
from inbox.signing import SecretBox
from inbox.web.webhooks import use_telegram_polling, use_telegram_webhook
from tests.support.apps import app_for
from tests.support.processes import wait_for
from tests.support.social_desk import (
    add_channel,
    channel,
    file_pending,
    messages_of,
    tickets_of_channel,
)
from tests.support.social_platforms import FakeTelegram
from tests.support.web import Client
from workers.poll import poll_channels
from workers.pulling import PullSupervisor, PullWatcher
from workers.runtime import Runtime
from workers.social_details import complete_social_message

TOKEN = "123456:AAE-webhook-token"
BASE = "https://desk.example.com"
HEADER = "X-Telegram-Bot-Api-Secret-Token"


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram(token=TOKEN) as server:
        yield server


@pytest.fixture
def rt(settings: Settings, app: Litestar) -> Runtime:
    return app_for(settings)[1]


@pytest.fixture
def channel_id(db: Database, settings: Settings, telegram: FakeTelegram) -> int:
    return add_channel(
        db,
        settings,
        "telegram",
        name="Telegram",
        secrets={"token": TOKEN},
        values={"api_url": telegram.url},
    )


@pytest.fixture
def hooked(db: Database, settings: Settings, telegram: FakeTelegram, channel_id: int) -> str:
    """The channel set to a webhook; the path Telegram posts to."""
    url = use_telegram_webhook(db, settings, channel_id, BASE)
    return url.removeprefix(BASE)


def _post(client: Client, path: str, update: dict[str, Any], secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[HEADER] = secret
    return client.post(path, content=json.dumps(update).encode(), headers=headers).status_code


def _secret(telegram: FakeTelegram) -> str:
    assert telegram.webhook is not None
    return str(telegram.webhook["secret_token"])


def _items(db: Database) -> list[InboundItem]:
    with db.reading() as session:
        return list(session.exec(select(InboundItem).order_by(col(InboundItem.id))).all())


def test_set_webhook_gives_telegram_the_desk_url_a_new_secret_and_asks_for_messages_only(
    db: Database, settings: Settings, telegram: FakeTelegram, channel_id: int
) -> None:
    url = use_telegram_webhook(db, settings, channel_id, BASE + "/")

    assert re.fullmatch(rf"{BASE}/webhooks/telegram/[A-Za-z0-9_-]{{20,}}", url)
    assert telegram.webhook is not None
    assert set(telegram.webhook) == {"url", "secret_token", "allowed_updates"}
    assert telegram.webhook["url"] == url
    assert telegram.webhook["allowed_updates"] == ["message"]
    secret = _secret(telegram)
    assert re.fullmatch(r"[A-Za-z0-9_-]{32,256}", secret)
    found = channel(db, channel_id)
    assert found.config["webhook_url"] == url
    assert secret not in json.dumps(found.config) and secret not in found.secrets_encrypted
    assert SecretBox(settings.secret_key).open(found.secrets_encrypted)["webhook_secret"] == secret
    with db.reading() as session:
        [audit] = session.exec(
            select(AuditEvent).where(AuditEvent.action == "channel.webhook_set")
        ).all()
    assert secret not in json.dumps(audit.detail)

    use_telegram_webhook(db, settings, channel_id, BASE)
    assert _secret(telegram) != secret  # set again: a new secret, the old one refused


def test_a_posted_update_becomes_a_message_on_the_chat_ticket(
    client: Client,
    db: Database,
    telegram: FakeTelegram,
    rt: Runtime,
    channel_id: int,
    hooked: str,
) -> None:
    telegram.customer_writes(chat_id=4242, text="My transfer has not arrived", first_name="Ana")
    telegram.customer_writes(chat_id=4242, text="It was 50 EUR, card 4111 1111 1111 1111")
    for update in telegram.take_updates():
        assert _post(client, hooked, update, _secret(telegram)) == 200
    assert [i.state for i in _items(db)] == ["pending", "pending"]

    file_pending(rt)

    [ticket] = tickets_of_channel(db, channel_id)
    assert ticket.subject == "My transfer has not arrived"
    texts = [m.body_text for m in messages_of(db, ticket.reference)]
    assert texts[:2] == ["My transfer has not arrived", "It was 50 EUR, card •••• •••• •••• 1111"]
    assert all(b"4111 1111 1111 1111" not in i.raw for i in _items(db))
    assert telegram.sent("getUpdates") == []


def test_a_missing_or_wrong_secret_is_refused_and_nothing_is_stored(
    client: Client,
    db: Database,
    settings: Settings,
    telegram: FakeTelegram,
    channel_id: int,
    hooked: str,
) -> None:
    other = add_channel(
        db,
        settings,
        "telegram",
        name="Other bot",
        secrets={"token": TOKEN},
        values={"api_url": telegram.url},
    )
    other_path = use_telegram_webhook(db, settings, other, BASE).removeprefix(BASE)
    other_secret = _secret(telegram)
    telegram.customer_writes(chat_id=7, text="Hello")
    [update] = telegram.take_updates()

    assert _post(client, hooked, update, None) == 403
    assert _post(client, hooked, update, "") == 403
    assert _post(client, hooked, update, "guessed-secret") == 403
    assert _post(client, hooked, update, other_secret[:-1]) == 403
    assert _post(client, hooked, update, other_secret) == 403  # another channel's secret
    assert _post(client, "/webhooks/telegram/no-such-key", update, other_secret) == 403
    assert _items(db) == []

    assert _post(client, other_path, update, other_secret) == 200
    assert [i.channel_id for i in _items(db)] == [other]


def test_a_redelivered_update_is_stored_once_and_filed_once(
    client: Client, db: Database, telegram: FakeTelegram, rt: Runtime, channel_id: int, hooked: str
) -> None:
    telegram.customer_writes(chat_id=9, text="Where is my refund?")
    [update] = telegram.take_updates()
    secret = _secret(telegram)

    results = [_post(client, hooked, update, secret) for _ in range(3)]
    file_pending(rt)
    assert _post(client, hooked, update, secret) == 200  # after filing too

    assert results == [200, 200, 200]
    [item] = _items(db)
    assert item.remote_key == f"9:{update['message']['message_id']}"
    with db.reading() as session:
        assert len(session.exec(select(Message)).all()) == 1


def test_an_update_that_is_not_a_message_is_answered_and_not_stored(
    client: Client, db: Database, telegram: FakeTelegram, hooked: str
) -> None:
    edit = {"update_id": 77, "edited_message": {"message_id": 1, "chat": {"id": 3}, "date": 0}}
    assert _post(client, hooked, edit, _secret(telegram)) == 200
    headers = {HEADER: _secret(telegram), "Content-Type": "application/json"}
    assert client.post(hooked, content=b"not json", headers=headers).status_code == 400
    assert _items(db) == []


def test_files_of_a_posted_update_are_fetched_after_filing(
    client: Client,
    db: Database,
    settings: Settings,
    telegram: FakeTelegram,
    rt: Runtime,
    channel_id: int,
    hooked: str,
) -> None:
    telegram.customer_writes(chat_id=5, text="the receipt", photo=b"\xff\xd8jpeg-bytes")
    telegram.customer_writes(chat_id=5, document=("statement.pdf", b"%PDF-1.7 statement"))
    for update in telegram.take_updates():
        assert _post(client, hooked, update, _secret(telegram)) == 200
    assert telegram.sent("getFile") == []  # the webhook answered without downloading

    file_pending(rt)
    with db.reading() as session:
        message_ids = session.exec(select(Message.id).order_by(col(Message.id))).all()
    for message_id in message_ids:
        complete_social_message(message_id or 0)

    with db.reading() as session:
        attachments = session.exec(select(Attachment).order_by(col(Attachment.id))).all()
    assert [(a.filename, a.content_type, a.size) for a in attachments] == [
        ("photo.jpg", "image/jpeg", 12),
        ("statement.pdf", "application/pdf", 18),
    ]


def test_the_poller_skips_a_channel_set_to_a_webhook(
    db: Database, telegram: FakeTelegram, rt: Runtime, channel_id: int, hooked: str
) -> None:
    telegram.customer_writes(chat_id=11, text="Hi")

    assert poll_channels(rt) == []
    started: list[int] = []

    def watcher(rt: Runtime, channel_id: int, stop: threading.Event) -> PullWatcher:
        started.append(channel_id)
        return PullWatcher(rt, channel_id, stop)

    supervisor = PullSupervisor(rt, interval=0.05, watcher=watcher)
    supervisor.start()
    try:
        wait_for(lambda: supervisor.is_alive(), timeout=5, what="the supervisor")
        threading.Event().wait(0.3)
    finally:
        supervisor.stop()
        supervisor.join(timeout=5)
    assert started == []
    assert telegram.sent("getUpdates") == []
    assert _items(db) == []


def test_a_watcher_polling_ends_when_the_webhook_is_set_and_polling_resumes_after_delete(
    db: Database, settings: Settings, telegram: FakeTelegram, rt: Runtime, channel_id: int
) -> None:
    stop = threading.Event()
    watcher = PullWatcher(rt, channel_id, stop)
    watcher.start()
    try:
        telegram.customer_writes(chat_id=23, text="Are you there?")
        wait_for(lambda: len(_items(db)) == 1, timeout=20, what="the update polled")

        use_telegram_webhook(db, settings, channel_id, BASE)

        wait_for(lambda: not watcher.is_alive(), timeout=20, what="the watcher to end")
        assert channel(db, channel_id).health == "ok"
    finally:
        stop.set()
        watcher.wake()
        watcher.join(timeout=15)

    telegram.customer_writes(chat_id=23, text="Hello again")
    use_telegram_polling(db, settings, channel_id)
    assert telegram.webhook is None and telegram.sent("deleteWebhook") == [
        {"drop_pending_updates": False}
    ]
    assert "webhook_url" not in channel(db, channel_id).config
    poll_channels(rt)
    assert len(_items(db)) == 2  # what waited at Telegram meanwhile


def test_a_refused_set_webhook_leaves_the_channel_polled(
    db: Database, settings: Settings, telegram: FakeTelegram, rt: Runtime, channel_id: int
) -> None:
    telegram.fail_next(400, description="Bad Request: bad webhook: Failed to resolve host")

    with pytest.raises(ConnectorError, match="bad webhook"):
        use_telegram_webhook(db, settings, channel_id, BASE)

    found = channel(db, channel_id)
    assert "webhook_url" not in found.config
    assert "webhook_secret" not in SecretBox(settings.secret_key).open(found.secrets_encrypted)
    telegram.customer_writes(chat_id=31, text="Still there?")
    poll_channels(rt)
    assert len(_items(db)) == 1
