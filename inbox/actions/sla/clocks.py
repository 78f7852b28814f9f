"""SLA clocks: choosing a ticket's policy, recomputing its clocks from its history, and the
warning and breach timers.

``recompute_sla`` is the one writer of clocks. It replays the ticket's own history
(``inbox.rules.sla_clocks``) under the policy that matches the ticket now, so running it twice
changes nothing, and a change of priority, team or policy applies to the whole ticket. It
stores each clock, the transitions not recorded yet, ``ticket.sla_due_at``, and one pending
timer per warning and deadline still ahead; a timer set for a moment that no longer
applies is cancelled, and one that fires anyway re-checks the clock and does nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from inbox.actions.calls import NOT_A_RESPONSE
from inbox.actions.timeline import record_system_event
from inbox.actions.timers import TimerSet, set_timer
from inbox.events import Event, record
from inbox.models import (
    CallNote,
    CustomerTag,
    Message,
    SlaClock,
    SlaClockEvent,
    SlaPolicy,
    Ticket,
    TicketStatusChange,
    Timer,
)
from inbox.models.kinds import PUBLIC_MESSAGE_KINDS, Direction, MessageKind
from inbox.queries.sla import TARGET_LABELS, policy_calendar
from inbox.rules.business_time import Calendar, add_business_time
from inbox.rules.sla_clocks import CUSTOMER, RESPONSE, STATUS, Clock, Happening, Targets, replay

TIMER_KINDS = ("sla_warning", "sla_breach")


@dataclass(frozen=True)
class SlaSettingsChanged(Event):
    """A policy or calendar changed: the clocks of unresolved tickets are recomputed."""


def matching_policy(session: Session, ticket: Ticket) -> SlaPolicy | None:
    """The first enabled policy, by position, whose every condition the ticket meets."""
    tags = set(
        session.exec(select(CustomerTag.tag).where(CustomerTag.customer_id == ticket.customer_id))
    )
    policies = session.exec(
        select(SlaPolicy)
        .where(col(SlaPolicy.enabled).is_(True), col(SlaPolicy.deleted_at).is_(None))
        .order_by(col(SlaPolicy.position), col(SlaPolicy.id))
    )
    for policy in policies:
        if policy.priorities and ticket.priority not in policy.priorities:
            continue
        if policy.channel_kinds and ticket.channel_kind not in policy.channel_kinds:
            continue
        if policy.customer_tags and not tags.intersection(policy.customer_tags):
            continue
        if policy.team_ids and ticket.team_id not in policy.team_ids:
            continue
        return policy
    return None


def ticket_history(session: Session, ticket: Ticket) -> list[Happening]:
    """Customer messages, agent responses and status categories, with their times.

    A response is a public reply on any channel or a call that reached the customer; notes,
    system events and automatic mail (acknowledgements, auto-replies) are not.
    """
    happenings: list[Happening] = []
    rows = session.exec(
        select(Message.created_at, Message.kind, Message.direction, CallNote.outcome)
        .outerjoin(CallNote, col(CallNote.message_id) == col(Message.id))
        .where(Message.ticket_id == ticket.id, col(Message.is_automatic).is_(False))
    ).all()
    for at, kind, direction, outcome in rows:
        if kind == MessageKind.CALL_NOTE:
            if outcome is not None and outcome not in NOT_A_RESPONSE:
                happenings.append(Happening(at, RESPONSE))
        elif kind in PUBLIC_MESSAGE_KINDS and direction == Direction.INBOUND:
            happenings.append(Happening(at, CUSTOMER))
        elif kind in PUBLIC_MESSAGE_KINDS and direction == Direction.OUTBOUND:
            happenings.append(Happening(at, RESPONSE))
    changes = session.exec(
        select(TicketStatusChange)
        .where(TicketStatusChange.ticket_id == ticket.id)
        .order_by(col(TicketStatusChange.at), col(TicketStatusChange.id))
    ).all()
    last = "new"
    last_at = ticket.created_at
    for change in changes:
        happenings.append(Happening(change.at, STATUS, change.category))
        last, last_at = change.category, change.at
    if last != ticket.status_category:
        # Changed without the ORM (a bulk UPDATE, a ticket from before the history existed).
        happenings.append(
            Happening(max(ticket.updated_at, last_at), STATUS, ticket.status_category)
        )
    return happenings


def recompute_sla(session: Session, ticket_id: int, now: datetime) -> list[SlaClock]:
    """Bring the ticket's clocks, transitions, due time and timers up to date as of ``now``."""
    ticket = session.get(Ticket, ticket_id, with_for_update=True, populate_existing=True)
    if ticket is None:
        return []
    policy = matching_policy(session, ticket)
    stored = {
        clock.target: clock
        for clock in session.exec(select(SlaClock).where(SlaClock.ticket_id == ticket_id))
    }
    previous_policy = next((c.policy_id for c in stored.values()), None)
    if policy is None:
        for clock in stored.values():
            session.delete(clock)
        if stored:
            _record_events(session, ticket_id, [("policy", 0, "policy_removed", now, None)], None)
        ticket.sla_due_at = None
        session.add(ticket)
        _sync_timers(session, ticket_id, {})
        return []
    calendar = policy_calendar(session, policy.id)
    result = replay(
        calendar,
        created_at=ticket.created_at,
        happenings=ticket_history(session, ticket),
        targets=_targets(policy, ticket.priority),
        now=now,
    )
    if stored and previous_policy != policy.id:
        _record_events(
            session, ticket_id, [("policy", 0, "policy_changed", now, None)], policy.id, policy.name
        )
    for target, clock in stored.items():
        if target not in result.clocks:
            session.delete(clock)
    clocks = []
    for target, live in result.clocks.items():
        row = stored.get(target) or SlaClock(
            ticket_id=ticket_id, target=target, state="running", target_minutes=0, started_at=now
        )
        row.policy_id = policy.id
        row.cycle = live.cycle
        row.state = live.state
        row.target_minutes = int(live.limit / timedelta(minutes=1))
        row.started_at = live.started_at
        row.due_at = live.due_at
        row.stopped_at = live.stopped_at
        row.breached_at = live.breached_at
        row.remaining_seconds = int(live.remaining(now).total_seconds())
        row.computed_at = now
        session.add(row)
        clocks.append(row)
    _record_events(
        session,
        ticket_id,
        [(t.target, t.cycle, t.kind, t.at, t.due_at) for t in result.transitions],
        policy.id,
    )
    running = [
        c.due_at
        for c in result.clocks.values()
        if c.active and c.running_since is not None and c.due_at is not None
    ]
    ticket.sla_due_at = min(running) if running else None
    session.add(ticket)
    _sync_timers(session, ticket_id, _wanted_timers(calendar, policy, result.clocks.values()))
    session.flush()
    return clocks


