"""Timers: work due at a moment, kept in a table so it survives restarts and broker flushes.

A timer is set in the transaction of its cause. The scheduler sweeps what is due and
enqueues it; a worker claims the timer, runs the handler for its kind, then finishes it or
sets it again for a later attempt. ``now`` is a parameter throughout, so tests move the
clock instead of sleeping.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from inbox.events import Event, record
from inbox.models import Timer, utcnow

# Enqueued by a sweep and not yet claimed: swept again after this.
ENQUEUE_LEASE = timedelta(seconds=60)
# Claimed by a worker: another may take over after this (a killed worker).
FIRING_LEASE = timedelta(minutes=5)
# Firings in a row that may fail before the timer is a dead letter; the delays between them
# double from ``FIRST_RETRY`` (1, 2, 4, 8 and 16 minutes: given up after about half an hour).
MAX_ATTEMPTS = 6
FIRST_RETRY = timedelta(minutes=1)
MAX_RETRY = timedelta(hours=1)


@dataclass(frozen=True)
class TimerSet(Event):
    timer_id: int
    due_at: datetime


@dataclass(frozen=True)
class ClaimedTimer:
    timer_id: int
    kind: str
    ticket_id: int | None
    payload: dict[str, Any]
    due_at: datetime


def set_timer(
    session: Session,
    *,
    kind: str,
    due_at: datetime,
    key: str | None = None,
    ticket_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> Timer:
    """A pending timer; with ``key``, setting the same timer twice keeps the first."""
    if key is not None:
        existing = session.exec(select(Timer).where(Timer.key == key)).first()
        if existing is not None:
            return existing
    timer = Timer(key=key, kind=kind, ticket_id=ticket_id, due_at=due_at, payload=payload or {})
    try:
        with session.begin_nested():
            session.add(timer)
            session.flush()
    except IntegrityError:
        found = session.exec(select(Timer).where(Timer.key == key)).first()
        if found is None:
            raise
        return found
    record(session, TimerSet(timer.id or 0, due_at))
    return timer


def sweep_due_timers(session: Session, *, now: datetime, limit: int = 500) -> list[int]:
    """Pending timers due by ``now`` that nobody enqueued lately: lease and return them."""
    ids = [
        timer_id
        for timer_id in session.exec(
            select(Timer.id)
            .where(
                or_(
                    (col(Timer.state) == "pending") & (col(Timer.due_at) <= now),
                    col(Timer.state) == "firing",
                ),
                or_(col(Timer.lease_until).is_(None), col(Timer.lease_until) < now),
            )
            .order_by(col(Timer.due_at))
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        if timer_id is not None
    ]
    if ids:
        session.execute(
            update(Timer)
            .where(col(Timer.id).in_(ids), col(Timer.state) == "pending")
            .values(lease_until=now + ENQUEUE_LEASE)
        )
        # Its worker died on every attempt (a handler that brings the process down): given up.
        abandoned = session.execute(
            update(Timer)
            .where(
                col(Timer.id).in_(ids),
                col(Timer.state) == "firing",
                col(Timer.attempts) >= MAX_ATTEMPTS,
            )
            .values(
                state="dead",
                lease_until=None,
                last_error=f"its worker stopped while firing it, {MAX_ATTEMPTS} times in a row",
            )
            .returning(col(Timer.id))
            .execution_options(synchronize_session=False)
        )
        dead = {row[0] for row in abandoned}
        ids = [timer_id for timer_id in ids if timer_id not in dead]
    return ids


def claim_timer(session: Session, timer_id: int, *, due_by: datetime) -> ClaimedTimer | None:
    """Take a timer due by ``due_by`` for firing; None when fired, cancelled, set for later,
    or being fired by someone else."""
    now = utcnow()
    result = session.execute(
        update(Timer)
        .where(
            col(Timer.id) == timer_id,
            col(Timer.due_at) <= due_by,
            col(Timer.attempts) < MAX_ATTEMPTS,
            or_(
                col(Timer.state) == "pending",
                (col(Timer.state) == "firing") & (col(Timer.lease_until) < now),
            ),
        )
        .values(state="firing", lease_until=now + FIRING_LEASE, attempts=Timer.attempts + 1)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    timer = session.get(Timer, timer_id, populate_existing=True)
    assert timer is not None
    return ClaimedTimer(
        timer_id=timer_id,
        kind=timer.kind,
        ticket_id=timer.ticket_id,
        payload=dict(timer.payload),
        due_at=timer.due_at,
    )


def finish_timer(session: Session, timer_id: int) -> None:
    timer = session.get(Timer, timer_id)
    if timer is not None:
        timer.state = "fired"
        timer.fired_at = utcnow()
        timer.lease_until = None
        timer.attempts = 0
        timer.last_error = None
        session.add(timer)


def retry_timer(session: Session, timer_id: int, due_at: datetime) -> None:
    """Set a claimed timer again for a later attempt: its handler finished and asked for it
    (a recurring timer, or work that waits on something), so no failure is counted."""
    timer = session.get(Timer, timer_id)
    if timer is not None:
        timer.state = "pending"
        timer.due_at = due_at
        timer.lease_until = None
        timer.attempts = 0
        timer.last_error = None
        session.add(timer)
        record(session, TimerSet(timer_id, due_at))


def record_timer_failure(
    session: Session, timer_id: int, error: str, *, now: datetime | None = None
) -> bool:
    """A claimed timer whose firing failed: set again after a growing delay, or, once it
    failed ``MAX_ATTEMPTS`` times in a row, a dead letter. True when it is dead."""
    timer = session.get(Timer, timer_id)
    if timer is None:
        return False
    now = now or utcnow()
    timer.last_error = error[:2000]
    timer.lease_until = None
    if timer.attempts >= MAX_ATTEMPTS:
        timer.state = "dead"
        session.add(timer)
        return True
    timer.state = "pending"
    timer.due_at = now + min(FIRST_RETRY * 2 ** max(timer.attempts - 1, 0), MAX_RETRY)
    session.add(timer)
    record(session, TimerSet(timer_id, timer.due_at))
    return False


def give_up_timer(session: Session, timer_id: int, error: str) -> None:
    """A claimed timer that can never fire (no handler knows its kind): a dead letter now."""
    timer = session.get(Timer, timer_id)
    if timer is not None:
        timer.state = "dead"
        timer.lease_until = None
        timer.last_error = error[:2000]
        session.add(timer)
