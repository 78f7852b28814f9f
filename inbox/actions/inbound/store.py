"""Stage one of email ingestion, at the edge right after fetching: the raw bytes and the
mailbox cursor are stored, nothing else (``inbox.actions.inbound.filing`` files them later), and
items whose filing job was lost are found again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from inbox.actions.channels import set_channel_cursor
from inbox.actions.rows import table_of
from inbox.events import InboundStored, record
from inbox.models import InboundItem, utcnow

PROCESS_LEASE = timedelta(seconds=60)


@dataclass(frozen=True)
class RawMail:
    remote_key: str
    raw: bytes
    size: int
    truncated: bool


def store_raw_mail(
    session: Session, channel_id: int, mails: list[RawMail], *, cursor: dict[str, int]
) -> list[int]:
    """Insert what is new (a second read of the same mail is a no-op) and move the cursor."""
    new_ids: list[int] = []
    if mails:
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        now = utcnow()
        rows = [
            {
                "channel_id": channel_id,
                "remote_key": m.remote_key,
                "raw": m.raw,
                "size": m.size,
                "truncated": m.truncated,
                "received_at": now,
                "state": "pending",
                "reason": "",
                "attempts": 0,
                "lease_until": now + PROCESS_LEASE,
            }
            for m in mails
        ]
        # One statement shape whatever the batch size, so it is compiled once; a mail read
        # before (same channel and remote key) returns no id.
        table = table_of(InboundItem)
        stmt = insert(table).on_conflict_do_nothing().returning(table.c.id)
        new_ids = [row[0] for row in session.execute(stmt, rows)]
        for item_id in new_ids:
            record(session, InboundStored(item_id))
    set_channel_cursor(session, channel_id, cursor)
    return new_ids


def sweep_pending_inbound(session: Session, *, limit: int = 1000) -> list[int]:
    """Pending items whose enqueue lease ran out (a lost job, a killed worker)."""
    now = utcnow()
    ids = [
        i
        for i in session.exec(
            select(InboundItem.id)
            .where(
                InboundItem.state == "pending",
                (col(InboundItem.lease_until).is_(None)) | (col(InboundItem.lease_until) < now),
            )
            .order_by(col(InboundItem.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        if i is not None
    ]
    if ids:
        session.execute(
            update(InboundItem)
            .where(col(InboundItem.id).in_(ids))
            .values(lease_until=now + PROCESS_LEASE)
        )
    return ids