def _targets(policy: SlaPolicy, priority: str) -> Targets:
    """The policy's targets, those it sets for ``priority`` taking precedence."""
    own = (policy.priority_targets or {}).get(priority, {})

    def minutes(target: str, value: int | None) -> timedelta | None:
        value = own.get(target, value)
        return timedelta(minutes=value) if value else None

    return Targets(
        first_response=minutes("first_response", policy.first_response_minutes),
        next_response=minutes("next_response", policy.next_response_minutes),
        resolution=minutes("resolution", policy.resolution_minutes),
    )


def _record_events(
    session: Session,
    ticket_id: int,
    events: list[tuple[str, int, str, datetime, datetime | None]],
    policy_id: int | None,
    detail: str = "",
) -> None:
    known = {
        (e.target, e.cycle, e.kind, e.at)
        for e in session.exec(select(SlaClockEvent).where(SlaClockEvent.ticket_id == ticket_id))
    }
    for target, cycle, kind, at, due_at in events:
        if (target, cycle, kind, at) in known:
            continue
        known.add((target, cycle, kind, at))
        session.add(
            SlaClockEvent(
                ticket_id=ticket_id,
                target=target,
                cycle=cycle,
                kind=kind,
                at=at,
                due_at=due_at,
                policy_id=policy_id,
                detail=detail[:200],
            )
        )


@dataclass(frozen=True)
class _WantedTimer:
    kind: str
    due_at: datetime
    payload: dict[str, object]


def _wanted_timers(
    calendar: Calendar, policy: SlaPolicy, clocks: Iterable[Clock]
) -> dict[str, _WantedTimer]:
    """Per running clock: its warnings still ahead and its deadline, keyed once per cycle."""
    wanted: dict[str, _WantedTimer] = {}
    for clock in clocks:
        if not clock.active or clock.running_since is None or clock.breached_at is not None:
            continue
        base = f"{clock.target}:{clock.cycle}"
        for percent in sorted(set(policy.warn_percents)):
            if not 0 < percent < 100:
                continue
            threshold = clock.limit * percent / 100
            if clock.used >= threshold:
                continue
            due = add_business_time(calendar, clock.running_since, threshold - clock.used)
            wanted[f"{base}:warn{percent}"] = _WantedTimer(
                "sla_warning",
                due,
                {"target": clock.target, "cycle": clock.cycle, "percent": percent},
            )
        assert clock.due_at is not None
        wanted[f"{base}:breach"] = _WantedTimer(
            "sla_breach", clock.due_at, {"target": clock.target, "cycle": clock.cycle}
        )
    return wanted


