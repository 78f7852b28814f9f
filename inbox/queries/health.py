"""How the desk's machinery is doing, for /admin/health, ``GET /healthz?deep=1`` and the
administrators' alert mail: mailboxes and channels, the quarantine, outbound messages that
failed or wait too long, timers that are late or gave up (dead letters), and the broker and
realtime hub (probed by the caller, who knows how to reach them).

Each thing that can go wrong is a ``Check`` with a stable ``cause`` and a level: ``ok``,
``warning`` (worth a look) or ``red`` (work is not getting done; administrators are mailed).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, or_
from sqlmodel import Session, col, select

from inbox.models import Channel, InboundItem, Outbox, Ticket, Timer
from inbox.models.kinds import ChannelKind
from inbox.queries.social import last_events

LEVELS = ("ok", "warning", "red")
# Work due this long ago and not done: nobody is doing it (scheduler, workers or broker down).
STUCK_AFTER = timedelta(minutes=15)
# A pulled channel that could not be read for this long is red, not merely degraded.
UNREACHABLE_AFTER = timedelta(minutes=15)
# Channels read by pulling; the others are pushed to the desk (webhooks, the chat socket).
PULLED_KINDS = {ChannelKind.EMAIL, ChannelKind.TELEGRAM, ChannelKind.X}
LISTED = 50


@dataclass(frozen=True)
class Check:
    """One thing that can go wrong. ``cause`` is stable (``channel:3``, ``timers:dead``):
    alerts are counted per cause."""

    cause: str
    title: str
    level: str
    detail: str


@dataclass(frozen=True)
class ServiceCheck:
    """A service outside the database: ``broker`` or ``realtime``."""

    name: str
    level: str
    detail: str


ServiceProbe = Callable[[], list[ServiceCheck]]


@dataclass(frozen=True)
class ChannelHealth:
    id: int
    name: str
    kind: str
    address: str
    enabled: bool
    health: str
    detail: str
    last_polled_at: datetime | None
    level: str
    # When the channel last brought something in (a mail, a webhook event, a direct message).
    last_event_at: datetime | None = None


@dataclass(frozen=True)
class FailedOutbound:
    id: int
    kind: str
    recipient: str
    ticket_reference: str | None
    attempts: int
    last_error: str
    created_at: datetime


@dataclass(frozen=True)
class DeadTimer:
    id: int
    kind: str
    ticket_reference: str | None
    due_at: datetime
    attempts: int
    last_error: str


@dataclass(frozen=True)
class DeskHealth:
    checked_at: datetime
    channels: list[ChannelHealth]
    quarantined: int
    failed_outbound: list[FailedOutbound]  # the newest ``LISTED``
    failed_outbound_count: int
    stuck_outbound: int
    stuck_timers: int
    oldest_stuck_timer: datetime | None
    dead_timers: list[DeadTimer]  # the newest ``LISTED``
    dead_timer_count: int
    services: list[ServiceCheck]
    checks: list[Check] = field(default_factory=list)

    @property
    def status(self) -> str:
        """The worst level of any check."""
        return max((c.level for c in self.checks), key=LEVELS.index, default="ok")

    def red(self) -> list[Check]:
        return [c for c in self.checks if c.level == "red"]


def channel_level(channel: Channel, now: datetime) -> str:
    if not channel.enabled:
        return "ok"
    if channel.health == "failing":
        return "red"
    if channel.health == "degraded":
        last = channel.last_polled_at
        long_ago = channel.kind in PULLED_KINDS and (last is None or last < now - UNREACHABLE_AFTER)
        return "red" if long_ago else "warning"
    return "ok"


def desk_health(session: Session, *, now: datetime, services: Sequence[ServiceCheck]) -> DeskHealth:
    events = last_events(session)
    channels = [
        ChannelHealth(
            id=c.id or 0,
            name=c.name,
            kind=c.kind,
            address=c.address,
            enabled=c.enabled,
            health=c.health,
            detail=c.health_detail,
            last_polled_at=c.last_polled_at,
            level=channel_level(c, now),
            last_event_at=events.get(c.id or 0),
        )
        for c in session.exec(select(Channel).order_by(col(Channel.name)))
    ]
    quarantined = _count(session, InboundItem, col(InboundItem.state) == "quarantined")
    failed_count = _count(session, Outbox, col(Outbox.state) == "failed")
    stuck_outbound = _count(
        session,
        Outbox,
        or_(
            (col(Outbox.state) == "queued") & (col(Outbox.next_attempt_at) < now - STUCK_AFTER),
            (col(Outbox.state) == "sending") & (col(Outbox.lease_until) < now - STUCK_AFTER),
        ),
    )
    late = or_(
        (col(Timer.state) == "pending") & (col(Timer.due_at) < now - STUCK_AFTER),
        (col(Timer.state) == "firing") & (col(Timer.lease_until) < now - STUCK_AFTER),
    )
    stuck_timers = _count(session, Timer, late)
    oldest = session.exec(select(func.min(Timer.due_at)).where(late)).one()
    dead_count = _count(session, Timer, col(Timer.state) == "dead")
    health = DeskHealth(
        checked_at=now,
        channels=channels,
        quarantined=quarantined,
        failed_outbound=_failed_outbound(session),
        failed_outbound_count=failed_count,
        stuck_outbound=stuck_outbound,
        stuck_timers=stuck_timers,
        oldest_stuck_timer=oldest,
        dead_timers=_dead_timers(session),
        dead_timer_count=dead_count,
        services=list(services),
    )
    health.checks.extend(_checks(health))
    return health


def _checks(h: DeskHealth) -> list[Check]:
    checks = [
        Check(
            f"channel:{c.id}",
            f"{c.name} ({c.kind})",
            c.level,
            c.detail if c.level != "ok" else ("paused" if not c.enabled else c.health),
        )
        for c in h.channels
    ]
    checks += [
        Check(
            "quarantine",
            "Quarantine",
            "warning" if h.quarantined else "ok",
            f"{h.quarantined} inbound item(s) kept raw, not filed",
        ),
        Check(
            "outbox:failed",
            "Failed outbound messages",
            "red" if h.failed_outbound_count else "ok",
            f"{h.failed_outbound_count} message(s) given up on",
        ),
        Check(
            "outbox:stuck",
            "Outbound messages waiting",
            "red" if h.stuck_outbound else "ok",
            f"{h.stuck_outbound} message(s) due for more than "
            f"{int(STUCK_AFTER / timedelta(minutes=1))} minutes and not sent",
        ),
        Check(
            "timers:stuck",
            "Stuck timers",
            "red" if h.stuck_timers else "ok",
            f"{h.stuck_timers} timer(s) due for more than "
            f"{int(STUCK_AFTER / timedelta(minutes=1))} minutes and not fired",
        ),
        Check(
            "timers:dead",
            "Dead letters",
            "red" if h.dead_timer_count else "ok",
            f"{h.dead_timer_count} timer(s) that failed on every attempt",
        ),
    ]
    titles = {"broker": "Broker", "realtime": "Realtime hub"}
    checks += [Check(s.name, titles.get(s.name, s.name), s.level, s.detail) for s in h.services]
    return checks


def _count(
    session: Session, model: type[InboundItem | Outbox | Timer], condition: ColumnElement[bool]
) -> int:
    return session.exec(select(func.count()).select_from(model).where(condition)).one()


def _failed_outbound(session: Session) -> list[FailedOutbound]:
    rows = session.exec(
        select(Outbox, Ticket.reference)
        .outerjoin(Ticket, col(Ticket.id) == col(Outbox.ticket_id))
        .where(col(Outbox.state) == "failed")
        .order_by(col(Outbox.id).desc())
        .limit(LISTED)
    ).all()
    return [
        FailedOutbound(
            id=item.id or 0,
            kind=item.kind,
            recipient=item.recipient,
            ticket_reference=reference,
            attempts=item.attempts,
            last_error=item.last_error or "",
            created_at=item.created_at,
        )
        for item, reference in rows
    ]


def _dead_timers(session: Session) -> list[DeadTimer]:
    rows = session.exec(
        select(Timer, Ticket.reference)
        .outerjoin(Ticket, col(Ticket.id) == col(Timer.ticket_id))
        .where(col(Timer.state) == "dead")
        .order_by(col(Timer.id).desc())
        .limit(LISTED)
    ).all()
    return [
        DeadTimer(
            id=timer.id or 0,
            kind=timer.kind,
            ticket_reference=reference,
            due_at=timer.due_at,
            attempts=timer.attempts,
            last_error=timer.last_error or "",
        )
        for timer, reference in rows
    ]
