"""Writing SLA policies, business calendars and customer tags (administrators only).

A policy sets a target in business minutes for first response, next response and
resolution, and may set other ones for some priorities (``priority_targets``). A deleted
policy matches no ticket any more and leaves the lists, but stays for the clocks and reports
of the tickets it governed; the desk's last policy cannot be deleted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from inbox.actions.audit import record_audit
from inbox.actions.sla.clocks import SlaSettingsChanged
from inbox.errors import Conflict, InvalidInput, NotFound
from inbox.events import record
from inbox.models import (
    PRIORITIES,
    SLA_TARGETS,
    Agent,
    BusinessCalendar,
    CustomerTag,
    SlaEscalationRule,
    SlaPolicy,
    Team,
    utcnow,
)
from inbox.models.kinds import ChannelKind
from inbox.queries.sla import calendar_of
from inbox.rules.business_time import WEEKDAYS, CalendarError, format_clock, parse_clock

MAX_TARGET_MINUTES = 60 * 24 * 365


@dataclass
class CalendarFields:
    name: str
    timezone: str = "UTC"
    always_open: bool = False
    # {"mon": [("09:00", "17:00")], ...}
    weekly_hours: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    holiday_country: str | None = None
    holiday_subdivision: str | None = None
    closed_dates: list[str] = field(default_factory=list)


@dataclass
class PolicyFields:
    name: str
    calendar_id: int | None = None
    position: int = 0
    enabled: bool = True
    priorities: list[str] = field(default_factory=list)
    channel_kinds: list[str] = field(default_factory=list)
    customer_tags: list[str] = field(default_factory=list)
    team_ids: list[int] = field(default_factory=list)
    first_response_minutes: int | None = None
    next_response_minutes: int | None = None
    resolution_minutes: int | None = None
    # The chat report's target for a chat's first answer, in minutes (not a clock of its own).
    chat_target_minutes: int | None = None
    warn_percents: list[int] = field(default_factory=lambda: [75, 90])
    # {"urgent": {"first_response": 60, "resolution": 480}}: targets of those priorities
    # that differ from the ones above.
    priority_targets: dict[str, dict[str, int]] = field(default_factory=dict)


def parse_weekly_hours(text: str) -> dict[str, list[tuple[str, str]]]:
    """``mon 09:00-17:00`` per line; several ranges on one line for a break; days left out
    are closed."""
    hours: dict[str, list[tuple[str, str]]] = {}
    for line in text.splitlines():
        words = line.replace(",", " ").split()
        if not words:
            continue
        day = words[0].lower()[:3]
        if day not in WEEKDAYS:
            raise InvalidInput(f"a line of hours starts with a weekday: {line.strip()!r}")
        for span in words[1:]:
            start, _, end = span.partition("-")
            try:
                hours.setdefault(day, []).append(
                    (format_clock(parse_clock(start)), format_clock(parse_clock(end)))
                )
            except CalendarError as exc:
                raise InvalidInput(str(exc)) from exc
    return hours


def format_weekly_hours(hours: dict[str, list[list[str]]]) -> str:
    return "\n".join(
        f"{day} " + " ".join(f"{a}-{b}" for a, b in hours[day]) for day in WEEKDAYS if day in hours
    )


def save_calendar(
    session: Session, fields: CalendarFields, *, actor: Agent | None, calendar_id: int | None = None
) -> BusinessCalendar:
    name = fields.name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("a calendar needs a name of at most 100 characters")
    row = _existing(session, BusinessCalendar, calendar_id) or BusinessCalendar(name=name)
    row.name = name
    row.timezone = fields.timezone.strip() or "UTC"
    row.always_open = fields.always_open
    row.weekly_hours = {
        day: [list(pair) for pair in spans] for day, spans in fields.weekly_hours.items()
    }
    row.holiday_country = (fields.holiday_country or "").strip().upper() or None
    row.holiday_subdivision = (fields.holiday_subdivision or "").strip().upper() or None
    try:
        row.closed_dates = sorted(
            {date.fromisoformat(d.strip()).isoformat() for d in fields.closed_dates if d.strip()}
        )
        calendar_of(row)
    except (CalendarError, ValueError) as exc:
        raise InvalidInput(str(exc)) from exc
    _save(session, row, "a calendar with that name exists")
    record_audit(
        session,
        "sla.calendar_saved",
        actor=actor,
        target_type="business_calendar",
        target_id=str(row.id),
        detail={"name": row.name},
    )
    record(session, SlaSettingsChanged())
    return row


def save_policy(
    session: Session, fields: PolicyFields, *, actor: Agent | None, policy_id: int | None = None
) -> SlaPolicy:
    name = fields.name.strip()
    if not name or len(name) > 100:
        raise InvalidInput("a policy needs a name of at most 100 characters")
    if fields.calendar_id is not None and session.get(BusinessCalendar, fields.calendar_id) is None:
        raise InvalidInput("no such calendar")
    if not set(fields.priorities) <= set(PRIORITIES):
        raise InvalidInput(f"priorities are {', '.join(PRIORITIES)}")
    if not set(fields.channel_kinds) <= set(ChannelKind):
        raise InvalidInput(f"channel kinds are {', '.join(ChannelKind)}")
    for team_id in fields.team_ids:
        if session.get(Team, team_id) is None:
            raise InvalidInput("no such team")
    targets = [
        fields.first_response_minutes,
        fields.next_response_minutes,
        fields.resolution_minutes,
    ]
    by_priority = _priority_targets(fields.priority_targets)
    targets += [t for per in by_priority.values() for t in per.values()]
    if all(t is None for t in targets):
        raise InvalidInput("a policy needs at least one target")
    if any(t is not None and not 0 < t <= MAX_TARGET_MINUTES for t in targets):
        raise InvalidInput("targets are business minutes, more than 0 and at most a year")
    chat_target = fields.chat_target_minutes
    if chat_target is not None and not 0 < chat_target <= MAX_TARGET_MINUTES:
        raise InvalidInput("the chat target is minutes, more than 0 and at most a year")
    if any(not 0 < p < 100 for p in fields.warn_percents):
        raise InvalidInput("warnings are percentages between 1 and 99")
    row = _existing(session, SlaPolicy, policy_id) or SlaPolicy(name=name)
    if row.deleted_at is not None:
        raise NotFound("no such policy")
    row.name = name
    row.calendar_id = fields.calendar_id
    row.position = fields.position
    row.enabled = fields.enabled
    row.priorities = sorted(set(fields.priorities))
    row.channel_kinds = sorted(set(fields.channel_kinds))
    row.customer_tags = sorted({t.strip().lower() for t in fields.customer_tags if t.strip()})
    row.team_ids = sorted(set(fields.team_ids))
    row.first_response_minutes = fields.first_response_minutes
    row.next_response_minutes = fields.next_response_minutes
    row.resolution_minutes = fields.resolution_minutes
    row.chat_target_minutes = chat_target
    row.warn_percents = sorted(set(fields.warn_percents))
    row.priority_targets = by_priority
    row.updated_at = utcnow()
    _save(session, row, "a policy with that name exists")
    record_audit(
        session,
        "sla.policy_saved",
        actor=actor,
        target_type="sla_policy",
        target_id=str(row.id),
        detail={"name": row.name},
    )
    record(session, SlaSettingsChanged())
    return row


def _priority_targets(given: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    unknown = set(given) - set(PRIORITIES)
    if unknown:
        raise InvalidInput(f"priorities are {', '.join(PRIORITIES)}")
    kept: dict[str, dict[str, int]] = {}
    for priority in PRIORITIES:
        per = given.get(priority) or {}
        if set(per) - set(SLA_TARGETS):
            raise InvalidInput(f"targets are {', '.join(SLA_TARGETS)}")
        if per:
            kept[priority] = {target: per[target] for target in SLA_TARGETS if target in per}
    return kept


def delete_policy(session: Session, policy_id: int, *, actor: Agent | None) -> SlaPolicy:
    """Tickets under it move to the next policy that matches them (their clocks are
    recomputed); its escalation rules go with it. The last policy stays: without one, no
    ticket would have SLA clocks."""
    row = _existing(session, SlaPolicy, policy_id)
    assert row is not None
    if row.deleted_at is not None:
        raise NotFound("no such policy")
    others = session.exec(
        select(SlaPolicy.id).where(SlaPolicy.id != row.id, col(SlaPolicy.deleted_at).is_(None))
    ).first()
    if others is None:
        raise Conflict("the only policy cannot be deleted: edit it, or add another first")
    name = row.name
    now = utcnow()
    row.deleted_at = now
    row.enabled = False
    row.updated_at = now
    # Frees the name for a new policy; the reports still show what it was.
    row.name = f"{name} (deleted {now:%Y-%m-%d %H:%M})"[:100]
    session.add(row)
    for rule in session.exec(
        select(SlaEscalationRule).where(SlaEscalationRule.policy_id == row.id)
    ):
        rule.enabled = False
        session.add(rule)
    session.flush()
    record_audit(
        session,
        "sla.policy_deleted",
        actor=actor,
        target_type="sla_policy",
        target_id=str(row.id),
        detail={"name": name},
    )
    record(session, SlaSettingsChanged())
    return row


def tag_customer(session: Session, customer_id: int, tag: str) -> None:
    """Label a customer (``vip``) for policies to match; tagging twice changes nothing."""
    tag = tag.strip().lower()[:64]
    if not tag:
        raise InvalidInput("a tag needs text")
    found = session.exec(
        select(CustomerTag).where(CustomerTag.customer_id == customer_id, CustomerTag.tag == tag)
    ).first()
    if found is None:
        session.add(CustomerTag(customer_id=customer_id, tag=tag))
        session.flush()
        record(session, SlaSettingsChanged())


_Row = TypeVar("_Row", BusinessCalendar, SlaPolicy)


def _existing(session: Session, model: type[_Row], row_id: int | None) -> _Row | None:
    if row_id is None:
        return None
    row = session.get(model, row_id)
    if row is None:
        raise NotFound("no such row")
    return row


def _save(session: Session, row: BusinessCalendar | SlaPolicy, taken: str) -> None:
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError as exc:
        raise Conflict(taken) from exc