def _sync_timers(session: Session, ticket_id: int, wanted: dict[str, _WantedTimer]) -> None:
    """Set the wanted timers, move those whose moment changed, cancel the rest.

    Keys carry ticket, target, cycle and purpose, not the moment: each fires at most once,
    and a timer cancelled by a pause is set again on resuming.
    """
    prefix = f"sla:{ticket_id}:"
    existing = {
        timer.key: timer
        for timer in session.exec(
            select(Timer).where(Timer.ticket_id == ticket_id, col(Timer.kind).in_(TIMER_KINDS))
        )
        if timer.key
    }
    for name, want in wanted.items():
        key = prefix + name
        timer = existing.pop(key, None)
        if timer is None:
            set_timer(
                session,
                kind=want.kind,
                due_at=want.due_at,
                key=key,
                ticket_id=ticket_id,
                payload=dict(want.payload),
            )
        elif timer.state == "cancelled" or (
            timer.state == "pending" and timer.due_at != want.due_at
        ):
            session.execute(
                update(Timer)
                .where(col(Timer.id) == timer.id, col(Timer.state).in_(("pending", "cancelled")))
                .values(state="pending", due_at=want.due_at, lease_until=None)
            )
            record(session, TimerSet(timer.id or 0, want.due_at))
    stale = [timer.id for timer in existing.values() if timer.state == "pending"]
    if stale:
        session.execute(
            update(Timer)
            .where(col(Timer.id).in_(stale), col(Timer.state) == "pending")
            .values(state="cancelled", lease_until=None)
        )


@dataclass(frozen=True)
class SlaMoment:
    """A warning or deadline that came while its clock was still running: what escalation
    rules act on (``inbox.actions.sla.escalations``)."""

    ticket_id: int
    target: str
    cycle: int
    trigger: str  # warning, breach
    percent: int | None
    due_at: datetime | None
    policy_id: int | None

    @property
    def key(self) -> str:
        """Names the moment once: ticket, target, cycle, and which warning or the breach."""
        which = f"warn{self.percent}" if self.trigger == "warning" else "breach"
        return f"{self.ticket_id}:{self.target}:{self.cycle}:{which}"


def fire_sla_timer(
    session: Session, *, kind: str, ticket_id: int, payload: dict[str, object], now: datetime
) -> bool:
    """A warning or deadline came: recompute, then tell the ticket if the clock is still
    running in the same cycle. False when the ticket was answered, paused or closed."""
    return (
        fire_sla_moment(session, kind=kind, ticket_id=ticket_id, payload=payload, now=now)
        is not None
    )


def fire_sla_moment(
    session: Session, *, kind: str, ticket_id: int, payload: dict[str, object], now: datetime
) -> SlaMoment | None:
    """``fire_sla_timer``, returning the moment that came, or None when it no longer applies."""
    recompute_sla(session, ticket_id, now)
    target = str(payload.get("target"))
    clock = session.exec(
        select(SlaClock).where(SlaClock.ticket_id == ticket_id, SlaClock.target == target)
    ).first()
    ticket = session.get(Ticket, ticket_id)
    if (
        clock is None
        or ticket is None
        or clock.cycle != payload.get("cycle")
        or clock.stopped_at is not None
        or clock.state == "paused"
    ):
        return None
    label = TARGET_LABELS.get(target, target)
    due = clock.due_at.strftime("%Y-%m-%d %H:%M UTC") if clock.due_at else "?"
    percent: int | None = None
    if kind == "sla_breach":
        if clock.state != "breached":
            return None
        text = f"SLA: {label} target missed (was due {due})"
    else:
        if clock.state != "running":
            return None
        percent = int(str(payload.get("percent")))
        warning = (target, clock.cycle, f"warning_{percent}", now, clock.due_at)
        _record_events(session, ticket_id, [warning], clock.policy_id)
        text = f"SLA: {percent}% of the {label.lower()} target used, due {due}"
    record_system_event(session, ticket, None, text)
    return SlaMoment(
        ticket_id=ticket_id,
        target=target,
        cycle=clock.cycle,
        trigger="breach" if kind == "sla_breach" else "warning",
        percent=percent,
        due_at=clock.due_at,
        policy_id=clock.policy_id,
    )
