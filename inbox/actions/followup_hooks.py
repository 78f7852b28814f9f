"""What a change of status sets in motion: the waiting-on-customer reminder and auto-resolve
timers, and the satisfaction survey after a resolution.

Called by ``inbox.actions.tickets.set_status`` inside the transaction of the change, so
the timers are written with their cause. This module imports nothing from the ticket
actions (they import it); the handlers that act when the timers fire live in
``inbox.actions.followups``.

Each workflow keeps one timer row per ticket, keyed by ticket and purpose: a new waiting
episode or resolution sets it again, leaving the status cancels it. A handler still checks
the ticket when it fires, so a timer that slipped through does nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from inbox.actions.timeline import record_system_event
from inbox.actions.timers import TimerSet, set_timer
from inbox.events import record
from inbox.models import Message, SatisfactionSurvey, Ticket, Timer
from inbox.queries.followups import effective_settings, settings_calendar
from inbox.rules.followup_time import add_business_days

WAITING = "waiting_on_customer"
REMINDER = "waiting_reminder"
AUTO_RESOLVE = "waiting_auto_resolve"
SURVEY = "satisfaction_survey"
# The survey waits this long after a resolution: a quick "thanks!" that reopens the ticket,
# or an agent who resolved by mistake, does not get the customer a survey.
SURVEY_DELAY = timedelta(hours=1)


def timer_key(kind: str, ticket_id: int) -> str:
    return f"{kind}:{ticket_id}"


def arm_timer(
    session: Session,
    *,
    kind: str,
    ticket_id: int,
    due_at: datetime,
    payload: dict[str, Any] | None = None,
) -> None:
    """Set the ticket's timer of this kind for ``due_at``, whatever became of it before."""
    key = timer_key(kind, ticket_id)
    timer = session.exec(select(Timer).where(Timer.key == key)).first()
    if timer is None:
        set_timer(
            session, kind=kind, due_at=due_at, key=key, ticket_id=ticket_id, payload=payload or {}
        )
        return
    session.execute(
        update(Timer)
        .where(col(Timer.id) == timer.id, col(Timer.state) != "firing")
        .values(state="pending", due_at=due_at, lease_until=None, payload=payload or {})
    )
    record(session, TimerSet(timer.id or 0, due_at))


def cancel_timers(session: Session, ticket_id: int, *kinds: str) -> int:
    """Cancel the ticket's pending timers of these kinds; returns how many there were."""
    keys = [timer_key(kind, ticket_id) for kind in kinds]
    result = session.execute(
        update(Timer)
        .where(col(Timer.key).in_(keys), col(Timer.state) == "pending")
        .values(state="cancelled", lease_until=None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def shown(moment: datetime, zone: tzinfo) -> str:
    """A moment as people on the desk read it: ``Tue 25 Nov 2026 09:00 CET``."""
    return f"{moment.astimezone(zone):%a %d %b %Y %H:%M %Z}"


def note(session: Session, ticket: Ticket, text: str) -> Message:
    """One line of history on the ticket's timeline, written by the desk itself."""
    return record_system_event(session, ticket, None, text)


def status_category_changed(
    session: Session, ticket: Ticket, previous: str, *, now: datetime
) -> None:
    """Start or stop the follow-ups a status category brings with it."""
    if ticket.id is None or ticket.status_category == previous:
        return
    current = ticket.status_category
    if current == WAITING:
        _start_waiting(session, ticket, now)
    elif previous == WAITING:
        cancel_timers(session, ticket.id, REMINDER, AUTO_RESOLVE)
    if current == "resolved" and previous != "closed":
        _plan_survey(session, ticket, now)
    elif previous in ("resolved", "closed") and current not in ("resolved", "closed"):
        cancel_timers(session, ticket.id, SURVEY)


def _start_waiting(session: Session, ticket: Ticket, now: datetime) -> None:
    """The timers show in the ticket's follow-up panel; what they do, on its timeline."""
    settings = effective_settings(session, ticket.team_id)
    calendar = settings_calendar(session, settings)
    ticket_id = ticket.id or 0
    payload = {"since": now.isoformat()}
    if settings.reminder_after_days:
        due = add_business_days(calendar, now, settings.reminder_after_days)
        arm_timer(session, kind=REMINDER, ticket_id=ticket_id, due_at=due, payload=payload)
    if settings.auto_resolve_after_days:
        due = add_business_days(calendar, now, settings.auto_resolve_after_days)
        arm_timer(session, kind=AUTO_RESOLVE, ticket_id=ticket_id, due_at=due, payload=payload)


def _plan_survey(session: Session, ticket: Ticket, now: datetime) -> None:
    """One survey per ticket: none once one went out, none while surveys are off."""
    if not effective_settings(session, ticket.team_id).survey_enabled:
        return
    sent = session.exec(
        select(SatisfactionSurvey.id).where(SatisfactionSurvey.ticket_id == ticket.id)
    ).first()
    if sent is None:
        arm_timer(session, kind=SURVEY, ticket_id=ticket.id or 0, due_at=now + SURVEY_DELAY)
