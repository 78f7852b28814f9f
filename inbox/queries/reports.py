"""Manager reports on SLA clocks: compliance, response and resolution times, breaches,
backlog by age, volume per channel per day, satisfaction.

A report covers the tickets created between two dates (inclusive) in a time zone and that
the viewer may see (``scope_clause``). The work is done in SQL: grouped counts, and for the
time figures one narrow column pair per stopped clock, whose median and 90th percentile are
taken here. No ORM object is loaded per ticket.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, and_, case, cast, func, literal_column
from sqlalchemy import select as sa_select
from sqlalchemy.types import Float
from sqlmodel import Session, col, select

from inbox.errors import InvalidInput
from inbox.models import Agent, BusinessCalendar, Channel, SlaClock, SlaPolicy, Team, Ticket
from inbox.models.sla import SLA_TARGETS
from inbox.queries.followups import satisfaction_summary
from inbox.queries.sla import TARGET_LABELS
from inbox.queries.tickets import Viewer, scope_clause

GROUPS = ("policy", "channel", "team", "agent", "priority")
TIMED_TARGETS = ("first_response", "resolution")
MAX_DAYS = 366
DEFAULT_DAYS = 30
BREACH_LIMIT = 200
DRILLDOWN_LIMIT = 500
UNRESOLVED = ("resolved", "closed")
# Ages of unresolved tickets, in days: [low, high).
BACKLOG_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("under 1 day", 0, 1),
    ("1-3 days", 1, 3),
    ("3-7 days", 3, 7),
    ("7-30 days", 7, 30),
    ("over 30 days", 30, None),
)
NONE_KEY = "none"


@dataclass(frozen=True)
class ReportRange:
    """Whole local days ``start`` to ``end`` (both included) in ``tz``."""

    start: date
    end: date
    tz: ZoneInfo

    @property
    def starts_at(self) -> datetime:
        return local_midnight(self.start, self.tz)

    @property
    def ends_at(self) -> datetime:
        """The first instant after the range."""
        return local_midnight(self.end + timedelta(days=1), self.tz)

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)


def desk_timezone(session: Session) -> str:
    """The desk's zone: that of its first business calendar; UTC without one."""
    zone = session.exec(
        select(BusinessCalendar.timezone).order_by(col(BusinessCalendar.id)).limit(1)
    ).first()
    return zone or "UTC"


def parse_range(
    start: str | None, end: str | None, tz: str | None, *, default_tz: str, now: datetime
) -> ReportRange:
    """Validates the report's parameters: ISO dates, an IANA zone, at most a year."""
    zone_name = (tz or default_tz).strip()
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(f"unknown time zone {zone_name!r}") from exc
    today = now.astimezone(zone).date()
    try:
        last = date.fromisoformat(end) if end else today
        first = date.fromisoformat(start) if start else last - timedelta(days=DEFAULT_DAYS - 1)
    except ValueError as exc:
        raise InvalidInput("from and to must be dates, YYYY-MM-DD") from exc
    if first > last:
        raise InvalidInput("from must not come after to")
    if (last - first).days + 1 > MAX_DAYS:
        raise InvalidInput(f"a report covers at most {MAX_DAYS} days")
    return ReportRange(first, last, zone)


def check_group(group_by: str | None) -> str:
    group = group_by or "policy"
    if group not in GROUPS:
        raise InvalidInput(f"group_by must be one of {', '.join(GROUPS)}")
    return group


def _group_column(group: str) -> Any:
    return {
        "policy": col(SlaClock.policy_id),
        "channel": col(Ticket.channel_id),
        "team": col(Ticket.team_id),
        "agent": col(Ticket.assignee_id),
        "priority": col(Ticket.priority),
    }[group]


def _conditions(viewer: Viewer, rng: ReportRange) -> list[ColumnElement[bool]]:
    conditions = [
        col(Ticket.created_at) >= rng.starts_at,
        col(Ticket.created_at) < rng.ends_at,
    ]
    scope = scope_clause(viewer)
    if scope is not None:
        conditions.append(scope)
    return conditions


