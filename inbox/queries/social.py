"""Reads for the social channels: the channels a webhook may be for."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from inbox.models import Channel


def enabled_channels_of(session: Session, kinds: Sequence[str]) -> list[Channel]:
    return list(
        session.exec(
            select(Channel)
            .where(col(Channel.kind).in_(kinds), col(Channel.enabled).is_(True))
            .order_by(col(Channel.id))
        ).all()
    )
