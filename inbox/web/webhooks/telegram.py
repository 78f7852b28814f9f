"""``POST /webhooks/telegram/{key}``: a Telegram bot's webhook, for a channel set to one
(``use_telegram_webhook``; docs/social.md).

The ``X-Telegram-Bot-Api-Secret-Token`` header is compared, in constant time, with the secret
the desk gave ``setWebhook`` for the channel whose random ``key`` the path names, before
anything reads the body: without it, or with another, the answer is 403 and nothing is stored.
Then the update's message is stored raw, keyed ``<chat id>:<message id>`` as a polled one is
(a redelivery stores nothing new), and the answer goes back as soon as that commit is done.
Filing happens afterwards, in the filing job the commit queues; so do the downloads of the
message's files.

Switching a channel between long polling and the webhook is an edge of its own
(``use_telegram_webhook``, ``use_telegram_polling``), shared by ``inbox channel`` and
``/admin/social``: the desk's side is committed first, then Telegram is told.
"""

from __future__ import annotations

from typing import Any

import anyio
from litestar import Controller, MediaType, Request, Response, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlmodel import Session

import connectors
from connectors.errors import ConnectorError, PermanentConnectorError
from connectors.telegram import TelegramConnector
from connectors.telegram.webhook import WEBHOOK_HEADER, TelegramWebhook, secret_holds
from inbox.actions.channels import record_channel_health
from inbox.actions.social_channels import remove_telegram_webhook, set_telegram_webhook
from inbox.db import Database
from inbox.errors import NotFound
from inbox.models import Agent, Channel
from inbox.models.kinds import ChannelKind
from inbox.settings import Settings
from inbox.signing import SecretBox
from inbox.web.auth import PUBLIC
from inbox.web.webhooks.channels import PushedChannel, PushedChannels
from inbox.web.webhooks.grouped import grouped_store

OPEN = {**PUBLIC, "exclude_from_csrf": True}
WEBHOOK = TelegramWebhook()
CHANNELS = PushedChannels((ChannelKind.TELEGRAM,))


class TelegramWebhookPages(Controller):
    path = "/webhooks"
    include_in_schema = False

    @post("/telegram/{key:str}", opt=OPEN, status_code=200, media_type=MediaType.TEXT)
    async def receive(
        self,
        request: Request[Any, Any, Any],
        key: FromPath[str],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> Response[str]:
        offered = request.headers.get(WEBHOOK_HEADER, "")
        if not offered:
            return Response("forbidden", status_code=403, media_type=MediaType.TEXT)
        body = await request.body()
        try:
            stored = await anyio.to_thread.run_sync(accept_update, db, settings, key, offered, body)
        except PermanentConnectorError:  # the right secret, and a body that is no update
            return Response("bad request", status_code=400, media_type=MediaType.TEXT)
        if stored is None:
            return Response("forbidden", status_code=403, media_type=MediaType.TEXT)
        return Response("ok", media_type=MediaType.TEXT)


def accept_update(
    db: Database, settings: Settings, key: str, offered: str, body: bytes
) -> int | None:
    """Stores the message a post carries for the channel whose key and secret it has; None
    when it has neither. Returns how many items were new (0 for a redelivery, or an update
    that is not a message)."""
    channel = _verified(CHANNELS.of(db, settings), key, offered)
    if channel is None:  # a channel set to a webhook since they were read
        channel = _verified(CHANNELS.of(db, settings, recheck=True), key, offered)
    if channel is None:
        return None
    items = WEBHOOK.split(body)
    if not items:
        return 0
    return grouped_store(db).store({channel.channel_id: items})


def _verified(channels: list[PushedChannel], key: str, offered: str) -> PushedChannel | None:
    for channel in channels:
        if channel.config.get("webhook_key") == key:
            secret = str(channel.secrets.get("webhook_secret", ""))
            return channel if secret_holds(secret, offered) else None
    return None


def _connector() -> TelegramConnector:
    connector = connectors.get(ChannelKind.TELEGRAM)
    assert isinstance(connector, TelegramConnector)
    return connector


def use_telegram_webhook(
    db: Database,
    settings: Settings,
    channel_id: int,
    base_url: str,
    *,
    actor: Agent | None = None,
) -> str:
    """Telegram posts the channel's updates to the desk from now on, and long polling stops;
    returns the URL it posts to. When Telegram refuses ``setWebhook``, the channel is read by
    long polling again and the refusal (a ``ConnectorError``) is raised."""
    box = SecretBox(settings.secret_key)
    with db.unit_of_work() as session:
        plan = set_telegram_webhook(
            session, box, channel_id=channel_id, base_url=base_url, actor=actor
        )
        config = _opened(session, box, channel_id)
    try:
        _connector().set_webhook(config, plan.url, plan.secret)
    except ConnectorError:
        with db.unit_of_work() as session:
            remove_telegram_webhook(session, box, channel_id=channel_id, actor=actor)
        raise
    with db.unit_of_work() as session:
        record_channel_health(session, channel_id, "ok", "updates come through the webhook")
    return plan.url


def use_telegram_polling(
    db: Database, settings: Settings, channel_id: int, *, actor: Agent | None = None
) -> None:
    """``deleteWebhook`` (the updates not yet posted stay with Telegram), then the channel is
    read by long polling again. A refusal (a ``ConnectorError``) changes nothing."""
    box = SecretBox(settings.secret_key)
    with db.reading() as session:
        config = _opened(session, box, channel_id)
    _connector().delete_webhook(config)
    with db.unit_of_work() as session:
        remove_telegram_webhook(session, box, channel_id=channel_id, actor=actor)


def _opened(session: Session, box: SecretBox, channel_id: int) -> dict[str, str]:
    channel = session.get(Channel, channel_id)
    if channel is None or channel.kind != ChannelKind.TELEGRAM:
        raise NotFound("no such Telegram channel")
    return {k: str(v) for k, v in box.open(channel.secrets_encrypted).items()}
