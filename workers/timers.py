"""Firing timers: the scheduler sweeps due ones, ``fire_timer`` runs the handler for the
timer's kind. Handlers return None when done, or when to try again."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

import dramatiq

from inbox.actions.timers import (
    ClaimedTimer,
    TimerSet,
    claim_timer,
    finish_timer,
    give_up_timer,
    record_timer_failure,
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


def timer_handler(kind: str) -> Callable[[TimerHandler], TimerHandler]:
    def register(handler: TimerHandler) -> TimerHandler:
        _HANDLERS[kind] = handler
        return handler

    return register


@dramatiq.actor(queue_name="timers", max_retries=0, time_limit=120_000)
def fire_timer(timer_id: int, due_by: str) -> None:
    """``due_by``: the moment the sender found the timer due; a stale message for a timer
    set again for later finds nothing to claim. A handler that raises has its timer tried
    again later, a bounded number of times (``inbox.actions.timers``)."""
    rt = get_runtime()
    with rt.db.unit_of_work() as session:
        claimed = claim_timer(session, timer_id, due_by=datetime.fromisoformat(due_by))
    if claimed is None:
        return
    handler = _HANDLERS.get(claimed.kind)
    if handler is None:
        log.error("no handler for timer kind %r (timer %s)", claimed.kind, timer_id)
        with rt.db.unit_of_work() as session:
            give_up_timer(session, timer_id, f"no handler for timers of kind {claimed.kind!r}")
        return
    try:
        retry_at = handler(rt, claimed)
    except Exception as exc:
        log.exception("timer %s (%s) failed", timer_id, claimed.kind)
        with rt.db.unit_of_work() as session:
            if record_timer_failure(session, timer_id, f"{type(exc).__name__}: {exc}"):
                log.error("timer %s (%s) gave up: a dead letter now", timer_id, claimed.kind)
        return
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
