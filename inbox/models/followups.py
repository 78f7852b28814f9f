"""Follow-up workflows: settings per team, agents' snoozes and reminders, satisfaction surveys.

The work itself rides on the timer table (``inbox.models.work.Timer``) and the outbox; these
tables hold what the timers act on and what people see afterwards.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from inbox.models.types import UTCDateTime, utcnow

DEFAULT_REMINDER_DAYS = 3
DEFAULT_AUTO_RESOLVE_DAYS = 7
DEFAULT_REOPEN_WINDOW_DAYS = 14
SNOOZE_KINDS = ("snooze", "reminder")
SNOOZE_STATES = ("pending", "woken", "cancelled")


class FollowupSettings(SQLModel, table=True):
    """The follow-up workflows of one team; the row without a team serves tickets of no team
    and teams without a row of their own. Day counts are business days of ``calendar_id``
    (round the clock, every day counts, without one); None switches that workflow off."""

    __tablename__ = "followup_settings"

    id: int | None = Field(default=None, primary_key=True)
    team_id: int | None = Field(default=None, foreign_key="team.id", unique=True)
    calendar_id: int | None = Field(default=None, foreign_key="business_calendar.id")
    reminder_after_days: int | None = DEFAULT_REMINDER_DAYS
    auto_resolve_after_days: int | None = DEFAULT_AUTO_RESOLVE_DAYS
    closing_message: str = Field(default="", sa_column=Column(Text, nullable=False))
    reopen_window_days: int = DEFAULT_REOPEN_WINDOW_DAYS
    survey_enabled: bool = True
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TicketSnooze(SQLModel, table=True):
    """An agent's follow-up on a ticket: a snooze hides it from the inbox's queues until
    ``until``; a reminder only notifies. At most one is pending per ticket."""

    __tablename__ = "ticket_snooze"
    __table_args__ = (Index("ix_ticket_snooze_ticket_state", "ticket_id", "state"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id")
    agent_id: int = Field(foreign_key="agent.id")
    kind: str = Field(default="snooze", max_length=16)
    until: datetime = Field(sa_type=UTCDateTime)
    state: str = Field(default="pending", max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    end_reason: str = Field(default="", max_length=64)


class SatisfactionSurvey(SQLModel, table=True):
    """The one survey a ticket gets, on its first resolution, and the customer's answer."""

    __tablename__ = "satisfaction_survey"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", unique=True)
    message_id: int | None = Field(default=None, foreign_key="message.id")
    sent_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    score: int | None = None
    comment: str = Field(default="", sa_column=Column(Text, nullable=False))
    answered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), index=True))
