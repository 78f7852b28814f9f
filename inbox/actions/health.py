"""What administrators do about the desk's health, and what it tells them unasked.

- Work that was given up on (an outbound message ``failed``, a timer ``dead``) is retried
  or discarded from /admin/health; both are audited.
- When a check turns red (``inbox.queries.health``), every active administrator gets a
  mail through the outbox, at most one an hour per cause: a cause that stays red is told
  once, and one that flaps is told again only after the hour.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from inbox.actions.audit import record_audit
from inbox.actions.automatic_mail import queue_agent_mail
from inbox.actions.outbox import ENQUEUE_LEASE
from inbox.actions.timers import TimerSet
from inbox.errors import Conflict, NotFound
from inbox.events import OutboxQueued, record
from inbox.models import Agent, HealthAlert, Message, Outbox, Timer, utcnow
from inbox.queries.health import Check
from inbox.settings import Settings

ALERT_EVERY = timedelta(hours=1)


def _given_up(session: Session, model: type[Outbox] | type[Timer], row_id: int) -> Any:
    """The failed outbound message or dead timer, locked; ``NotFound`` or ``Conflict`` for
    one that is not given up on."""
    outbound = model is Outbox
    row = cast("Outbox | Timer | None", session.get(model, row_id, with_for_update=True))
    if row is None:
        raise NotFound("no such outbound message" if outbound else "no such timer")
    if row.state != ("failed" if outbound else "dead"):
        raise Conflict(
            "that message has not failed" if outbound else "that timer is not a dead letter"
        )
    return row


def _audit(session: Session, action: str, row: Outbox | Timer, actor: Agent) -> None:
    record_audit(
        session,
        action,
        actor=actor,
        target_type="outbox" if isinstance(row, Outbox) else "timer",
        target_id=row.id or 0,
        detail={"kind": row.kind, "last_error": (row.last_error or "")[:200]},
    )


def retry_failed_outbound(session: Session, outbox_id: int, *, actor: Agent) -> Outbox:
    """Queue a failed message again with fresh attempts; it is sent right after the commit,
    with the bytes (and Message-ID) it had."""
    item: Outbox = _given_up(session, Outbox, outbox_id)
    if item.wiped_at is not None:
        # A one-time code or reset link, wiped once it failed: what it carried is gone, and
        # would no longer work; the person asks for a new one.
        raise Conflict("what this message carried was wiped; it cannot be sent again")
    now = utcnow()
    item.state = "queued"
    item.attempts = 0
    item.next_attempt_at = now
    item.lease_until = now + ENQUEUE_LEASE
    session.add(item)
    if item.message_id is not None:
        message = session.get(Message, item.message_id)
        if message is not None:
            message.delivery = "queued"
            session.add(message)
    record(session, OutboxQueued(outbox_id))
    _audit(session, "outbox.retried", item, actor)
    return item


def retry_dead_timer(session: Session, timer_id: int, *, actor: Agent) -> Timer:
    """Set a dead timer due now, with fresh attempts: it fires right after the commit."""
    timer: Timer = _given_up(session, Timer, timer_id)
    now = utcnow()
    timer.state = "pending"
    timer.attempts = 0
    timer.due_at = now
    timer.lease_until = None
    session.add(timer)
    record(session, TimerSet(timer_id, now))
    _audit(session, "timer.retried", timer, actor)
    return timer


def discard_failed_outbound(session: Session, outbox_id: int, *, actor: Agent) -> Outbox:
    """Put a failed message aside: it leaves the health page; its ticket still shows it
    failed."""
    return _discard(session, _given_up(session, Outbox, outbox_id), "outbox.discarded", actor)


def discard_dead_timer(session: Session, timer_id: int, *, actor: Agent) -> Timer:
    return _discard(session, _given_up(session, Timer, timer_id), "timer.discarded", actor)


def _discard(session: Session, row: Any, action: str, actor: Agent) -> Any:
    row.state = "discarded"
    session.add(row)
    _audit(session, action, row, actor)
    return row


def alert_administrators(
    session: Session, settings: Settings, checks: Sequence[Check], *, now: datetime
) -> list[Check]:
    """Remember which causes are red since when, and mail the administrators about those
    that turned red, unless they were mailed about that cause within the hour. Returns the
    checks mailed about."""
    red = {c.cause: c for c in checks if c.level == "red"}
    known = {row.cause: row for row in session.exec(select(HealthAlert).with_for_update()).all()}
    for cause, row in known.items():
        if cause not in red and row.red_since is not None:
            row.red_since = None
            session.add(row)
    due: list[Check] = []
    for cause, check in red.items():
        found = known.get(cause) or _new_alert(session, cause)
        if found is None:  # another scheduler just took it
            continue
        row = found
        if row.red_since is None:
            row.red_since = now
        told = row.mailed_at is not None and (
            row.red_since <= row.mailed_at or row.mailed_at > now - ALERT_EVERY
        )
        if not told:
            row.mailed_at = now
            due.append(check)
        session.add(row)
    if due:
        _mail(session, settings, due, now)
    return due


def _new_alert(session: Session, cause: str) -> HealthAlert | None:
    row = HealthAlert(cause=cause)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        return None
    return row


def _mail(session: Session, settings: Settings, checks: list[Check], now: datetime) -> None:
    admins = session.exec(
        select(Agent).where(Agent.role == "admin", col(Agent.is_active).is_(True))
    ).all()
    lines = [f"- {c.title}: {c.detail}" for c in checks]
    body = "\n".join(
        [
            "Something on the desk needs attention:",
            "",
            *lines,
            "",
            f"See {settings.base_url}/admin/health to retry or discard what failed.",
            "You get at most one mail an hour about each of these.",
        ]
    )
    subject = (
        f"Desk health: {checks[0].title} needs attention"
        if len(checks) == 1
        else f"Desk health: {len(checks)} things need attention"
    )
    for admin in admins:
        queue_agent_mail(
            session,
            settings,
            agent=admin,
            kind="health_alert",
            key=f"health:{admin.id}:{now.isoformat()}:{','.join(c.cause for c in checks)}"[:200],
            subject=subject,
            body=body,
        )
