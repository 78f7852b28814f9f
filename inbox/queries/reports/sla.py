"""Manager reports on SLA clocks: compliance, response and resolution times, breaches,
backlog by age, volume per channel per day, satisfaction.

A report covers the tickets created between two dates (inclusive) in a time zone and that
the viewer may see (``scope_clause``). Compliance, times and volume come from the rollup of
whole UTC days (``report_sections``) and the clocks for the rest; breaches, backlog and the
export are read from the clocks and tickets along their indexes. No ORM object is loaded
per ticket.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, text
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from inbox.errors import InvalidInput
from inbox.models import Agent, Channel, SatisfactionSurvey, SlaClock, SlaPolicy, Team, Ticket
from inbox.queries.followups import satisfaction_summary
from inbox.queries.reports.figures import StaleRollup, used_seconds
from inbox.queries.reports.period import (
    GROUPS,
    NONE_KEY,
    ReportRange,
    check_group,
    desk_timezone,
    group_column,
    local_midnight,
    parse_range,
    range_conditions,
)
from inbox.queries.reports.sections import (
    Compliance,
    TimeFigures,
    Volume,
    compliance_of,
    compliance_totals,
    report_parts,
    time_figures_from_clocks,
    time_figures_of,
    volume_of,
)
from inbox.queries.sla import TARGET_LABELS
from inbox.queries.tickets import UNRESOLVED as OPEN_TICKETS
from inbox.queries.tickets import Viewer, scope_clause

__all__ = [
    "BACKLOG_BUCKETS",
    "GROUPS",
    "ClockRow",
    "Compliance",
    "Drilldown",
    "ReportRange",
    "SlaReport",
    "TimeFigures",
    "Volume",
    "check_group",
    "desk_timezone",
    "drilldown",
    "export_rows",
    "parse_range",
    "report_parts",
    "sla_report",
]

BREACH_LIMIT = 200
# Breaches looked at from the newest before the list is searched from the tickets instead.
BREACH_CANDIDATES = 16_000
DRILLDOWN_LIMIT = 500
# Ages of unresolved tickets, in days: [low, high).
BACKLOG_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("under 1 day", 0, 1),
    ("1-3 days", 1, 3),
    ("3-7 days", 3, 7),
    ("7-30 days", 7, 30),
    ("over 30 days", 30, None),
)


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
            used_seconds(),
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
    rows = session.execute(_clock_rows(session, range_conditions(viewer, rng))).all()
    return [_to_clock_row(row) for row in rows]


def breaches(
    session: Session, viewer: Viewer, rng: ReportRange, *, limit: int = BREACH_LIMIT
) -> list[ClockRow]:
    ids = _newest_breach_ids(session, viewer, rng, limit)
    if not ids:
        return []
    query = _clock_rows(session, [col(SlaClock.id).in_(ids)], newest_breach_first=True)
    return [_to_clock_row(row) for row in session.execute(query).all()]


def _newest_breach_ids(session: Session, viewer: Viewer, rng: ReportRange, limit: int) -> list[int]:
    """Walks the breaches from the newest along ``ix_sla_clock_breached_at``, a growing batch
    at a time, keeping those of the viewer's tickets in the range. The batches are prefixes
    of one total order, so once ``limit`` are kept they are the newest. A range far in the
    past, whose breaches lie behind many newer ones, is searched from its tickets instead."""
    newest = (col(SlaClock.breached_at).desc(), col(SlaClock.id))
    # A clock breaches after its ticket was created.
    breached = col(SlaClock.breached_at) >= rng.starts_at
    scope = scope_clause(viewer)
    batch = max(limit * 5, 1)
    while batch <= BREACH_CANDIDATES:
        candidates = session.execute(
            sa_select(col(SlaClock.id), col(SlaClock.ticket_id))
            .where(breached)
            .order_by(*newest)
            .limit(batch)
        ).all()
        # The tickets by key only: given the range too, a planner may walk the range instead.
        found = session.execute(
            sa_select(col(Ticket.id), col(Ticket.created_at)).where(
                col(Ticket.id).in_({ticket_id for _, ticket_id in candidates}),
                *([scope] if scope is not None else []),
            )
        ).all()
        shown = {
            ticket_id
            for ticket_id, created_at in found
            if rng.starts_at <= created_at < rng.ends_at
        }
        kept = [clock_id for clock_id, ticket_id in candidates if ticket_id in shown][:limit]
        if len(kept) == limit or len(candidates) < batch:
            return kept
        batch *= 4
    return list(
        session.execute(
            sa_select(col(SlaClock.id))
            .join(Ticket, col(Ticket.id) == col(SlaClock.ticket_id))
            .where(breached, *range_conditions(viewer, rng))
            .order_by(*newest)
            .limit(limit)
        ).scalars()
    )


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
    open_tickets: ColumnElement[bool] = and_(text(OPEN_TICKETS))
    scope = scope_clause(viewer)
    counts: dict[int, int] = {}
    if scope is None:
        # Counts of tickets newer than each bound, each a range of the covering partial
        # index ix_ticket_open_created; a bucket is the difference of two.
        newer = [
            session.execute(
                sa_select(func.count())
                .select_from(Ticket)
                .where(open_tickets, col(Ticket.created_at) > lower)
            ).scalar_one()
            for _, lower in bounds
            if lower is not None
        ]
        everyone = sa_select(func.count()).select_from(Ticket).where(open_tickets)
        newer.append(session.execute(everyone).scalar_one())
        counts = {i: n - (newer[i - 1] if i else 0) for i, n in enumerate(newer)}
    else:
        bucket = case(
            *[
                (col(Ticket.created_at) > lower, index)
                for index, (_, lower) in enumerate(bounds)
                if lower is not None
            ],
            else_=len(bounds) - 1,
        )
        counts = dict(
            session.execute(
                sa_select(bucket, func.count()).where(open_tickets, scope).group_by(bucket)
            ).all()
        )
    return [
        BacklogBucket(label, index, int(counts.get(index, 0)))
        for index, (label, _, _) in enumerate(BACKLOG_BUCKETS)
    ]


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
    session: Session,
    viewer: Viewer,
    rng: ReportRange,
    group: str,
    now: datetime,
    *,
    use_rollup: bool = True,
) -> SlaReport:
    """The report as of now. ``use_rollup=False`` computes every figure from the clocks: the
    same figures, the slow way."""
    parts = report_parts(session, viewer, rng, use_rollup=use_rollup)
    rows = compliance_of(session, parts, group)
    try:
        times = time_figures_of(session, parts)
    except StaleRollup:
        times = time_figures_from_clocks(session, range_conditions(viewer, rng))
    return SlaReport(
        range=rng,
        group=group,
        compliance=rows,
        totals=compliance_totals(rows),
        times=times,
        breaches=breaches(session, viewer, rng),
        backlog=backlog(session, viewer, now),
        volume=volume_of(session, parts, rng),
        satisfaction=satisfaction(session, viewer, rng),
    )


# What became of a clock: met, breached or neither yet (open), or stopped (met or breached,
# the clocks the response and resolution times are taken over).
DRILL_OUTCOMES = ("met", "breached", "open", "stopped")


@dataclass(frozen=True)
class Drilldown:
    """Which tickets a figure of the report counts (every field optional)."""

    target: str | None = None
    outcome: str | None = None  # one of DRILL_OUTCOMES
    group: str | None = None
    key: str | None = None
    day: date | None = None
    channel: str | None = None
    backlog: int | None = None
    score: int | None = None  # satisfaction answers given in the range with this score


@dataclass
class DrilldownRow:
    reference: str
    subject: str
    status: str
    priority: str
    created_at: datetime


def _key_condition(group: str, key: str) -> ColumnElement[bool]:
    column = group_column(group)
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
            and_(text(OPEN_TICKETS)),
            col(Ticket.created_at) <= upper,
        ]
        if lower is not None:
            conditions.append(col(Ticket.created_at) > lower)
        scope = scope_clause(viewer)
        if scope is not None:
            conditions.append(scope)
    elif what.score is not None:
        if not 1 <= what.score <= 5:
            raise InvalidInput("score must be 1 to 5")
        answered = sa_select(col(SatisfactionSurvey.ticket_id)).where(
            col(SatisfactionSurvey.score) == what.score,
            col(SatisfactionSurvey.answered_at) >= rng.starts_at,
            col(SatisfactionSurvey.answered_at) < rng.ends_at,
        )
        conditions.append(col(Ticket.id).in_(answered))
        scope = scope_clause(viewer)
        if scope is not None:
            conditions.append(scope)
    else:
        conditions += range_conditions(viewer, rng)
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
        elif what.outcome == "stopped":
            conditions.append(col(SlaClock.stopped_at).is_not(None))
        if what.group:
            conditions.append(_key_condition(check_group(what.group), what.key or NONE_KEY))
        query = query.distinct()
    rows = session.execute(
        query.where(*conditions)
        .order_by(col(Ticket.created_at).desc(), col(Ticket.reference))
        .limit(DRILLDOWN_LIMIT)
    ).all()
    return [DrilldownRow(*row) for row in rows]
