"""Reads for the social channels: the channels a webhook may be for, and what each channel
last brought in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from inbox.models import Channel, InboundItem, SocialConversation, Ticket, utcnow
from inbox.rules.social_window import ReplyWindow, reply_window

# The kinds Meta posts to its one webhook: their channels are always pushed to.
META_KINDS = ("messenger", "instagram", "whatsapp")


def enabled_channel_secrets(
    session: Session, kinds: Sequence[str]
) -> list[tuple[int, dict[str, Any], str]]:
    """(id, config, sealed secrets) of the enabled channels of these kinds: a few small rows,
    read again by the webhooks to see whether a channel was added, removed, paused, set to a
    webhook or given a new secret since they opened the secrets."""
    rows = session.exec(
        select(Channel.id, Channel.config, Channel.secrets_encrypted)
        .where(col(Channel.kind).in_(kinds), col(Channel.enabled).is_(True))
        .order_by(col(Channel.id))
    ).all()
    return [(channel_id or 0, dict(config), sealed) for channel_id, config, sealed in rows]


def is_pushed(config: Mapping[str, Any]) -> bool:
    """A channel the platform posts to (a Telegram bot set to a webhook) is never polled:
    Telegram refuses ``getUpdates`` while a webhook is set."""
    return bool(config.get("webhook_url"))


def pulled_channels(
    session: Session, kinds: Sequence[str], *, name: str | None = None
) -> list[Channel]:
    """The enabled channels of these pulled kinds that are read by pulling, oldest first."""
    query = select(Channel).where(col(Channel.kind).in_(kinds), col(Channel.enabled).is_(True))
    if name:
        query = query.where(Channel.name == name)
    channels = session.exec(query.order_by(col(Channel.id))).all()
    return [c for c in channels if not is_pushed(c.config)]


def last_events(session: Session) -> dict[int, datetime]:
    """When each channel last brought something in (its newest stored inbound item)."""
    rows = session.exec(
        select(InboundItem.channel_id, func.max(InboundItem.received_at)).group_by(
            col(InboundItem.channel_id)
        )
    ).all()
    return {channel_id: at for channel_id, at in rows if at is not None}


def conversation_of(session: Session, ticket: Ticket) -> SocialConversation | None:
    """The platform conversation the ticket answers (its latest)."""
    return session.exec(
        select(SocialConversation)
        .where(SocialConversation.ticket_id == ticket.id)
        .order_by(col(SocialConversation.last_inbound_at).desc())
    ).first()


def social_reply_window(
    session: Session, ticket: Ticket, channel: Channel | None
) -> ReplyWindow | None:
    """How a reply on this ticket would go out, for the composer to say before the agent
    writes; None for a ticket that is not a platform conversation."""
    conversation = conversation_of(session, ticket) if channel is not None else None
    if channel is None or conversation is None:
        return None
    return reply_window(
        channel.kind,
        conversation.last_inbound_at,
        utcnow(),
        template=str((channel.config.get("template") or {}).get("name", "")),
    )


def pushed_items_waiting(
    session: Session, kinds: Sequence[str], *, exclude: Sequence[int], limit: int
) -> list[int]:
    """Items that webhooks stored and no job tried yet, oldest first: those of the channels
    of these kinds that are posted to (every Meta channel; a Telegram bot only while it is
    set to a webhook: a polled one's items come with their own jobs). A webhook stores one
    event per request, so the job that runs first takes the others waiting along, and files
    them together instead of one each."""
    if limit <= 0:
        return []
    channels = [
        channel_id
        for channel_id, kind, config in session.exec(
            select(Channel.id, Channel.kind, Channel.config).where(col(Channel.kind).in_(kinds))
        ).all()
        if kind in META_KINDS or is_pushed(config)
    ]
    if not channels:
        return []
    return [
        item_id or 0
        for item_id in session.exec(
            select(InboundItem.id)
            .where(
                col(InboundItem.channel_id).in_(channels),
                InboundItem.state == "pending",
                InboundItem.attempts == 0,
                col(InboundItem.id).not_in(exclude),
            )
            .order_by(col(InboundItem.id))
            .limit(limit)
        ).all()
    ]


SOCIAL_KINDS = ("telegram", "messenger", "instagram", "whatsapp", "x")


def social_channel_rows(session: Session) -> list[tuple[Channel, datetime | None]]:
    """Every social channel, with when it last brought something in, for /admin/social."""
    events = last_events(session)
    channels = session.exec(
        select(Channel).where(col(Channel.kind).in_(SOCIAL_KINDS)).order_by(col(Channel.name))
    ).all()
    return [(c, events.get(c.id or 0)) for c in channels]
