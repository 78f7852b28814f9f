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
