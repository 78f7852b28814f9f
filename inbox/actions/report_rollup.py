"""Keeping the SLA report's rollup current, one UTC day at a time.

Triggers log every change of a clock, and of a ticket's creation time, channel, team,
assignee or priority, as a row of ``sla_report_change`` for the ticket's day of creation.
A refresh of a day reads the day's change rows first and then the day's clocks, in one
snapshot or a later one (``read_report_day``), so the figures it computes include at least
those changes; it then replaces the day's rollup and deletes exactly those change rows, in
one transaction (``store_report_day``). A change committed meanwhile leaves its row behind,
so the day stays stale and the report keeps computing it from the clocks. If another refresh
of the same day deleted some of those rows first, this one stores nothing: its figures may
be older than the ones already stored.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete, insert
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from inbox.models.reporting import (
    SlaReportChange,
    SlaReportCount,
    SlaReportHistogram,
    SlaReportTime,
    SlaReportVolume,
)
from inbox.queries.reports.figures import (
    DIMENSIONS,
    SLOTS_PER_DAY,
    bucket_of,
    count_rows,
    created_within,
    figures_from_clocks,
    utc_midnight,
)

# Change rows deleted per statement (under SQLite's limit of bound parameters).
DELETE_CHUNK = 5_000
ROLLUP_TABLES = (SlaReportCount, SlaReportHistogram, SlaReportTime, SlaReportVolume)


@dataclass
class ReportDay:
    """One day's rollup rows as computed, and the change rows they account for."""

    day: date
    change_ids: list[int]
    rows: dict[Any, list[dict[str, Any]]] = field(default_factory=dict)


def stale_report_days(session: Session, *, limit: int) -> list[date]:
    """Days with changes not yet folded in, newest first: reports mostly cover recent days."""
    days = session.execute(
        sa_select(col(SlaReportChange.day))
        .distinct()
        .order_by(col(SlaReportChange.day).desc())
        .limit(limit)
    ).scalars()
    return [d if isinstance(d, date) else date.fromisoformat(d) for d in days]


def read_report_day(session: Session, day: date) -> ReportDay:
    """The day's figures from its clocks, after the change rows they cover."""
    change_ids = list(
        session.execute(
            sa_select(col(SlaReportChange.id)).where(col(SlaReportChange.day) == day)
        ).scalars()
    )
    figures = figures_from_clocks(
        session, [created_within([(utc_midnight(day), utc_midnight(day + timedelta(days=1)))])]
    )
    counts = [
        {
            "day": day,
            "target": target,
            "dimension": dimension,
            "key": None if key is None else str(key),
            "team_id": team_id,
            "met": met,
            "breached": breached,
            "total": total,
        }
        for dimension in DIMENSIONS
        for (target, key, team_id), (met, breached, total) in count_rows(
            figures.counts, dimension
        ).items()
    ]
    times = []
    histograms: dict[tuple[str, str, int | None], Counter[int]] = {}
    for target, team_id, business, calendar in figures.clock_times:
        business_bucket, calendar_bucket = bucket_of(business), bucket_of(calendar)
        times.append(
            {
                "day": day,
                "target": target,
                "team_id": team_id,
                "business_seconds": business,
                "business_bucket": business_bucket,
                "calendar_seconds": calendar,
                "calendar_bucket": calendar_bucket,
            }
        )
        histograms.setdefault((target, "business", team_id), Counter())[business_bucket] += 1
        histograms.setdefault((target, "calendar", team_id), Counter())[calendar_bucket] += 1
    slots: dict[tuple[int | None, int | None], list[int]] = {}
    for (channel_id, team_id, _day, slot), n in figures.volume.items():
        slots.setdefault((channel_id, team_id), [0] * SLOTS_PER_DAY)[slot] += n
    return ReportDay(
        day,
        change_ids,
        {
            SlaReportCount: counts,
            SlaReportHistogram: [
                {
                    "day": day,
                    "target": target,
                    "measure": measure,
                    "team_id": team_id,
                    "counts": sorted([bucket, n] for bucket, n in counter.items()),
                }
                for (target, measure, team_id), counter in histograms.items()
            ],
            SlaReportTime: times,
            SlaReportVolume: [
                {"day": day, "channel_id": channel_id, "team_id": team_id, "slots": counts}
                for (channel_id, team_id), counts in slots.items()
            ],
        },
    )


def store_report_day(session: Session, computed: ReportDay) -> bool:
    """Replace the day's rollup; False (and nothing stored) when another refresh got there
    first."""
    ids = computed.change_ids
    with session.begin_nested() as savepoint:
        deleted = 0
        for start in range(0, len(ids), DELETE_CHUNK):
            result = session.execute(
                delete(SlaReportChange).where(
                    col(SlaReportChange.day) == computed.day,
                    col(SlaReportChange.id).in_(ids[start : start + DELETE_CHUNK]),
                )
            )
            deleted += result.rowcount  # type: ignore[attr-defined]
        if deleted != len(ids):
            savepoint.rollback()
            return False
        for table in ROLLUP_TABLES:
            session.execute(delete(table).where(col(table.day) == computed.day))
            if rows := computed.rows.get(table):
                session.execute(insert(table), rows)
    return True