def _labels(session: Session, group: str, keys: set[Any]) -> dict[Any, str]:
    ids = sorted(k for k in keys if isinstance(k, int))
    model_column: dict[str, tuple[Any, Any]] = {
        "policy": (SlaPolicy.id, SlaPolicy.name),
        "channel": (Channel.id, Channel.name),
        "team": (Team.id, Team.name),
        "agent": (Agent.id, Agent.email),
    }
    if group not in model_column or not ids:
        return {k: str(k) for k in keys if k is not None}
    key_col, name_col = model_column[group]
    return dict(session.exec(select(key_col, name_col).where(col(key_col).in_(ids))).all())


@dataclass
class Compliance:
    """One target in one group: clocks met, breached, and still undecided."""

    target: str
    group_key: str
    group_label: str
    met: int
    breached: int
    open: int

    @property
    def label(self) -> str:
        return TARGET_LABELS.get(self.target, self.target)

    @property
    def decided(self) -> int:
        return self.met + self.breached

    @property
    def percent(self) -> float | None:
        """Share of decided clocks that were met; None when none is decided yet."""
        return round(100 * self.met / self.decided, 1) if self.decided else None


def compliance(session: Session, viewer: Viewer, rng: ReportRange, group: str) -> list[Compliance]:
    group_col = _group_column(group)
    breached = col(SlaClock.breached_at).is_not(None)
    met = and_(col(SlaClock.state) == "met", col(SlaClock.breached_at).is_(None))
    rows = session.execute(
        sa_select(
            col(SlaClock.target),
            group_col,
            func.sum(case((met, 1), else_=0)),
            func.sum(case((breached, 1), else_=0)),
            func.count(),
        )
        .join(Ticket, col(Ticket.id) == col(SlaClock.ticket_id))
        .where(*_conditions(viewer, rng))
        .group_by(col(SlaClock.target), group_col)
    ).all()
    labels = _labels(session, group, {row[1] for row in rows})
    result = [
        Compliance(
            target=target,
            group_key=NONE_KEY if key is None else str(key),
            group_label="(none)" if key is None else labels.get(key, str(key)),
            met=int(n_met or 0),
            breached=int(n_breached or 0),
            open=int(total) - int(n_met or 0) - int(n_breached or 0),
        )
        for target, key, n_met, n_breached, total in rows
    ]
    order = {t: i for i, t in enumerate(SLA_TARGETS)}
    return sorted(result, key=lambda c: (order.get(c.target, 9), c.group_label))


