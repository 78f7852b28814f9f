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
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select as sql_select
from sqlalchemy import update
from sqlmodel import Session, col, select

from inbox.actions.calls import NOT_A_RESPONSE
from inbox.actions.rows import Row, insert_rows, table_of
from inbox.actions.timeline import record_system_event
from inbox.actions.timers import TimerSet
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
    known = _Known.load(session, [ticket])
    return known.policy_for(ticket)


def _matches(policy: SlaPolicy, ticket: Ticket, tags: set[str]) -> bool:
    if policy.priorities and ticket.priority not in policy.priorities:
        return False
    if policy.channel_kinds and ticket.channel_kind not in policy.channel_kinds:
        return False
    if policy.customer_tags and not tags.intersection(policy.customer_tags):
        return False
    return not (policy.team_ids and ticket.team_id not in policy.team_ids)


def _history(
    ticket: Ticket,
    messages: Iterable[tuple[datetime, str, str, str | None]],
    changes: Iterable[TicketStatusChange],
) -> list[Happening]:
    """Customer messages, agent responses and status categories, with their times.

    A response is a public reply on any channel or a call that reached the customer; notes,
    system events and automatic mail (acknowledgements, auto-replies) are not.
    """
    happenings: list[Happening] = []
    for at, kind, direction, outcome in messages:
        if kind == MessageKind.CALL_NOTE:
            if outcome is not None and outcome not in NOT_A_RESPONSE:
                happenings.append(Happening(at, RESPONSE))
        elif kind in PUBLIC_MESSAGE_KINDS and direction == Direction.INBOUND:
            happenings.append(Happening(at, CUSTOMER))
        elif kind in PUBLIC_MESSAGE_KINDS and direction == Direction.OUTBOUND:
            happenings.append(Happening(at, RESPONSE))
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


@dataclass
class _Known:
    """What recomputing a batch of tickets reads, read for the whole batch in a few queries
    instead of a few queries per ticket (a backlog of new mail brings thousands)."""

    policies: list[SlaPolicy]
    tags: dict[int, set[str]]
    clocks: dict[int, dict[str, SlaClock]]
    messages: dict[int, list[tuple[datetime, str, str, str | None]]]
    changes: dict[int, list[TicketStatusChange]]
    events: dict[int, set[EventKey]]
    timers: dict[int, dict[str, Timer]]
    calendars: dict[int | None, Calendar]
    # Written for the whole batch at the end, in a statement each.
    new_events: list[Row] = field(default_factory=list)
    new_timers: list[Row] = field(default_factory=list)

    @classmethod
    def load(cls, session: Session, tickets: list[Ticket]) -> _Known:
        ids = [t.id or 0 for t in tickets]
        known = cls(
            policies=list(
                session.exec(
                    select(SlaPolicy)
                    .where(col(SlaPolicy.enabled).is_(True), col(SlaPolicy.deleted_at).is_(None))
                    .order_by(col(SlaPolicy.position), col(SlaPolicy.id))
                )
            ),
            tags={},
            clocks={i: {} for i in ids},
            messages={i: [] for i in ids},
            changes={i: [] for i in ids},
            events={i: set() for i in ids},
            timers={i: {} for i in ids},
            calendars={},
        )
        if any(p.customer_tags for p in known.policies):
            for customer_id, tag in session.exec(
                select(CustomerTag.customer_id, CustomerTag.tag).where(
                    col(CustomerTag.customer_id).in_({t.customer_id for t in tickets})
                )
            ):
                known.tags.setdefault(customer_id, set()).add(tag)
        for clock in session.exec(select(SlaClock).where(col(SlaClock.ticket_id).in_(ids))):
            known.clocks[clock.ticket_id][clock.target] = clock
        message, call = table_of(Message).c, table_of(CallNote).c
        for ticket_id, at, kind, direction, outcome in session.execute(
            sql_select(
                message.ticket_id, message.created_at, message.kind, message.direction, call.outcome
            )
            .select_from(
                table_of(Message).outerjoin(table_of(CallNote), call.message_id == message.id)
            )
            .where(message.ticket_id.in_(ids), message.is_automatic.is_(False))
        ):
            known.messages[ticket_id].append((at, kind, direction, outcome))
        for change in session.exec(
            select(TicketStatusChange)
            .where(col(TicketStatusChange.ticket_id).in_(ids))
            .order_by(col(TicketStatusChange.at), col(TicketStatusChange.id))
        ):
            known.changes[change.ticket_id].append(change)
        for event in session.exec(
            select(SlaClockEvent).where(col(SlaClockEvent.ticket_id).in_(ids))
        ):
            known.events[event.ticket_id].add((event.target, event.cycle, event.kind, event.at))
        for timer in session.exec(
            select(Timer).where(col(Timer.ticket_id).in_(ids), col(Timer.kind).in_(TIMER_KINDS))
        ):
            if timer.key and timer.ticket_id is not None:
                known.timers[timer.ticket_id][timer.key] = timer
        return known

    def policy_for(self, ticket: Ticket) -> SlaPolicy | None:
        tags = self.tags.get(ticket.customer_id, set())
        return next((p for p in self.policies if _matches(p, ticket, tags)), None)

    def calendar(self, session: Session, policy_id: int | None) -> Calendar:
        if policy_id not in self.calendars:
            self.calendars[policy_id] = policy_calendar(session, policy_id)
        return self.calendars[policy_id]


