"""Channels: adding them, and keeping their cursor and health."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from inbox.actions.audit import record_audit
from inbox.errors import Conflict, InvalidInput
from inbox.models import Channel, utcnow
from inbox.models.kinds import ChannelKind
from inbox.signing import SecretBox


def add_email_channel(
    session: Session,
    box: SecretBox,
    *,
    name: str,
    address: str,
    imap_url: str,
    smtp_url: str,
    imap_redacted: str,
    smtp_redacted: str,
    folder: str = "INBOX",
    poll_seconds: int = 60,
    actor_label: str = "cli",
) -> Channel:
    """The URLs arrive validated by the caller's connector; their passwords are sealed here."""
    name = name.strip()
    address = address.strip().lower()
    if not name or "@" not in address:
        raise InvalidInput("a channel needs a name and an email address")
    if not 5 <= poll_seconds <= 3600:
        raise InvalidInput("poll interval must be between 5 and 3600 seconds")
    if session.exec(select(Channel).where(Channel.name == name)).first():
        raise Conflict("a channel with that name exists")
    channel = Channel(
        kind=ChannelKind.EMAIL,
        name=name,
        address=address,
        config={"imap": imap_redacted, "smtp": smtp_redacted, "folder": folder},
        secrets_encrypted=box.seal({"imap_url": imap_url, "smtp_url": smtp_url}),
        poll_seconds=poll_seconds,
    )
    session.add(channel)
    session.flush()
    record_audit(
        session,
        "channel.add",
        actor_label=actor_label,
        target_type="channel",
        target_id=channel.id or 0,
        detail={"kind": ChannelKind.EMAIL.value, "name": name},
    )
    return channel


def record_channel_health(
    session: Session, channel_id: int, health: str, detail: str = "", *, polled: bool = False
) -> None:
    channel = session.get(Channel, channel_id)
    if channel is None:
        return
    channel.health = health
    channel.health_detail = detail[:1000]
    if polled:
        channel.last_polled_at = utcnow()
    session.add(channel)


def set_channel_cursor(session: Session, channel_id: int, cursor: dict[str, Any]) -> None:
    channel = session.get(Channel, channel_id)
    if channel is not None:
        channel.cursor = dict(cursor)
        session.add(channel)


def claim_channel_lease(session: Session, channel_id: int, owner: str, seconds: float) -> bool:
    """One watcher per mailbox across all schedulers: the lease holder renews, others wait."""
    now = utcnow()
    result = session.execute(
        update(Channel)
        .where(
            col(Channel.id) == channel_id,
            col(Channel.enabled).is_(True),
            or_(
                col(Channel.lease_owner).is_(None),
                col(Channel.lease_owner) == owner,
                col(Channel.lease_until) < now,
            ),
        )
        .values(lease_owner=owner, lease_until=now + timedelta(seconds=seconds))
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def release_channel_lease(session: Session, channel_id: int, owner: str) -> None:
    session.execute(
        update(Channel)
        .where(col(Channel.id) == channel_id, col(Channel.lease_owner) == owner)
        .values(lease_owner=None, lease_until=None)
    )
