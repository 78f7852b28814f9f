"""SLA escalations: the rules of a policy, the alerts they acted on, and the alert mails
waiting to go out to one agent, alone or gathered into a digest."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from inbox.models.types import UTCDateTime, utcnow

ESCALATION_TRIGGERS = ("warning", "breach")
# ``set_priority``: "" leaves the priority alone, "raise" moves it one step up, a priority
# name raises it to that one (an escalation never lowers a priority).
RAISE_ONE_STEP = "raise"


class SlaEscalationRule(SQLModel, table=True):
    """What to do when a ticket under ``policy_id`` reaches a warning or misses a target.

    ``target`` "" means any target; ``warn_percent`` None means every warning of the
    policy (only for the warning trigger). Every enabled rule that matches applies, in order
    of position.
    """

    __tablename__ = "sla_escalation_rule"

    id: int | None = Field(default=None, primary_key=True)
    policy_id: int = Field(foreign_key="sla_policy.id", index=True)
    position: int = 0
    enabled: bool = True
    trigger: str = Field(max_length=16)
    target: str = Field(default="", max_length=32)
    warn_percent: int | None = None
    notify_assignee: bool = False
    notify_managers: bool = False
    set_priority: str = Field(default="", max_length=16)
    assign_team_id: int | None = Field(default=None, foreign_key="team.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class SlaAlert(SQLModel, table=True):
    """One warning or breach that escalation rules acted on.

    ``key`` names the ticket, target, cycle and moment (``<ticket>:<target>:<cycle>:warn75``
    or ``…:breach``), so a timer fired a second time after a crash escalates nothing twice.
    ``actions`` records what was done, as the audit log does.
    """

    __tablename__ = "sla_alert"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    target: str = Field(max_length=32)
    cycle: int = 1
    kind: str = Field(max_length=16)  # warning, breach
    percent: int | None = None
    due_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    actions: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class SlaAlertMail(SQLModel, table=True):
    """An alert to mail to one agent. Alerts of one agent waiting at the same time leave
    together, in one digest, when the ``sla_digest`` timer at ``flush_at`` fires."""

    __tablename__ = "sla_alert_mail"
    __table_args__ = (
        UniqueConstraint("alert_id", "agent_id", name="uq_sla_alert_mail"),
        Index("ix_sla_alert_mail_agent_sent", "agent_id", "sent_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="sla_alert.id")
    agent_id: int = Field(foreign_key="agent.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    flush_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # The outbox row that carried it; None while waiting (and when no channel could send).
    outbox_key: str | None = Field(default=None, max_length=200)
