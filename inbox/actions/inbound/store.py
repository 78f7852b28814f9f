"""Stage one of every channel's inbound pipeline, at the edge right after reading: what
arrived is stored raw with its channel and the platform's own id (and, for a pulled channel,
the cursor after it), nothing else; ``inbox.actions.inbound.filing`` files it later. Items
whose filing job was lost are found again here too."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from inbox.actions.channels import set_channel_cursor
from inbox.actions.rows import table_of
from inbox.events import InboundStored, record
from inbox.models import InboundItem, utcnow

PROCESS_LEASE = timedelta(seconds=60)


class RawItem(Protocol):
    """One item as a connector read it (``connectors.RawInbound``): ``remote_key`` is the
    platform's own id, unique per channel."""

    @property
    def remote_key(self) -> str: ...
    @property
    def raw(self) -> bytes: ...
    @property
    def size(self) -> int: ...
    @property
    def truncated(self) -> bool: ...


def store_inbound(
    session: Session,
    channel_id: int,
    items: Sequence[RawItem],
    *,
    cursor: Mapping[str, Any] | None = None,
    pushed: bool = False,
) -> list[int]:
    """Insert what is new and move the cursor, if one is given. A second delivery of the same
    item (same channel and platform id) is a no-op, settled by the unique key, not by a
    read first that could race. ``pushed``: posted to a webhook (its filing is asked for
    apart from batches read by pulling)."""
    new_ids: list[int] = []
    if items:
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        now = utcnow()
        rows = [
            {
                "channel_id": channel_id,
                "remote_key": item.remote_key,
                "raw": item.raw,
                "size": item.size,
                "truncated": item.truncated,
                "received_at": now,
                "state": "pending",
                "reason": "",
                "attempts": 0,
                "lease_until": now + PROCESS_LEASE,
            }
            for item in items
        ]
        # One statement shape whatever the batch size, so it is compiled once; an item stored
        # before (same channel and remote key) returns no id.
        table = table_of(InboundItem)
        stmt = insert(table).on_conflict_do_nothing().returning(table.c.id)
        new_ids = [row[0] for row in session.execute(stmt, rows)]
        for item_id in new_ids:
            record(session, InboundStored(item_id, pushed=pushed))
    if cursor is not None:
        set_channel_cursor(session, channel_id, dict(cursor))
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
