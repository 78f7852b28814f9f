"""Reading follow-up settings, a ticket's snooze or reminder, and satisfaction answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from inbox.models import (
    BusinessCalendar,
    FollowupSettings,
    SatisfactionSurvey,
    Team,
    Ticket,
    TicketSnooze,
)
from inbox.queries.sla import calendar_of
from inbox.rules.business_time import Calendar


def effective_settings(session: Session, team_id: int | None) -> FollowupSettings:
    """The team's own settings, else the desk's default row, else the built-in defaults."""
    rows = session.exec(
        select(FollowupSettings).where(
            (col(FollowupSettings.team_id) == team_id) | col(FollowupSettings.team_id).is_(None)
            if team_id is not None
            else col(FollowupSettings.team_id).is_(None)
        )
    ).all()
    own = next((r for r in rows if r.team_id is not None), None)
    default = next((r for r in rows if r.team_id is None), None)
    return own or default or FollowupSettings()


def settings_calendar(session: Session, settings: FollowupSettings) -> Calendar:
    """What a business day is for these settings: their calendar's, or every day."""
    row = session.get(BusinessCalendar, settings.calendar_id) if settings.calendar_id else None
    return calendar_of(row)


@dataclass
class SettingsRow:
    """One line of the administration page: the desk's default or a team."""

    team: Team | None
    settings: FollowupSettings
    own: bool  # False: a team that follows the default


def list_followup_settings(session: Session) -> list[SettingsRow]:
    rows = {r.team_id: r for r in session.exec(select(FollowupSettings)).all()}
    default = rows.get(None) or FollowupSettings()
    listed = [SettingsRow(None, default, True)]
    for team in session.exec(select(Team).order_by(col(Team.name))).all():
        own = rows.get(team.id)
        listed.append(SettingsRow(team, own or default, own is not None))
    return listed


def snoozed_ticket_ids() -> SelectOfScalar[int]:
    """Tickets hidden from the inbox's queues by a pending snooze."""
    return select(col(TicketSnooze.ticket_id)).where(
        col(TicketSnooze.state) == "pending", col(TicketSnooze.kind) == "snooze"
    )


def pending_followup(session: Session, ticket_id: int) -> TicketSnooze | None:
    return session.exec(
        select(TicketSnooze).where(
            TicketSnooze.ticket_id == ticket_id, col(TicketSnooze.state) == "pending"
        )
    ).first()


def survey_of(session: Session, ticket_id: int) -> SatisfactionSurvey | None:
    return session.exec(
        select(SatisfactionSurvey).where(SatisfactionSurvey.ticket_id == ticket_id)
    ).first()


@dataclass
class SatisfactionSummary:
    """Survey answers given in a period: how many, the average, and how many of each score."""

    sent: int = 0
    answers: int = 0
    average: float | None = None
    by_score: dict[int, int] = field(default_factory=lambda: dict.fromkeys(range(1, 6), 0))


def satisfaction_summary(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    scope: ColumnElement[bool] | None = None,
) -> SatisfactionSummary:
    """Answers given from ``start`` (included) to ``end`` (excluded), on the tickets
    ``scope`` lets the reader see (None: every ticket); ``sent`` counts surveys sent then."""
    conditions: list[ColumnElement[bool]] = [] if scope is None else [scope]
    joined = select(col(SatisfactionSurvey.score), func.count()).join(
        Ticket, col(Ticket.id) == SatisfactionSurvey.ticket_id
    )
    summary = SatisfactionSummary()
    for score, count in session.exec(
        joined.where(
            col(SatisfactionSurvey.answered_at) >= start,
            col(SatisfactionSurvey.answered_at) < end,
            *conditions,
        ).group_by(col(SatisfactionSurvey.score))
    ).all():
        if score is not None:
            summary.by_score[score] = count
    summary.answers = sum(summary.by_score.values())
    if summary.answers:
        total = sum(score * count for score, count in summary.by_score.items())
        summary.average = round(total / summary.answers, 2)
    summary.sent = session.exec(
        select(func.count())
        .select_from(SatisfactionSurvey)
        .join(Ticket, col(Ticket.id) == SatisfactionSurvey.ticket_id)
        .where(
            col(SatisfactionSurvey.sent_at) >= start,
            col(SatisfactionSurvey.sent_at) < end,
            *conditions,
        )
    ).one()
    return summary


@dataclass
class SurveyAnswer:
    reference: str
    subject: str
    score: int
    comment: str
    answered_at: datetime


def survey_answers(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    scope: ColumnElement[bool] | None = None,
    limit: int = 200,
) -> list[SurveyAnswer]:
    """The answers themselves, newest first, each with its ticket."""
    conditions: list[ColumnElement[bool]] = [] if scope is None else [scope]
    rows = session.exec(
        select(SatisfactionSurvey, Ticket.reference, Ticket.subject)
        .join(Ticket, col(Ticket.id) == SatisfactionSurvey.ticket_id)
        .where(
            col(SatisfactionSurvey.answered_at) >= start,
            col(SatisfactionSurvey.answered_at) < end,
            *conditions,
        )
        .order_by(col(SatisfactionSurvey.answered_at).desc(), col(SatisfactionSurvey.id))
        .limit(limit)
    ).all()
    return [
        SurveyAnswer(reference, subject, survey.score or 0, survey.comment, survey.answered_at)
        for survey, reference, subject in rows
        if survey.answered_at is not None
    ]
