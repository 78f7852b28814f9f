"""The SLA report's figures straight from the clocks, for any set of tickets, in a shape that
adds up: grouped counts, exact seconds of stopped clocks, new tickets per quarter hour.

The report adds these for the days the rollup does not cover (see ``report_rollup``) to what
the rollup holds; the refresher (``inbox.actions.report_rollup``) stores them per day.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Date, Integer, and_, case, cast, func, literal_column, or_
from sqlalchemy import select as sa_select
from sqlalchemy.types import Float
from sqlmodel import Session, col

from inbox.models import SlaClock, Ticket

DIMENSIONS = ("policy", "channel", "team", "agent", "priority")
TIMED_TARGETS = ("first_response", "resolution")
MEASURES = ("business", "calendar")
# A histogram bucket spans a factor of 2 ** (1 / BUCKETS_PER_DOUBLING) of seconds (9 %).
BUCKETS_PER_DOUBLING = 8
SLOT = timedelta(minutes=15)
SLOTS_PER_DAY = 96

# (target, policy_id, channel_id, team_id, assignee_id, priority) -> [met, breached, total]
CountKey = tuple[str, int | None, int | None, int | None, int | None, str]
Interval = tuple[datetime, datetime]


def bucket_of(seconds: int) -> int:
    """The histogram bucket of a duration: 0 for none or less, then growing with the log."""
    if seconds < 1:
        return 0
    return 1 + math.floor(math.log2(seconds) * BUCKETS_PER_DOUBLING)


def utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def slot_start(day: date, slot: int) -> datetime:
    return utc_midnight(day) + slot * SLOT


def created_within(intervals: Sequence[Interval]) -> ColumnElement[bool]:
    """Tickets created in any of the half-open intervals."""
    return or_(
        *(and_(col(Ticket.created_at) >= a, col(Ticket.created_at) < b) for a, b in intervals)
    )


@dataclass
class Figures:
    """What a set of tickets adds to the report."""

    counts: dict[CountKey, list[int]] = field(default_factory=dict)
    # (target, measure) -> exact seconds, one per stopped clock
    seconds: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    # (target, team_id, business seconds, calendar seconds), one per stopped clock
    clock_times: list[tuple[str, int | None, int, int]] = field(default_factory=list)
    # (channel_id, team_id, UTC day, slot) -> new tickets
    volume: Counter[tuple[int | None, int | None, date, int]] = field(default_factory=Counter)


def calendar_seconds(session: Session) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", col(SlaClock.stopped_at) - col(SlaClock.started_at))
    return (
        func.julianday(col(SlaClock.stopped_at)) - func.julianday(col(SlaClock.started_at))
    ) * literal_column("86400.0")


def used_seconds() -> Any:
    return col(SlaClock.target_minutes) * 60 - col(SlaClock.remaining_seconds)


def clock_counts(
    session: Session, conditions: Sequence[ColumnElement[bool]]
) -> dict[CountKey, list[int]]:
    """Clocks met, breached and in all, per target and every grouping column at once."""
    met = and_(col(SlaClock.state) == "met", col(SlaClock.breached_at).is_(None))
    keys = (
        col(SlaClock.target),
        col(SlaClock.policy_id),
        col(Ticket.channel_id),
        col(Ticket.team_id),
        col(Ticket.assignee_id),
        col(Ticket.priority),
    )
    rows = session.execute(
        sa_select(
            *keys,
            func.sum(case((met, 1), else_=0)),
            func.sum(case((col(SlaClock.breached_at).is_not(None), 1), else_=0)),
            func.count(),
        )
        .join(Ticket, col(Ticket.id) == col(SlaClock.ticket_id))
        .where(*conditions)
        .group_by(*keys)
    ).all()
    return {tuple(row[:6]): [int(row[6] or 0), int(row[7] or 0), int(row[8])] for row in rows}


def clock_times(
    session: Session, conditions: Sequence[ColumnElement[bool]]
) -> list[tuple[str, int | None, int, int]]:
    """Per stopped clock of a timed target: target, team, business and calendar seconds."""
    rows = session.execute(
        sa_select(
            col(SlaClock.target),
            col(Ticket.team_id),
            used_seconds(),
            cast(calendar_seconds(session), Float),
        )
        .join(Ticket, col(Ticket.id) == col(SlaClock.ticket_id))
        .where(
            col(SlaClock.target).in_(TIMED_TARGETS),
            col(SlaClock.stopped_at).is_not(None),
            *conditions,
        )
    ).all()
    return [
        (target, team_id, int(used), round(float(elapsed or 0)))
        for target, team_id, used, elapsed in rows
    ]


def _day_and_slot(session: Session) -> tuple[Any, Any]:
    """The UTC day of ``created_at`` and its quarter hour of that day (0-95)."""
    if session.get_bind().dialect.name == "postgresql":
        moment = func.timezone("UTC", col(Ticket.created_at))
        slot = func.extract("hour", moment) * 4 + func.floor(func.extract("minute", moment) / 15)
        return cast(moment, Date), cast(slot, Integer)
    stamp = col(Ticket.created_at)
    hour = cast(func.substr(stamp, 12, 2), Integer)
    minute = cast(func.substr(stamp, 15, 2), Integer)
    return func.substr(stamp, 1, 10), hour * 4 + minute // 15


def ticket_volume(
    session: Session, conditions: Sequence[ColumnElement[bool]]
) -> Counter[tuple[int | None, int | None, date, int]]:
    day, slot = _day_and_slot(session)
    rows = session.execute(
        sa_select(col(Ticket.channel_id), col(Ticket.team_id), day, slot, func.count())
        .where(*conditions)
        .group_by(col(Ticket.channel_id), col(Ticket.team_id), day, slot)
    ).all()
    volume: Counter[tuple[int | None, int | None, date, int]] = Counter()
    for channel_id, team_id, day_value, slot_value, n in rows:
        if isinstance(day_value, str):
            day_value = date.fromisoformat(day_value)
        volume[(channel_id, team_id, day_value, int(slot_value))] += int(n)
    return volume


def figures_from_clocks(session: Session, conditions: Sequence[ColumnElement[bool]]) -> Figures:
    """Every figure of the tickets that match ``conditions``, read from the clocks."""
    times = clock_times(session, conditions)
    seconds: dict[tuple[str, str], list[int]] = {}
    for target, _team, business, calendar in times:
        seconds.setdefault((target, "business"), []).append(business)
        seconds.setdefault((target, "calendar"), []).append(calendar)
    return Figures(
        counts=clock_counts(session, conditions),
        seconds=seconds,
        clock_times=times,
        volume=ticket_volume(session, conditions),
    )


def add_counts(total: dict[CountKey, list[int]], more: dict[CountKey, list[int]]) -> None:
    for key, (met, breached, n) in more.items():
        row = total.setdefault(key, [0, 0, 0])
        row[0] += met
        row[1] += breached
        row[2] += n


def dimension_key(key: CountKey, dimension: str) -> int | str | None:
    return key[1 + DIMENSIONS.index(dimension)]


def count_rows(
    counts: dict[CountKey, list[int]], dimension: str
) -> dict[tuple[str, int | str | None, int | None], list[int]]:
    """Counts per (target, value of ``dimension``, team)."""
    result: dict[tuple[str, int | str | None, int | None], list[int]] = {}
    for key, (met, breached, n) in counts.items():
        row = result.setdefault((key[0], dimension_key(key, dimension), key[3]), [0, 0, 0])
        row[0] += met
        row[1] += breached
        row[2] += n
    return result


class StaleRollup(Exception):
    """The rollup and the clocks disagreed within one report (a refresh committed between
    two of its reads on PostgreSQL): the caller computes from the clocks instead."""


def ranked_seconds(
    histogram: Counter[int],
    exact: Iterable[int],
    in_bucket: Callable[[int], Counter[int]],
    ranks: Sequence[int],
) -> list[int]:
    """The values at ``ranks`` (0-based, ascending) of the values that ``histogram`` counts
    per bucket, of which ``exact`` are known and the rest are read, value by value with
    their counts, by ``in_bucket(bucket)``, only for the buckets that hold a wanted rank."""
    exact_by_bucket: dict[int, Counter[int]] = {}
    for value in exact:
        exact_by_bucket.setdefault(bucket_of(value), Counter())[value] += 1
    found: list[int] = []
    loaded: dict[int, list[tuple[int, int]]] = {}
    buckets = sorted(histogram)
    for rank in ranks:
        below = 0
        for bucket in buckets:
            if rank < below + histogram[bucket]:
                if bucket not in loaded:
                    values = in_bucket(bucket) + exact_by_bucket.get(bucket, Counter())
                    if values.total() != histogram[bucket]:
                        raise StaleRollup
                    loaded[bucket] = sorted(values.items())
                found.append(_nth(loaded[bucket], rank - below))
                break
            below += histogram[bucket]
        else:
            raise StaleRollup
    return found


def _nth(counted: list[tuple[int, int]], index: int) -> int:
    """The ``index``-th (0-based) of ascending values given with their counts."""
    for value, n in counted:
        if index < n:
            return value
        index -= n
    raise StaleRollup


def median_ranks(n: int) -> list[int]:
    return [n // 2] if n % 2 else [n // 2 - 1, n // 2]


def percentile_rank(n: int, share: float) -> int:
    """Nearest rank, as ``reports.percentile`` takes it."""
    return max(0, math.ceil(share * n) - 1)
