"""The quarantine: inbound items that did not become a message, with the reason why.

Two kinds of item are listed: those that could not be processed (``quarantined``: not a mail
at all, or filing failed again and again) and those set aside on purpose (``ignored``: a
loop, our own mail coming back, a bounce that names no mail we sent). Each shows who sent it
and its subject, read from the first bytes of the stored mail, so an agent can decide
whether to file it as a ticket after all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlmodel import Session, col

from inbox.mail.parse import UnparseableMail, parse_mail
from inbox.models import Channel, InboundItem
from inbox.models.channels import SET_ASIDE_STATES

# Enough of a mail to read its From and Subject, without loading megabytes per row.
_HEAD_BYTES = 16384


@dataclass(frozen=True)
class SetAsideItem:
    id: int
    channel: str
    received_at: datetime
    state: str
    reason: str
    size: int
    sender: str
    subject: str


def list_set_aside(session: Session, *, limit: int = 100) -> list[SetAsideItem]:
    """Newest first."""
    rows = session.execute(
        select(
            col(InboundItem.id),
            col(Channel.name),
            col(InboundItem.received_at),
            col(InboundItem.state),
            col(InboundItem.reason),
            col(InboundItem.size),
            func.substr(col(InboundItem.raw), 1, _HEAD_BYTES),
        )
        .join(Channel, col(Channel.id) == InboundItem.channel_id)
        .where(col(InboundItem.state).in_(SET_ASIDE_STATES))
        .order_by(col(InboundItem.id).desc())
        .limit(max(1, min(limit, 500)))
    ).all()
    return [
        SetAsideItem(item_id or 0, channel, received_at, state, reason, size, *_sender(head))
        for item_id, channel, received_at, state, reason, size, head in rows
    ]


def _sender(head: bytes | None) -> tuple[str, str]:
    """(sender, subject) from the start of a stored mail; blank when it is no mail."""
    if not head:
        return "", ""
    try:
        parsed = parse_mail(bytes(head), headers_only=True)
    except UnparseableMail:
        return "", ""
    sender = parsed.from_address or parsed.from_name
    if parsed.from_name and parsed.from_address:
        sender = f"{parsed.from_name} <{parsed.from_address}>"
    return sender[:400], parsed.subject
