"""Follow-up workflows: thin timer handlers that re-read the ticket each time.

The timers are set by status changes and agents (``inbox.actions.followup_hooks``,
``inbox.actions.followups``); each handler is one unit of work, and does nothing when the
ticket moved on meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session

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
from inbox.settings import Settings
from workers.runtime import Runtime
from workers.timers import timer_handler


def _on_ticket(
    action: Callable[[Session, Settings, int], object],
) -> Callable[[Runtime, ClaimedTimer], datetime | None]:
    """A handler that runs ``action`` on the timer's ticket in one unit of work."""

    def handle(rt: Runtime, timer: ClaimedTimer) -> datetime | None:
        if timer.ticket_id is not None:
            with rt.db.unit_of_work() as session:
                action(session, rt.settings, timer.ticket_id)
        return None

    return handle


timer_handler(REMINDER)(_on_ticket(send_waiting_reminder))
timer_handler(AUTO_RESOLVE)(_on_ticket(auto_resolve_waiting))
timer_handler(SURVEY)(_on_ticket(send_survey))


@timer_handler(SNOOZE_WAKE)
def wake_ticket(rt: Runtime, timer: ClaimedTimer) -> datetime | None:
    with rt.db.unit_of_work() as session:
        wake_followup(session, int(timer.payload["snooze_id"]), now=utcnow())
    return None
