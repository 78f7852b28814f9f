"""Durable work: the outbox of things to send and the timers of things to do later."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, Text
from sqlmodel import Field, SQLModel

from inbox.models.types import UTCDateTime, utcnow

# ``failed``: given up (a permanent refusal, or attempts used up); ``discarded``: an
# administrator put a failed one aside on /admin/health.
OUTBOX_STATES = ("queued", "sending", "sent", "failed", "discarded")
# ``dead``: its handler failed (or its worker died) on every one of its bounded attempts; it
# waits on /admin/health to be retried or ``discarded``.
TIMER_STATES = ("pending", "firing", "fired", "cancelled", "dead", "discarded")


class Outbox(SQLModel, table=True):
    """One outbound message or external call, written with the change that caused it."""

    __table_args__ = (
        Index("ix_outbox_state_due", "state", "next_attempt_at"),
        Index("ix_outbox_recipient_kind", "recipient", "kind", "created_at"),
        Index("ix_outbox_secret_expires_at", "secret_expires_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    kind: str = Field(max_length=32)  # acknowledgement, reply, notification...
    channel_id: int | None = Field(default=None, foreign_key="channel.id")
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    message_id: int | None = Field(default=None, foreign_key="message.id", index=True)
    sender: str = Field(default="", max_length=320)
    recipient: str = Field(default="", max_length=320)
    recipients: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Built once, so a resend carries the same bytes and Message-ID.
    payload: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    # Set for mail that carries a secret (a one-time code, a reset link): its payload is
    # encrypted (``inbox.signing.OutboxSeal``), and wiped once sent, failed, or past this time.
    secret_expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    wiped_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    state: str = Field(default="queued", max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    lease_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class Timer(SQLModel, table=True):
    """A future deadline: SLA warnings and breaches, follow-ups, reminders."""

    __table_args__ = (Index("ix_timer_state_due", "state", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str | None = Field(default=None, max_length=200, unique=True)
    kind: str = Field(max_length=32)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    due_at: datetime = Field(sa_type=UTCDateTime)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    state: str = Field(default="pending", max_length=16)
    lease_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    fired_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # Firings in a row that did not finish (the handler raised, or its worker died);
    # back to 0 once one does.
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_column=Column(Text))


class HealthAlert(SQLModel, table=True):
    """One cause of trouble on /admin/health (``channel:3``, ``timers:dead``) and when the
    administrators were last mailed about it: at most once an hour per cause."""

    __tablename__ = "health_alert"

    cause: str = Field(primary_key=True, max_length=100)
    # Since when it is red; None while it is not.
    red_since: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    mailed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
