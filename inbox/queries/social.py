"""Reads for the social channels: the channels a webhook may be for, and what each channel
last brought in."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from inbox.models import Channel, InboundItem


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