def recompute_sla(session: Session, ticket_id: int, now: datetime) -> list[SlaClock]:
    """Bring the ticket's clocks, transitions, due time and timers up to date as of ``now``."""
    return recompute_sla_many(session, [ticket_id], now).get(ticket_id, [])


def recompute_sla_many(
    session: Session, ticket_ids: Iterable[int], now: datetime
) -> dict[int, list[SlaClock]]:
    """``recompute_sla`` for each ticket, reading what it needs for all of them at once; the
    tickets are locked in id order, so concurrent recomputes lock alike."""
    tickets = list(
        session.exec(
            select(Ticket)
            .where(col(Ticket.id).in_(sorted(set(ticket_ids))))
            .order_by(col(Ticket.id))
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )
    known = _Known.load(session, tickets)
    done = {ticket.id or 0: _recompute(session, known, ticket, now) for ticket in tickets}
    insert_rows(session, SlaClockEvent, known.new_events)
    # The tickets' rows are locked, so no other transaction sets their timers' keys meanwhile.
    for timer_id, row in zip(
        insert_rows(session, Timer, known.new_timers), known.new_timers, strict=True
    ):
        record(session, TimerSet(timer_id, row["due_at"]))
    session.flush()
    return done


def _recompute(session: Session, known: _Known, ticket: Ticket, now: datetime) -> list[SlaClock]:
    ticket_id = ticket.id or 0
    policy = known.policy_for(ticket)
    stored = known.clocks[ticket_id]
    previous_policy = next((c.policy_id for c in stored.values()), None)
    if policy is None:
        for clock in stored.values():
            session.delete(clock)
        if stored:
            known.new_events += _event_rows(
                known.events[ticket_id],
                ticket_id,
                [("policy", 0, "policy_removed", now, None)],
                None,
            )
        ticket.sla_due_at = None
        session.add(ticket)
        _sync_timers(session, known, ticket_id, {})
        return []
    calendar = known.calendar(session, policy.id)
    result = replay(
        calendar,
        created_at=ticket.created_at,
        happenings=_history(ticket, known.messages[ticket_id], known.changes[ticket_id]),
        targets=_targets(policy, ticket.priority),
        now=now,
    )
    if stored and previous_policy != policy.id:
        known.new_events += _event_rows(
            known.events[ticket_id],
            ticket_id,
            [("policy", 0, "policy_changed", now, None)],
            policy.id,
            policy.name,
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
    known.new_events += _event_rows(
        known.events[ticket_id],
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
    _sync_timers(
        session, known, ticket_id, _wanted_timers(calendar, policy, result.clocks.values())
    )
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


EventKey = tuple[str, int, str, datetime]


def _event_rows(
    seen: set[EventKey],
    ticket_id: int,
    events: list[tuple[str, int, str, datetime, datetime | None]],
    policy_id: int | None,
    detail: str = "",
) -> list[Row]:
    """Rows for the transitions not in ``seen`` (the ticket's recorded ones), added to it."""
    rows: list[Row] = []
    for target, cycle, kind, at, due_at in events:
        if (target, cycle, kind, at) in seen:
            continue
        seen.add((target, cycle, kind, at))
        rows.append(
            {
                "ticket_id": ticket_id,
                "target": target,
                "cycle": cycle,
                "kind": kind,
                "at": at,
                "due_at": due_at,
                "policy_id": policy_id,
                "detail": detail[:200],
            }
        )
    return rows


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


def _sync_timers(
    session: Session, known: _Known, ticket_id: int, wanted: dict[str, _WantedTimer]
) -> None:
    """Set the wanted timers, move those whose moment changed, cancel the rest.

    Keys carry ticket, target, cycle and purpose, not the moment: each fires at most once,
    and a timer cancelled by a pause is set again on resuming.
    """
    prefix = f"sla:{ticket_id}:"
    existing = dict(known.timers[ticket_id])
    new: list[Row] = []
    for name, want in wanted.items():
        key = prefix + name
        timer = existing.pop(key, None)
        if timer is None:
            new.append(
                {
                    "kind": want.kind,
                    "due_at": want.due_at,
                    "key": key,
                    "ticket_id": ticket_id,
                    "payload": dict(want.payload),
                }
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
    known.new_timers += new
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
        seen = {
            (e.target, e.cycle, e.kind, e.at)
            for e in session.exec(select(SlaClockEvent).where(SlaClockEvent.ticket_id == ticket_id))
        }
        insert_rows(
            session, SlaClockEvent, _event_rows(seen, ticket_id, [warning], clock.policy_id)
        )
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
