"""Reads for the social channels: the channels a webhook may be for, and what each channel
last brought in."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from inbox.models import Channel, InboundItem, SocialConversation, Ticket, utcnow
from inbox.rules.social_window import ReplyWindow, reply_window


def enabled_channels_of(session: Session, kinds: Sequence[str]) -> list[Channel]:
    return list(
        session.exec(
            select(Channel)
            .where(col(Channel.kind).in_(kinds), col(Channel.enabled).is_(True))
            .order_by(col(Channel.id))
        ).all()
    )


def meta_channels_fingerprint(session: Session, kinds: Sequence[str]) -> tuple[object, ...]:
    """Changes whenever an enabled channel of these kinds is added, removed, enabled or
    disabled: what a cache of those channels is keyed by."""
    row = session.exec(
        select(func.count(), func.max(Channel.id), func.max(Channel.created_at)).where(
            col(Channel.kind).in_(kinds), col(Channel.enabled).is_(True)
        )
    ).one()
    return tuple(row)


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
    """Items of pushed channels stored and not yet tried, oldest first: a webhook stores one
    event per request and queues a filing job for it, so the job that runs first takes the
    others waiting along, and files them in one transaction instead of one each (the jobs
    that come after find their items filed, and do nothing)."""
    if limit <= 0:
        return []
    return [
        item_id or 0
        for item_id in session.exec(
            select(InboundItem.id)
            .join(Channel, col(Channel.id) == InboundItem.channel_id)
            .where(
                col(Channel.kind).in_(kinds),
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
