"""The agent workspace: macros and canned responses, notifications, ticket merges."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text
from sqlmodel import Field, SQLModel

from inbox.models.types import UTCDateTime, utcnow


class Macro(SQLModel, table=True):
    """Text to insert into a reply, and optionally changes to make to the ticket.

    Without changes it is a canned response. The text may hold placeholders such as
    ``{{customer.name}}``; they are filled by plain substitution, never by a template engine.
    """

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    body: str = Field(default="", sa_column=Column(Text, nullable=False))
    set_status: str | None = Field(default=None, max_length=64)
    set_priority: str | None = Field(default=None, max_length=16)
    add_tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_by_id: int | None = Field(default=None, foreign_key="agent.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def changes_ticket(self) -> bool:
        return bool(self.set_status or self.set_priority or self.add_tags)


class TicketRead(SQLModel, table=True):
    """How far an agent has read a ticket: the newest message from the customer that the
    ticket showed them. A newer inbound message marks the ticket unread in their list."""

    __tablename__ = "ticket_read"

    agent_id: int = Field(foreign_key="agent.id", primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", primary_key=True)
    message_id: int = 0
    read_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Notification(SQLModel, table=True):
    """Something an agent should look at, such as a mention in an internal note."""

    __table_args__ = (Index("ix_notification_agent_read", "agent_id", "read_at"),)

    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = Field(foreign_key="agent.id")
    kind: str = Field(max_length=32)  # mention
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    message_id: int | None = Field(default=None, foreign_key="message.id")
    actor_label: str = Field(default="", max_length=200)
    text: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    read_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class TicketMerge(SQLModel, table=True):
    """One merge of a source ticket into a target, with what undoing it needs to restore."""

    __tablename__ = "ticket_merge"

    id: int | None = Field(default=None, primary_key=True)
    source_ticket_id: int = Field(foreign_key="ticket.id", index=True)
    target_ticket_id: int = Field(foreign_key="ticket.id", index=True)
    moved_message_ids: list[int] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    # The system events the merge wrote on either ticket; undoing removes them again.
    event_message_ids: list[int] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    # The source's state before it was closed.
    source_state: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    merged_by_id: int | None = Field(default=None, foreign_key="agent.id")
    merged_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    undone_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
