"""What every channel's filing shares: an item's outcome, how an item is finished, and the
savepoint that rolls one item back alone."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlmodel import Session

from inbox.models import InboundItem, utcnow


@dataclass(frozen=True)
class IngestOutcome:
    state: str
    ticket_reference: str | None = None
    new_ticket: bool = False
    acknowledged: bool = False


@contextmanager
def savepoint(session: Session) -> Iterator[None]:
    """A nested transaction whose domain events vanish with it when it rolls back."""
    events = session.info.setdefault("events", [])
    mark = len(events)
    try:
        with session.begin_nested():
            yield
    except BaseException:
        del events[mark:]
        raise


def finish_item(session: Session, item: InboundItem, state: str, reason: str) -> IngestOutcome:
    item.state = state
    item.reason = _storable(reason)[:1000]
    item.processed_at = utcnow()
    item.lease_until = None
    session.add(item)
    return IngestOutcome(state=state)


def _storable(text: str) -> str:
    """A reason may quote what the item carried (an exception naming a header value): no
    undecoded bytes, which SQLite refuses, and no NUL, which PostgreSQL refuses."""
    return text.encode("utf-8", "replace").decode().replace("\x00", "")
