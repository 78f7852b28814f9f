"""Follow-up workflows: thin timer handlers that re-read the ticket each time.

The timers are set by status changes and agents (``inbox.actions.followup_hooks``,
``inbox.actions.followups``); each handler is one unit of work, and does nothing when the
ticket moved on meanwhile.
"""

from __future__ import annotations

from datetime import datetime

from inbox.actions.followup_hooks import AUTO_RESOLVE, REMINDER, SURVEY
from inbox.actions.followups import (
    SNOOZE_WAKE,
    auto_resolve_waiting,
    send_survey,
    send_waiting_reminder,
    wake_followup,
)
from inbox.actions.timers import ClaimedTimer
from inbox.models import utcnow
from workers.runtime import Runtime
from workers.timers import timer_handler


@timer_handler(REMINDER)
def remind_customer(rt: Runtime, timer: ClaimedTimer) -> datetime | None:
    if timer.ticket_id is not None:
        with rt.db.unit_of_work() as session:
            send_waiting_reminder(session, rt.settings, timer.ticket_id)
    return None


@timer_handler(AUTO_RESOLVE)
def resolve_unanswered(rt: Runtime, timer: ClaimedTimer) -> datetime | None:
    if timer.ticket_id is not None:
        with rt.db.unit_of_work() as session:
            auto_resolve_waiting(session, rt.settings, timer.ticket_id)
    return None


@timer_handler(SURVEY)
def survey_customer(rt: Runtime, timer: ClaimedTimer) -> datetime | None:
    if timer.ticket_id is not None:
        with rt.db.unit_of_work() as session:
            send_survey(session, rt.settings, timer.ticket_id)
    return None


@timer_handler(SNOOZE_WAKE)
def wake_ticket(rt: Runtime, timer: ClaimedTimer) -> datetime | None:
    with rt.db.unit_of_work() as session:
        wake_followup(session, int(timer.payload["snooze_id"]), now=utcnow())
    return None
