"""Tickets, their statuses, tags and links between tickets."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from inbox.models.types import UTCDateTime, utcnow

STATUS_CATEGORIES = (
    "new",
    "open",
    "waiting_on_customer",
    "waiting_on_third_party",
    "resolved",
    "closed",
)
PRIORITIES = ("low", "normal", "high", "urgent")


class TicketStatus(SQLModel, table=True):
    """A status name an administrator may add, mapped to one fixed category."""

    __tablename__ = "ticket_status"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    category: str = Field(max_length=32)
    position: int = 0


class Ticket(SQLModel, table=True):
    __table_args__ = (
        Index("ix_ticket_category_updated", "status_category", "updated_at"),
        Index("ix_ticket_assignee_updated", "assignee_id", "updated_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=32, unique=True)
    subject: str = Field(default="", max_length=998)
    status: str = Field(default="new", max_length=64)
    status_category: str = Field(default="new", max_length=32)
    priority: str = Field(default="normal", max_length=16)
    channel_id: int | None = Field(default=None, foreign_key="channel.id", index=True)
    channel_kind: str = Field(default="email", max_length=32)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    # The contact replies go to, on the ticket's channel.
    contact_identity_id: int | None = Field(default=None, foreign_key="customer_identity.id")
    assignee_id: int | None = Field(default=None, foreign_key="agent.id")
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    first_response_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    last_customer_message_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    resolved_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class TicketTag(SQLModel, table=True):
    __tablename__ = "ticket_tag"

    ticket_id: int = Field(foreign_key="ticket.id", primary_key=True)
    tag: str = Field(max_length=64, primary_key=True, index=True)


class TicketLink(SQLModel, table=True):
    """A relation between tickets, e.g. a possible follow-up waiting for an agent to confirm."""

    __tablename__ = "ticket_link"
    __table_args__ = (UniqueConstraint("ticket_id", "other_ticket_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    other_ticket_id: int = Field(foreign_key="ticket.id", index=True)
    kind: str = Field(max_length=32)  # possible_followup, followup, merged
    reason: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    confirmed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
