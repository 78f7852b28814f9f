"""Reading the SLA report's rollup (``inbox.models.reporting``) for the days it covers.

A report's range, cut at the midnights of its zone, is split in two: the whole UTC days
inside it whose rollup is current ("clean": no change waiting in ``sla_report_change``), read
here, and the rest (the partial UTC days at both ends, stale days), which the report computes
from the clocks. ``teams`` is the viewer's scope in the rollup: None for every ticket, else
the tickets of those teams and of no team; a viewer's own tickets in other teams are computed
from the clocks too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from inbox.models.reporting import (
    SlaReportChange,
    SlaReportCount,
    SlaReportHistogram,
    SlaReportTime,
    SlaReportVolume,
)
from inbox.queries.reports.figures import Interval, utc_midnight

Teams = frozenset[int] | None


@dataclass(frozen=True)
class Coverage:
    """Which part of ``[starts_at, ends_at)`` the rollup answers, and which the clocks."""

    clean_days: list[date]
    raw: list[Interval]

    @property
    def clean(self) -> list[Interval]:
        days = self.clean_days
        return merged([(utc_midnight(d), utc_midnight(d + timedelta(days=1))) for d in days])


def merged(intervals: Sequence[Interval]) -> list[Interval]:
    result: list[Interval] = []
    for start, end in sorted(intervals):
        if result and result[-1][1] >= start:
            result[-1] = (result[-1][0], max(result[-1][1], end))
        else:
            result.append((start, end))
    return result


def stale_days(session: Session, first: date, last: date) -> set[date]:
    """Days with a change the refresher has not folded in yet."""
    days = session.execute(
        sa_select(col(SlaReportChange.day))
        .where(col(SlaReportChange.day) >= first, col(SlaReportChange.day) <= last)
        .distinct()
    ).scalars()
    return {d if isinstance(d, date) else date.fromisoformat(d) for d in days}


def coverage(session: Session, starts_at: datetime, ends_at: datetime) -> Coverage:
    first = starts_at.date()
    if utc_midnight(first) < starts_at:
        first += timedelta(days=1)
    last = ends_at.date() - timedelta(days=1)
    if first > last:
        return Coverage([], [(starts_at, ends_at)])
    stale = stale_days(session, first, last)
    clean = [
        first + timedelta(days=n)
        for n in range((last - first).days + 1)
        if first + timedelta(days=n) not in stale
    ]
    gaps: list[Interval] = []
    cursor = starts_at
    for day in clean:
        if utc_midnight(day) > cursor:
            gaps.append((cursor, utc_midnight(day)))
        cursor = utc_midnight(day + timedelta(days=1))
    if cursor < ends_at:
        gaps.append((cursor, ends_at))
    return Coverage(clean, gaps)


def _team_scope(column: Any, teams: Teams) -> list[ColumnElement[bool]]:
    if teams is None:
        return []
    return [or_(column.in_(sorted(teams)), column.is_(None))]


def rollup_counts(
    session: Session, days: Sequence[date], teams: Teams, dimension: str
) -> dict[tuple[str, str | None], list[int]]:
    """Per (target, key of ``dimension``): met, breached, in all."""
    if not days:
        return {}
    rows = session.execute(
        sa_select(
            col(SlaReportCount.target),
            col(SlaReportCount.key),
            func.sum(col(SlaReportCount.met)),
            func.sum(col(SlaReportCount.breached)),
            func.sum(col(SlaReportCount.total)),
        )
        .where(
            col(SlaReportCount.day).in_(days),
            col(SlaReportCount.dimension) == dimension,
            *_team_scope(col(SlaReportCount.team_id), teams),
        )
        .group_by(col(SlaReportCount.target), col(SlaReportCount.key))
    ).all()
    return {(t, k): [int(m), int(b), int(n)] for t, k, m, b, n in rows}


def rollup_histograms(
    session: Session, days: Sequence[date], teams: Teams
) -> dict[tuple[str, str], Counter[int]]:
    """Per (target, measure): stopped clocks per bucket."""
    result: dict[tuple[str, str], Counter[int]] = {}
    if not days:
        return result
    rows = session.execute(
        sa_select(
            col(SlaReportHistogram.target),
            col(SlaReportHistogram.measure),
            col(SlaReportHistogram.counts),
        ).where(
            col(SlaReportHistogram.day).in_(days),
            *_team_scope(col(SlaReportHistogram.team_id), teams),
        )
    ).all()
    for target, measure, counts in rows:
        total = result.setdefault((target, measure), Counter())
        for bucket, n in counts:
            total[bucket] += n
    return result


def rollup_bucket_seconds(
    session: Session, days: Sequence[date], teams: Teams, target: str, measure: str, bucket: int
) -> Counter[int]:
    """The exact seconds of the stopped clocks in one bucket, with how many clocks took each:
    one range of one index."""
    if not days:
        return Counter()
    bucket_col, seconds_col = {
        "business": (col(SlaReportTime.business_bucket), col(SlaReportTime.business_seconds)),
        "calendar": (col(SlaReportTime.calendar_bucket), col(SlaReportTime.calendar_seconds)),
    }[measure]
    rows = session.execute(
        sa_select(seconds_col, func.count())
        .where(
            col(SlaReportTime.target) == target,
            bucket_col == bucket,
            col(SlaReportTime.day) >= min(days),
            col(SlaReportTime.day) <= max(days),
            col(SlaReportTime.day).in_(days),
            *_team_scope(col(SlaReportTime.team_id), teams),
        )
        .group_by(seconds_col)
    ).all()
    return Counter({int(seconds): int(n) for seconds, n in rows})


def rollup_volume(
    session: Session, days: Sequence[date], teams: Teams
) -> Counter[tuple[int | None, date, int]]:
    """New tickets per (channel, UTC day, quarter hour)."""
    volume: Counter[tuple[int | None, date, int]] = Counter()
    if not days:
        return volume
    rows = session.execute(
        sa_select(
            col(SlaReportVolume.channel_id), col(SlaReportVolume.day), col(SlaReportVolume.slots)
        ).where(
            col(SlaReportVolume.day).in_(days),
            *_team_scope(col(SlaReportVolume.team_id), teams),
        )
    ).all()
    for channel_id, day, slots in rows:
        for slot, n in enumerate(slots):
            if n:
                volume[(channel_id, day, slot)] += n
    return volume
