"""System events: the lines of history the desk itself writes on a ticket's timeline."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from inbox.models import Agent, Message, Ticket
from inbox.models.kinds import Direction, MessageKind


def record_system_event(
    session: Session,
    ticket: Ticket,
    actor: Agent | None,
    text: str,
    *,
    author_label: str | None = None,
    display_text: str | None = None,
    **fields: Any,
) -> Message:
    """One line of history on the timeline, e.g. "merged into HD-…", by ``actor`` or the
    desk; flushed, so the message has its id."""
    message = Message(
        ticket_id=ticket.id or 0,
        kind=MessageKind.SYSTEM,
        direction=Direction.INTERNAL,
        author_agent_id=actor.id if actor else None,
        author_label=author_label or (actor.name if actor else "system"),
        body_text=text,
        display_text=text if display_text is None else display_text,
        **fields,
    )
    session.add(message)
    session.flush()
    return message
