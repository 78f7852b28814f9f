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
            or_(
                col(Timer.state) == "pending",
                (col(Timer.state) == "firing") & (col(Timer.lease_until) < now),
            ),
        )
        .values(state="firing", lease_until=now + FIRING_LEASE)
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
        session.add(timer)


def retry_timer(session: Session, timer_id: int, due_at: datetime) -> None:
    """Set a claimed timer again for a later attempt."""
    timer = session.get(Timer, timer_id)
    if timer is not None:
        timer.state = "pending"
        timer.due_at = due_at
        timer.lease_until = None
        session.add(timer)
        record(session, TimerSet(timer_id, due_at))
