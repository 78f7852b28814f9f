"""Tickets, their statuses, tags and links between tickets."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Computed, Index, Integer, UniqueConstraint, text
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
# Sorting by priority puts urgent first; the database computes the rank (migration 0004).
PRIORITY_RANK_SQL = (
    "CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 "
    "WHEN 'low' THEN 3 ELSE 4 END"
)


class TicketStatus(SQLModel, table=True):
    """A status name an administrator may add, mapped to one fixed category."""

    __tablename__ = "ticket_status"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    category: str = Field(max_length=32)
    position: int = 0


UNRESOLVED_SQL = "status_category NOT IN ('resolved', 'closed')"
# Tickets whose SLA clocks run (``inbox.rules.sla_countdown.RUNNING_CATEGORIES``) and that no
# snooze hides: the ones "Breaching soon" may hold.
BREACHING_SQL = "status_category IN ('new', 'open') AND pending_snoozes = 0"
BREACHING_INDEXES = {
    "ix_ticket_breaching": ("sla_due_at",),
    "ix_ticket_breaching_team": ("team_id", "sla_due_at"),
    "ix_ticket_breaching_assignee": ("assignee_id", "sla_due_at", "team_id"),
}


def _unresolved_index(name: str, *columns: str) -> Index:
    condition = text(UNRESOLVED_SQL)
    return Index(name, *columns, sqlite_where=condition, postgresql_where=condition)


class Ticket(SQLModel, table=True):
    __table_args__ = (
        Index("ix_ticket_category_updated", "status_category", "updated_at"),
        Index("ix_ticket_assignee_updated", "assignee_id", "updated_at"),
        # The inbox's lists of unresolved work, one per sort, and its live counts; the
        # condition is written out literally in the queries so that both planners use them.
        _unresolved_index("ix_ticket_open_updated", "updated_at", "id"),
        _unresolved_index("ix_ticket_open_created", "created_at", "id"),
        _unresolved_index("ix_ticket_open_priority", "priority_rank", "created_at", "id"),
        _unresolved_index(
            "ix_ticket_open_counts",
            "team_id",
            "assignee_id",
            "status_category",
            "channel_id",
            "sla_due_at",
        ),
        # "Breaching soon" counted as ranges of due times (``inbox.queries.counts``) of the
        # running, unsnoozed tickets: all of them, a team's, an assignee's.
        *(
            Index(
                name,
                *columns,
                sqlite_where=text(BREACHING_SQL),
                postgresql_where=text(BREACHING_SQL),
            )
            for name, columns in BREACHING_INDEXES.items()
        ),
        Index("ix_ticket_created", "created_at", "id"),
        Index("ix_ticket_priority", "priority_rank", "created_at", "id"),
        Index("ix_ticket_sla_due_at", "sla_due_at", "id"),
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
    # The earliest due time of an SLA target not yet met; filled by the SLA clocks.
    sla_due_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    priority_rank: int | None = Field(
        default=None, sa_column=Column(Integer, Computed(PRIORITY_RANK_SQL))
    )


# Pending snoozes hiding the ticket from the queues, kept by triggers on ticket_snooze
# (``inbox.models.counts``): a column of the table that the application never maps, so it
# never reads a stale value nor writes one.
Ticket.__table__.append_column(  # type: ignore[attr-defined]
    Column("pending_snoozes", Integer, nullable=False, server_default="0")
)


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
