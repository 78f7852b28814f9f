"""Reading SLA clocks, their transitions, policies and calendars."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from inbox.models import BusinessCalendar, SlaClock, SlaClockEvent, SlaPolicy, Team, Ticket
from inbox.rules.business_time import (
    ALWAYS_OPEN,
    Calendar,
    CalendarError,
    Holidays,
    business_time_between,
    weekly,
)

TARGET_LABELS = {
    "first_response": "First response",
    "next_response": "Next response",
    "resolution": "Resolution",
    "policy": "Policy",
}


def calendar_of(row: BusinessCalendar | None) -> Calendar:
    """The pure calendar for a stored one; none stored means round the clock."""
    if row is None or row.always_open:
        return ALWAYS_OPEN if row is None else Calendar(timezone=row.timezone, always_open=True)
    try:
        closed = frozenset(date.fromisoformat(d) for d in row.closed_dates)
    except ValueError as exc:
        raise CalendarError("closed dates must be YYYY-MM-DD") from exc
    return weekly(
        row.timezone,
        {day: [tuple(pair) for pair in hours] for day, hours in row.weekly_hours.items()},
        closed_days=Holidays(row.holiday_country or None, row.holiday_subdivision or None, closed),
    )


def policy_calendar(session: Session, policy_id: int | None) -> Calendar:
    policy = session.get(SlaPolicy, policy_id) if policy_id else None
    row = (
        session.get(BusinessCalendar, policy.calendar_id) if policy and policy.calendar_id else None
    )
    return calendar_of(row)


@dataclass
class ClockView:
    """One target of a ticket as a person reads it now."""

    target: str
    label: str
    state: str
    cycle: int
    due_at: datetime | None
    remaining_minutes: int
    stopped_at: datetime | None
    breached_at: datetime | None
    policy_name: str


def ticket_clocks(session: Session, ticket_id: int, now: datetime) -> list[ClockView]:
    return clocks_of_tickets(session, [ticket_id], now).get(ticket_id, [])


def clocks_of_tickets(
    session: Session, ticket_ids: Sequence[int], now: datetime
) -> dict[int, list[ClockView]]:
    """The clocks of many tickets (a page of the list) in one query, each policy and
    calendar read once."""
    if not ticket_ids:
        return {}
    rows = session.exec(
        select(SlaClock).where(col(SlaClock.ticket_id).in_(ticket_ids)).order_by(col(SlaClock.id))
    ).all()
    policy_ids = {row.policy_id for row in rows if row.policy_id}
    policies = {
        p.id: p for p in session.exec(select(SlaPolicy).where(col(SlaPolicy.id).in_(policy_ids)))
    }
    calendars: dict[int | None, Calendar] = {}
    views: dict[int, list[ClockView]] = {}
    for row in rows:
        if row.policy_id not in calendars:
            calendars[row.policy_id] = policy_calendar(session, row.policy_id)
        policy = policies.get(row.policy_id)
        remaining = timedelta(seconds=row.remaining_seconds)
        if row.stopped_at is None and row.due_at is not None and row.state != "paused":
            remaining = business_time_between(calendars[row.policy_id], now, row.due_at)
        views.setdefault(row.ticket_id, []).append(
            ClockView(
                target=row.target,
                label=TARGET_LABELS.get(row.target, row.target),
                state=row.state,
                cycle=row.cycle,
                due_at=row.due_at if row.state != "paused" else None,
                remaining_minutes=int(remaining / timedelta(minutes=1)),
                stopped_at=row.stopped_at,
                breached_at=row.breached_at,
                policy_name=policy.name if policy else "",
            )
        )
    return views


def ticket_sla_json(session: Session, ticket_id: int, now: datetime) -> dict[str, object]:
    """The API's ``sla`` field: per target, ``due_at``, ``state``, ``remaining_minutes``."""
    return tickets_sla_json(session, [ticket_id], now).get(ticket_id, {})


def tickets_sla_json(
    session: Session, ticket_ids: Sequence[int], now: datetime
) -> dict[int, dict[str, object]]:
    return {
        ticket_id: {
            view.target: {
                "due_at": view.due_at.isoformat() if view.due_at else None,
                "state": view.state,
                "remaining_minutes": view.remaining_minutes,
                "cycle": view.cycle,
                "policy": view.policy_name,
            }
            for view in views
        }
        for ticket_id, views in clocks_of_tickets(session, ticket_ids, now).items()
    }


def clock_events(session: Session, ticket_id: int) -> list[SlaClockEvent]:
    return list(
        session.exec(
            select(SlaClockEvent)
            .where(SlaClockEvent.ticket_id == ticket_id)
            .order_by(col(SlaClockEvent.at), col(SlaClockEvent.id))
        ).all()
    )


@dataclass
class SlaTimeline:
    clocks: list[ClockView]
    events: list[SlaClockEvent]


def sla_timeline(session: Session, ticket_id: int, now: datetime) -> SlaTimeline:
    """What ``partials/sla_timeline.html`` shows."""
    return SlaTimeline(ticket_clocks(session, ticket_id, now), clock_events(session, ticket_id))


def list_policies(session: Session) -> list[SlaPolicy]:
    """The policies in the order they are tried; deleted ones are left out."""
    return list(
        session.exec(
            select(SlaPolicy)
            .where(col(SlaPolicy.deleted_at).is_(None))
            .order_by(col(SlaPolicy.position), col(SlaPolicy.id))
        ).all()
    )


def list_calendars(session: Session) -> list[BusinessCalendar]:
    return list(session.exec(select(BusinessCalendar).order_by(col(BusinessCalendar.name))).all())


def find_calendar(session: Session, name: str) -> BusinessCalendar | None:
    return session.exec(
        select(BusinessCalendar).where(BusinessCalendar.name == name.strip())
    ).first()


def list_teams(session: Session) -> list[Team]:
    return list(session.exec(select(Team).order_by(col(Team.name))).all())


def tickets_with_sla_work(session: Session, ticket_ids: list[int]) -> list[int]:
    """Those of ``ticket_ids`` a recompute could change: all of them while any policy is
    enabled, else only those with clocks left over. Read-only, so that a desk without SLA
    policies never takes a write lock for them."""
    if session.exec(select(SlaPolicy.id).where(col(SlaPolicy.enabled).is_(True))).first():
        return list(ticket_ids)
    with_clocks = session.exec(
        select(SlaClock.ticket_id).where(col(SlaClock.ticket_id).in_(ticket_ids)).distinct()
    )
    return sorted(set(with_clocks))


def unresolved_ticket_ids(session: Session, *, after_id: int, limit: int) -> list[int]:
    """Ids of unresolved tickets, in pages, for a recompute after a policy change."""
    return [
        ticket_id
        for ticket_id in session.exec(
            select(Ticket.id)
            .where(
                col(Ticket.status_category).not_in(("resolved", "closed")),
                col(Ticket.id) > after_id,
            )
            .order_by(col(Ticket.id))
            .limit(limit)
        )
        if ticket_id is not None
    ]