def compliance_totals(rows: Sequence[Compliance]) -> list[Compliance]:
    """Per target, every group together."""
    totals: dict[str, Compliance] = {}
    for row in rows:
        total = totals.setdefault(row.target, Compliance(row.target, "", "All", 0, 0, 0))
        total.met += row.met
        total.breached += row.breached
        total.open += row.open
    return list(totals.values())


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest rank: the smallest value with at least ``share`` of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def median(values: Sequence[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


@dataclass
class TimeFigures:
    """How long a target took, over its clocks that stopped: business minutes as the clock
    counts them (opening hours, pauses left out) and calendar minutes from start to stop."""

    target: str
    count: int
    business_median: float | None
    business_p90: float | None
    calendar_median: float | None
    calendar_p90: float | None

    @property
    def label(self) -> str:
        return TARGET_LABELS.get(self.target, self.target)


def _calendar_seconds(session: Session) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", col(SlaClock.stopped_at) - col(SlaClock.started_at))
    return (
        func.julianday(col(SlaClock.stopped_at)) - func.julianday(col(SlaClock.started_at))
    ) * literal_column("86400.0")


def _used_seconds() -> Any:
    return col(SlaClock.target_minutes) * 60 - col(SlaClock.remaining_seconds)


def time_figures(session: Session, viewer: Viewer, rng: ReportRange) -> list[TimeFigures]:
    rows = session.execute(
        sa_select(col(SlaClock.target), _used_seconds(), cast(_calendar_seconds(session), Float))
        .join(Ticket, col(Ticket.id) == col(SlaClock.ticket_id))
        .where(
            col(SlaClock.target).in_(TIMED_TARGETS),
            col(SlaClock.stopped_at).is_not(None),
            *_conditions(viewer, rng),
        )
    ).all()
    business: dict[str, list[float]] = {t: [] for t in TIMED_TARGETS}
    calendar: dict[str, list[float]] = {t: [] for t in TIMED_TARGETS}
    for target, used, elapsed in rows:
        business[target].append(used / 60)
        calendar[target].append(round(float(elapsed or 0)) / 60)

    def rounded(value: float | None) -> float | None:
        return None if value is None else round(value, 1)

    return [
        TimeFigures(
            target=target,
            count=len(business[target]),
            business_median=rounded(median(business[target])),
            business_p90=rounded(percentile(business[target], 0.9)),
            calendar_median=rounded(median(calendar[target])),
            calendar_p90=rounded(percentile(calendar[target], 0.9)),
        )
        for target in TIMED_TARGETS
    ]


@dataclass
class ClockRow:
    """One target of one ticket, as the export and the breach list show it."""

    reference: str
    subject: str
    target: str
    policy: str
    state: str
    started_at: datetime
    due_at: datetime | None
    met_at: datetime | None
    breached_at: datetime | None
    business_minutes_used: float
    channel: str
    team: str
    assignee: str
    priority: str

    @property
    def label(self) -> str:
        return TARGET_LABELS.get(self.target, self.target)


def _clock_rows(
    session: Session, conditions: list[ColumnElement[bool]], *, newest_breach_first: bool = False
) -> Any:
    query = (
        sa_select(
            col(Ticket.reference),
            col(Ticket.subject),
            col(SlaClock.target),
            col(SlaPolicy.name),
            col(SlaClock.state),
            col(SlaClock.started_at),
            col(SlaClock.due_at),
            col(SlaClock.stopped_at),
            col(SlaClock.breached_at),
            _used_seconds(),
            col(Channel.name),
            col(Team.name),
            col(Agent.email),
            col(Ticket.priority),
        )
        .join(Ticket, col(Ticket.id) == col(SlaClock.ticket_id))
        .outerjoin(SlaPolicy, col(SlaPolicy.id) == col(SlaClock.policy_id))
        .outerjoin(Channel, col(Channel.id) == col(Ticket.channel_id))
        .outerjoin(Team, col(Team.id) == col(Ticket.team_id))
        .outerjoin(Agent, col(Agent.id) == col(Ticket.assignee_id))
        .where(*conditions)
    )
    if newest_breach_first:
        return query.order_by(col(SlaClock.breached_at).desc(), col(SlaClock.id))
    return query.order_by(col(Ticket.created_at), col(Ticket.id), col(SlaClock.target))


def _to_clock_row(row: Sequence[Any]) -> ClockRow:
    (reference, subject, target, policy, state, started, due, stopped, breached, used) = row[:10]
    channel, team, assignee, priority = row[10:]
    return ClockRow(
        reference=reference,
        subject=subject,
        target=target,
        policy=policy or "",
        state=state,
        started_at=started,
        due_at=due,
        met_at=stopped if state == "met" and breached is None else None,
        breached_at=breached,
        business_minutes_used=round(used / 60, 1),
        channel=channel or "",
        team=team or "",
        assignee=assignee or "",
        priority=priority,
    )


def export_rows(session: Session, viewer: Viewer, rng: ReportRange) -> list[ClockRow]:
    """Every clock of the report's tickets, one row per ticket and target."""
    rows = session.execute(_clock_rows(session, _conditions(viewer, rng))).all()
    return [_to_clock_row(row) for row in rows]


def breaches(
    session: Session, viewer: Viewer, rng: ReportRange, *, limit: int = BREACH_LIMIT
) -> list[ClockRow]:
    newest = (
        sa_select(col(SlaClock.id))
        .join(Ticket, col(Ticket.id) == col(SlaClock.ticket_id))
        .where(col(SlaClock.breached_at).is_not(None), *_conditions(viewer, rng))
        .order_by(col(SlaClock.breached_at).desc(), col(SlaClock.id))
        .limit(limit)
    )
    ids = list(session.execute(newest).scalars())
    if not ids:
        return []
    query = _clock_rows(session, [col(SlaClock.id).in_(ids)], newest_breach_first=True)
    return [_to_clock_row(row) for row in session.execute(query).all()]


@dataclass
class BacklogBucket:
    label: str
    index: int
    count: int


def _age_thresholds(now: datetime) -> list[tuple[datetime, datetime | None]]:
    """Per bucket, created_at in (older_than, newer_or_equal]: (upper bound, lower bound)."""
    return [
        (now - timedelta(days=low), now - timedelta(days=high) if high is not None else None)
        for _, low, high in BACKLOG_BUCKETS
    ]


def backlog(session: Session, viewer: Viewer, now: datetime) -> list[BacklogBucket]:
    """Unresolved tickets now, by age since they were created."""
    bounds = _age_thresholds(now)
    bucket = case(
        *[
            (col(Ticket.created_at) > lower, index)
            for index, (_, lower) in enumerate(bounds)
            if lower is not None
        ],
        else_=len(bounds) - 1,
    )
    conditions: list[ColumnElement[bool]] = [col(Ticket.status_category).not_in(UNRESOLVED)]
    scope = scope_clause(viewer)
    if scope is not None:
        conditions.append(scope)
    counts = dict(
        session.execute(sa_select(bucket, func.count()).where(*conditions).group_by(bucket)).all()
    )
    return [
        BacklogBucket(label, index, int(counts.get(index, 0)))
        for index, (label, _, _) in enumerate(BACKLOG_BUCKETS)
    ]


@dataclass
class Volume:
    """New tickets per channel per local day."""

    days: list[date]
    channels: list[tuple[int | None, str]]
    counts: dict[tuple[int | None, date], int] = field(default_factory=dict)

    def series(self, channel_id: int | None) -> list[int]:
        return [self.counts.get((channel_id, day), 0) for day in self.days]

    def total(self, day: date) -> int:
        return sum(self.counts.get((cid, day), 0) for cid, _ in self.channels)


def _ten_minutes(session: Session) -> Any:
    """created_at cut to ten minutes, as text in UTC (fine enough for any zone's offset
    in whole or half hours)."""
    text: Any
    if session.get_bind().dialect.name == "postgresql":
        text = func.to_char(func.timezone("UTC", col(Ticket.created_at)), "YYYY-MM-DD HH24:MI")
    else:
        text = col(Ticket.created_at)
    return func.substr(text, 1, 15)


def volume(session: Session, viewer: Viewer, rng: ReportRange) -> Volume:
    bucket = _ten_minutes(session)
    rows = session.execute(
        sa_select(col(Ticket.channel_id), bucket, func.count())
        .where(*_conditions(viewer, rng))
        .group_by(col(Ticket.channel_id), bucket)
    ).all()
    counts: dict[tuple[int | None, date], int] = {}
    for channel_id, text, n in rows:
        moment = datetime.strptime(f"{text}0", "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
        key = (channel_id, moment.astimezone(rng.tz).date())
        counts[key] = counts.get(key, 0) + int(n)
    present = {channel_id for channel_id, _ in counts}
    names = _labels(session, "channel", present)
    channels = sorted(
        ((cid, names.get(cid, "(none)") if cid is not None else "(none)") for cid in present),
        key=lambda pair: pair[1],
    )
    return Volume(rng.days, channels, counts)


@dataclass
class Satisfaction:
    """Satisfaction survey answers given in the range (``inbox.queries.followups``)."""

    answers: int = 0
    average: float | None = None
    sent: int = 0
    by_score: dict[int, int] = field(default_factory=dict)


def satisfaction(session: Session, viewer: Viewer, rng: ReportRange) -> Satisfaction:
    summary = satisfaction_summary(
        session, start=rng.starts_at, end=rng.ends_at, scope=scope_clause(viewer)
    )
    return Satisfaction(summary.answers, summary.average, summary.sent, summary.by_score)


@dataclass
class SlaReport:
    range: ReportRange
    group: str
    compliance: list[Compliance]
    totals: list[Compliance]
    times: list[TimeFigures]
    breaches: list[ClockRow]
    backlog: list[BacklogBucket]
    volume: Volume
    satisfaction: Satisfaction


def sla_report(
    session: Session, viewer: Viewer, rng: ReportRange, group: str, now: datetime
) -> SlaReport:
    rows = compliance(session, viewer, rng, group)
    return SlaReport(
        range=rng,
        group=group,
        compliance=rows,
        totals=compliance_totals(rows),
        times=time_figures(session, viewer, rng),
        breaches=breaches(session, viewer, rng),
        backlog=backlog(session, viewer, now),
        volume=volume(session, viewer, rng),
        satisfaction=satisfaction(session, viewer, rng),
    )


@dataclass(frozen=True)
class Drilldown:
    """Which tickets a figure of the report counts (every field optional)."""

    target: str | None = None
    outcome: str | None = None  # met, breached, open
    group: str | None = None
    key: str | None = None
    day: date | None = None
    channel: str | None = None
    backlog: int | None = None


@dataclass
class DrilldownRow:
    reference: str
    subject: str
    status: str
    priority: str
    created_at: datetime


def _key_condition(group: str, key: str) -> ColumnElement[bool]:
    column = _group_column(group)
    if key == NONE_KEY:
        return column.is_(None)
    if group == "priority":
        return column == key
    if not key.isdigit():
        raise InvalidInput("unknown group key")
    return column == int(key)


def drilldown(
    session: Session, viewer: Viewer, rng: ReportRange, what: Drilldown, now: datetime
) -> list[DrilldownRow]:
    """The tickets behind one figure, newest first, at most ``DRILLDOWN_LIMIT``."""
    conditions: list[ColumnElement[bool]] = []
    if what.backlog is not None:
        bounds = _age_thresholds(now)
        if not 0 <= what.backlog < len(bounds):
            raise InvalidInput("unknown backlog bucket")
        upper, lower = bounds[what.backlog]
        conditions += [
            col(Ticket.status_category).not_in(UNRESOLVED),
            col(Ticket.created_at) <= upper,
        ]
        if lower is not None:
            conditions.append(col(Ticket.created_at) > lower)
        scope = scope_clause(viewer)
        if scope is not None:
            conditions.append(scope)
    else:
        conditions += _conditions(viewer, rng)
    if what.day is not None:
        conditions += [
            col(Ticket.created_at) >= local_midnight(what.day, rng.tz),
            col(Ticket.created_at) < local_midnight(what.day + timedelta(days=1), rng.tz),
        ]
    if what.channel is not None:
        conditions.append(_key_condition("channel", what.channel))
    query = sa_select(
        col(Ticket.reference),
        col(Ticket.subject),
        col(Ticket.status),
        col(Ticket.priority),
        col(Ticket.created_at),
    )
    if what.target or what.outcome or what.group:
        query = query.join(SlaClock, col(SlaClock.ticket_id) == col(Ticket.id))
        if what.target:
            conditions.append(col(SlaClock.target) == what.target)
        if what.outcome == "breached":
            conditions.append(col(SlaClock.breached_at).is_not(None))
        elif what.outcome == "met":
            conditions += [col(SlaClock.state) == "met", col(SlaClock.breached_at).is_(None)]
        elif what.outcome == "open":
            conditions += [col(SlaClock.state) != "met", col(SlaClock.breached_at).is_(None)]
        if what.group:
            conditions.append(_key_condition(check_group(what.group), what.key or NONE_KEY))
        query = query.distinct()
    rows = session.execute(
        query.where(*conditions)
        .order_by(col(Ticket.created_at).desc(), col(Ticket.reference))
        .limit(DRILLDOWN_LIMIT)
    ).all()
    return [DrilldownRow(*row) for row in rows]
