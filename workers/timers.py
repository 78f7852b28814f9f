"""Firing timers: the scheduler sweeps due ones, ``fire_timer`` runs the handler for the
timer's kind. Handlers return None when done, or when to try again."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import dramatiq

from inbox.actions.timers import (
    ClaimedTimer,
    TimerSet,
    claim_timer,
    finish_timer,
    retry_timer,
    sweep_due_timers,
)
from inbox.events import Event
from inbox.models import utcnow
from workers.broker import ensure_broker
from workers.runtime import Runtime, get_runtime

ensure_broker()

log = logging.getLogger(__name__)
TimerHandler = Callable[[Runtime, ClaimedTimer], datetime | None]
_HANDLERS: dict[str, TimerHandler] = {}
# A handler that crashed is tried again after this.
CRASH_RETRY = timedelta(minutes=1)


def timer_handler(kind: str) -> Callable[[TimerHandler], TimerHandler]:
    def register(handler: TimerHandler) -> TimerHandler:
        _HANDLERS[kind] = handler
        return handler

    return register


@dramatiq.actor(queue_name="timers", max_retries=0, time_limit=120_000)
def fire_timer(timer_id: int, due_by: str) -> None:
    """``due_by``: the moment the sender found the timer due; a stale message for a timer
    set again for later finds nothing to claim."""
    rt = get_runtime()
    with rt.db.unit_of_work() as session:
        claimed = claim_timer(session, timer_id, due_by=datetime.fromisoformat(due_by))
    if claimed is None:
        return
    handler = _HANDLERS.get(claimed.kind)
    retry_at: datetime | None
    if handler is None:
        log.error("no handler for timer kind %r (timer %s)", claimed.kind, timer_id)
        retry_at = None
    else:
        try:
            retry_at = handler(rt, claimed)
        except Exception:
            log.exception("timer %s (%s) failed", timer_id, claimed.kind)
            retry_at = utcnow() + CRASH_RETRY
    with rt.db.unit_of_work() as session:
        if retry_at is None:
            finish_timer(session, timer_id)
        else:
            retry_timer(session, timer_id, retry_at)


def run_due_timers(rt: Runtime, *, now: datetime | None = None) -> int:
    """Enqueue every timer due by ``now`` (the present unless a test moves the clock)."""
    now = now or utcnow()
    with rt.db.unit_of_work() as session:
        ids = sweep_due_timers(session, now=now)
    for timer_id in ids:
        fire_timer.send(timer_id, now.isoformat())
    return len(ids)


def enqueue_due_timers(events: list[Event]) -> None:
    """Timers set due already (e.g. 'now') fire right after the commit, not at the next sweep."""
    now = utcnow()
    for event in events:
        if isinstance(event, TimerSet) and event.due_at <= now:
            fire_timer.send(event.timer_id, event.due_at.isoformat())
