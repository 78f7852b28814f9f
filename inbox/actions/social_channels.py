"""Adding social channels: Telegram, Messenger, Instagram, WhatsApp and X.

What a connector needs (tokens, app secrets, verify tokens, and the ids and base URLs beside
them) is sealed in ``secrets_encrypted``; ``config`` keeps only what may be shown: the
platform's account id (``account_id``, which routes the Meta webhook's entries), the base URL
and a WhatsApp channel's template. Secrets are never printed, logged or put in ``config``.

A Telegram channel read through a webhook keeps the URL Telegram posts to in ``config``
(``webhook_url``, with its random ``webhook_key``; a channel with a ``webhook_url`` is pushed
to, never polled) and the secret Telegram sends with each post sealed (``webhook_secret``).
"""

from __future__ import annotations

import secrets as random_secrets
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, select

from inbox.actions.audit import record_audit
from inbox.errors import Conflict, InvalidInput, NotFound
from inbox.models import Agent, Channel
from inbox.models.kinds import ChannelKind
from inbox.signing import SecretBox

SOCIAL_KINDS = (
    ChannelKind.TELEGRAM,
    ChannelKind.MESSENGER,
    ChannelKind.INSTAGRAM,
    ChannelKind.WHATSAPP,
    ChannelKind.X,
)
META_KINDS = (ChannelKind.MESSENGER, ChannelKind.INSTAGRAM, ChannelKind.WHATSAPP)


def add_social_channel(
    session: Session,
    box: SecretBox,
    *,
    kind: str,
    name: str,
    account_id: str = "",
    secrets: dict[str, str],
    settings: dict[str, Any] | None = None,
    poll_seconds: int = 60,
    actor_label: str = "cli",
    actor: Agent | None = None,
) -> Channel:
    """``secrets`` holds the connector's secret values; ``settings`` its other values (base
    URLs, ids, a template), kept both sealed for the connector and plain for display."""
    name = name.strip()
    if kind not in SOCIAL_KINDS:
        raise InvalidInput(f"not a social channel kind: {kind}")
    if not name:
        raise InvalidInput("a channel needs a name")
    if not 5 <= poll_seconds <= 3600:
        raise InvalidInput("poll interval must be between 5 and 3600 seconds")
    missing = [key for key, value in secrets.items() if not value.strip()]
    if missing:
        raise InvalidInput(f"missing {', '.join(missing)}")
    if session.exec(select(Channel).where(Channel.name == name)).first():
        raise Conflict("a channel with that name exists")
    shown = {k: v for k, v in (settings or {}).items() if v not in (None, "")}
    if account_id:
        for other in session.exec(select(Channel).where(Channel.kind == kind)).all():
            if other.config.get("account_id") == account_id:
                raise Conflict(f"channel {other.name} already serves {kind} account {account_id}")
        shown["account_id"] = account_id
    channel = Channel(
        kind=kind,
        name=name,
        config=shown,
        secrets_encrypted=box.seal({**shown, **secrets}),
        poll_seconds=poll_seconds,
    )
    session.add(channel)
    session.flush()
    record_audit(
        session,
        "channel.add",
        actor=actor,
        actor_label="" if actor else actor_label,
        target_type="channel",
        target_id=channel.id or 0,
        detail={"kind": kind, "name": name},
    )
    return channel


def replace_social_secrets(
    session: Session, box: SecretBox, *, channel_id: int, secrets: dict[str, str], actor: Agent
) -> Channel:
    """New values for some of a social channel's secrets (a token replaced after it was
    revoked); the others stay. The channel's health starts again from unknown. Audited, never
    with the values."""
    channel = session.get(Channel, channel_id, with_for_update=True)
    if channel is None or channel.kind not in SOCIAL_KINDS:
        raise NotFound("no such social channel")
    given = {k: v.strip() for k, v in secrets.items() if v.strip()}
    if not given:
        raise InvalidInput("give at least one new value")
    channel.secrets_encrypted = box.seal({**box.open(channel.secrets_encrypted), **given})
    channel.health, channel.health_detail = "unknown", ""
    session.add(channel)
    record_audit(
        session,
        "channel.secrets_replaced",
        actor=actor,
        target_type="channel",
        target_id=channel_id,
        detail={"name": channel.name, "replaced": sorted(given)},
    )
    return channel


@dataclass(frozen=True)
class TelegramWebhookPlan:
    """What ``setWebhook`` is to be given: the URL and the secret token."""

    url: str
    secret: str = field(repr=False)


def set_telegram_webhook(
    session: Session,
    box: SecretBox,
    *,
    channel_id: int,
    base_url: str,
    actor: Agent | None = None,
    actor_label: str = "cli",
) -> TelegramWebhookPlan:
    """A Telegram channel read through a webhook from now on: a new random path under
    ``base_url`` (``/webhooks/telegram/<key>``) and a new secret token, the secret sealed with
    the others. Committed before Telegram is told, so that the desk takes the first post;
    audited without the secret."""
    channel = _telegram_channel(session, channel_id)
    base = base_url.strip().rstrip("/")
    if not base.startswith(("https://", "http://")):
        raise InvalidInput("the webhook base URL must start with https://")
    key = random_secrets.token_urlsafe(18)
    secret = random_secrets.token_urlsafe(32)  # Telegram's alphabet: A-Z a-z 0-9 _ -
    url = f"{base}/webhooks/telegram/{key}"
    channel.config = {**channel.config, "webhook_url": url, "webhook_key": key}
    channel.secrets_encrypted = box.seal(
        {**box.open(channel.secrets_encrypted), "webhook_secret": secret}
    )
    session.add(channel)
    record_audit(
        session,
        "channel.webhook_set",
        actor=actor,
        actor_label="" if actor else actor_label,
        target_type="channel",
        target_id=channel_id,
        detail={"name": channel.name, "url": url},
    )
    return TelegramWebhookPlan(url, secret)


def remove_telegram_webhook(
    session: Session,
    box: SecretBox,
    *,
    channel_id: int,
    actor: Agent | None = None,
    actor_label: str = "cli",
) -> Channel:
    """The channel is read by long polling again: its webhook URL and secret are forgotten
    (a post still under way is refused). Audited."""
    channel = _telegram_channel(session, channel_id)
    channel.config = {
        k: v for k, v in channel.config.items() if k not in ("webhook_url", "webhook_key")
    }
    opened = box.open(channel.secrets_encrypted)
    opened.pop("webhook_secret", None)
    channel.secrets_encrypted = box.seal(opened)
    session.add(channel)
    record_audit(
        session,
        "channel.webhook_removed",
        actor=actor,
        actor_label="" if actor else actor_label,
        target_type="channel",
        target_id=channel_id,
        detail={"name": channel.name},
    )
    return channel


def _telegram_channel(session: Session, channel_id: int) -> Channel:
    """The Telegram channel, locked for the change (NotFound for any other)."""
    channel = session.get(Channel, channel_id, with_for_update=True)
    if channel is None or channel.kind != ChannelKind.TELEGRAM:
        raise NotFound("no such Telegram channel")
    return channel
