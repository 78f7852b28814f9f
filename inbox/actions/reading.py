"""What an agent has read: opening a ticket marks its customer messages read for that agent,
so the inbox stops showing the ticket as unread to them (``TicketRead``)."""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from inbox.actions.rows import table_of
from inbox.models import Message, TicketRead, utcnow
from inbox.models.kinds import Direction


def mark_ticket_read(session: Session, *, agent_id: int, ticket_id: int) -> None:
    """Record the ticket's newest inbound message as read by the agent. One upsert, settled by
    the key, so two tabs opening the ticket at once do not collide; never moves backwards."""
    newest = session.exec(
        select(func.max(col(Message.id))).where(
            col(Message.ticket_id) == ticket_id, col(Message.direction) == Direction.INBOUND
        )
    ).one()
    if newest is None:
        return
    table = table_of(TicketRead)
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(table).values(
        agent_id=agent_id, ticket_id=ticket_id, message_id=newest, read_at=utcnow()
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.agent_id, table.c.ticket_id],
        set_={"message_id": newest, "read_at": utcnow()},
        where=table.c.message_id < newest,
    )
    session.execute(stmt)
