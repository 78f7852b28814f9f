"""SLA policies, business calendars, the clocks of each ticket and their transitions.

Also the history of status categories, which the clocks are replayed from: written by
``record_status_change`` in ``inbox.actions.tickets`` wherever a status changes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from inbox.models.types import UTCDateTime, utcnow

SLA_TARGETS = ("first_response", "next_response", "resolution")
CLOCK_STATES = ("running", "paused", "met", "breached")
DEFAULT_WARN_PERCENTS = [75, 90]


class BusinessCalendar(SQLModel, table=True):
    """Opening hours per weekday in a time zone, public holidays of a country, own dates."""

    __tablename__ = "business_calendar"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    timezone: str = Field(default="UTC", max_length=64)
    always_open: bool = False
    # {"mon": [["09:00", "17:00"]], ...}; weekdays left out are closed.
    weekly_hours: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    holiday_country: str | None = Field(default=None, max_length=8)
    holiday_subdivision: str | None = Field(default=None, max_length=16)
    # ISO dates on which the desk is closed besides the public holidays.
    closed_dates: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SlaPolicy(SQLModel, table=True):
    """Targets for the tickets it matches; policies are tried by position, first match wins.

    Each condition is a list of accepted values; an empty list accepts anything.
    """

    __tablename__ = "sla_policy"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    position: int = 0
    enabled: bool = True
    priorities: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    channel_kinds: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    customer_tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    team_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    calendar_id: int | None = Field(default=None, foreign_key="business_calendar.id")
    # Business minutes; None means no target of that kind.
    first_response_minutes: int | None = None
    next_response_minutes: int | None = None
    resolution_minutes: int | None = None
    warn_percents: list[int] = Field(
        default_factory=lambda: list(DEFAULT_WARN_PERCENTS),
        sa_column=Column(JSON, nullable=False),
    )
    # Targets of one priority that differ from the ones above, in business minutes:
    # {"urgent": {"first_response": 60, "resolution": 480}, ...}.
    priority_targets: dict[str, dict[str, int]] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    # The chat channel kind's target: minutes (of the clock on the wall, not business
    # minutes) from a live chat entering the queue to an agent's first chat message. The chat
    # report measures the chats of the policy's tickets against it; their clocks keep the
    # targets above, so a chat left as a message out of hours is answered like mail.
    chat_target_minutes: int | None = None
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # A deleted policy matches no ticket and leaves the lists, but stays for the clocks and
    # reports of the tickets it governed.
    deleted_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class CustomerTag(SQLModel, table=True):
    """A label on a customer (``vip``, ``enterprise``), for policies to match."""

    __tablename__ = "customer_tag"

    customer_id: int = Field(foreign_key="customer.id", primary_key=True)
    tag: str = Field(max_length=64, primary_key=True, index=True)


class SlaClock(SQLModel, table=True):
    """Where one target of one ticket stands, as of its last recompute.

    ``cycle`` counts the next-response clocks (each customer message after an answer
    starts a new one). ``remaining_seconds`` is business time left at ``computed_at``
    (negative once breached); for a running clock ``due_at`` is the deadline.
    """

    __tablename__ = "sla_clock"
    __table_args__ = (UniqueConstraint("ticket_id", "target", name="uq_sla_clock_target"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    target: str = Field(max_length=32)
    policy_id: int | None = Field(default=None, foreign_key="sla_policy.id")
    cycle: int = 1
    state: str = Field(max_length=16)
    target_minutes: int
    started_at: datetime = Field(sa_type=UTCDateTime)
    due_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    stopped_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    breached_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    remaining_seconds: int = 0
    computed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SlaClockEvent(SQLModel, table=True):
    """One transition of a clock: started, paused, resumed, met, stopped, breached,
    warned, or policy_changed. Written once; a recompute adds only what is new."""

    __tablename__ = "sla_clock_event"
    __table_args__ = (
        UniqueConstraint("ticket_id", "target", "cycle", "kind", "at", name="uq_sla_event"),
        Index("ix_sla_event_ticket_at", "ticket_id", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id")
    target: str = Field(max_length=32)
    cycle: int = 1
    kind: str = Field(max_length=32)
    at: datetime = Field(sa_type=UTCDateTime)
    due_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    policy_id: int | None = Field(default=None, foreign_key="sla_policy.id")
    detail: str = Field(default="", max_length=200)
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TicketStatusChange(SQLModel, table=True):
    """A ticket entered a status category at ``at``."""

    __tablename__ = "ticket_status_change"
    __table_args__ = (Index("ix_status_change_ticket_at", "ticket_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id")
    status: str = Field(max_length=64)
    category: str = Field(max_length=32)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
