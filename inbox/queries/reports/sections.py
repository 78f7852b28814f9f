"""The sections of the SLA report that the rollup serves: compliance per group, response and
resolution times, new tickets per channel per day.

Each adds what the rollup holds for the whole UTC days it covers (``report_rollup``) to what
the clocks say of the rest of the range (``report_figures``): the same figures, exactly, as
computing everything from the clocks.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement
from sqlmodel import Session, col

from inbox.models import Ticket
from inbox.models.sla import SLA_TARGETS
from inbox.queries.reports.figures import (
    MEASURES,
    TIMED_TARGETS,
    Figures,
    add_counts,
    bucket_of,
    clock_times,
    count_rows,
    created_within,
    figures_from_clocks,
    median_ranks,
    percentile_rank,
    ranked_seconds,
    slot_start,
)
from inbox.queries.reports.period import NONE_KEY, ReportRange, group_labels
from inbox.queries.reports.rollup import (
    Coverage,
    coverage,
    rollup_bucket_seconds,
    rollup_counts,
    rollup_histograms,
    rollup_volume,
)
from inbox.queries.sla import TARGET_LABELS
from inbox.queries.tickets import Viewer, scope_clause


@dataclass(frozen=True)
class Parts:
    """Where a report's figures come from: the rollup for ``clean_days`` (whole UTC days,
    tickets of ``teams`` and of no team, every ticket when None), the clocks for the rest."""

    clean_days: list[date]
    teams: frozenset[int] | None
    raw: Figures


def report_parts(
    session: Session, viewer: Viewer, rng: ReportRange, *, use_rollup: bool = True
) -> Parts:
    scope = scope_clause(viewer)
    teams = None if viewer.sees_everything else viewer.team_ids
    if not use_rollup:
        covered = Coverage([], [(rng.starts_at, rng.ends_at)])
    else:
        covered = coverage(session, rng.starts_at, rng.ends_at)
    raw = Figures()
    if covered.raw:
        conditions = [created_within(covered.raw)]
        raw = figures_from_clocks(session, conditions + ([scope] if scope is not None else []))
    if teams is not None and covered.clean_days:
        # The viewer's own tickets in teams not theirs: the rollup keeps teams, not assignees.
        own = figures_from_clocks(
            session,
            [
                created_within(covered.clean),
                col(Ticket.assignee_id) == viewer.agent_id,
                col(Ticket.team_id).is_not(None),
                col(Ticket.team_id).not_in(sorted(teams)),
            ],
        )
        add_counts(raw.counts, own.counts)
        for key, values in own.seconds.items():
            raw.seconds.setdefault(key, []).extend(values)
        raw.volume.update(own.volume)
    return Parts(covered.clean_days, teams, raw)


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


def compliance_of(session: Session, parts: Parts, group: str) -> list[Compliance]:
    counts: dict[Any, list[int]] = {}
    stored = rollup_counts(session, parts.clean_days, parts.teams, group)
    for (target, stored_key), row in stored.items():
        counts[(target, _parse_key(group, stored_key))] = row
    for (target, key, _team), (met, breached, n) in count_rows(parts.raw.counts, group).items():
        total = counts.setdefault((target, key), [0, 0, 0])
        total[0] += met
        total[1] += breached
        total[2] += n
    labels = group_labels(session, group, {key for _, key in counts})
    result = [
        Compliance(
            target=target,
            group_key=NONE_KEY if key is None else str(key),
            group_label="(none)" if key is None else labels.get(key, str(key)),
            met=met,
            breached=breached,
            open=n - met - breached,
        )
        for (target, key), (met, breached, n) in counts.items()
        if n
    ]
    order = {t: i for i, t in enumerate(SLA_TARGETS)}
    return sorted(result, key=lambda c: (order.get(c.target, 9), c.group_label))


def _parse_key(group: str, key: str | None) -> int | str | None:
    """A rollup key back to the column's value."""
    if key is None or group == "priority":
        return key
    return int(key)


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


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _time_figures_of(target: str, business: list[float], calendar: list[float]) -> TimeFigures:
    return TimeFigures(
        target=target,
        count=len(business),
        business_median=_rounded(median(business)),
        business_p90=_rounded(percentile(business, 0.9)),
        calendar_median=_rounded(median(calendar)),
        calendar_p90=_rounded(percentile(calendar, 0.9)),
    )


def time_figures_of(session: Session, parts: Parts) -> list[TimeFigures]:
    """Medians and 90th percentiles: the rollup's histograms find the bucket of each wanted
    rank, and only that bucket's exact values are read, so the figures are exact."""
    histograms = rollup_histograms(session, parts.clean_days, parts.teams)
    result = []
    for target in TIMED_TARGETS:
        wanted: dict[str, list[float]] = {}
        count = 0
        for measure in MEASURES:
            exact = parts.raw.seconds.get((target, measure), [])
            histogram = Counter(histograms.get((target, measure), Counter()))
            histogram.update(bucket_of(value) for value in exact)
            count = sum(histogram.values())
            ranks = [*median_ranks(count), percentile_rank(count, 0.9)] if count else []

            def in_bucket(
                bucket: int, target: str = target, measure: str = measure
            ) -> Counter[int]:
                return rollup_bucket_seconds(
                    session, parts.clean_days, parts.teams, target, measure, bucket
                )

            values = ranked_seconds(histogram, exact, in_bucket, ranks)
            wanted[measure] = [value / 60 for value in values]
        business, calendar = wanted["business"], wanted["calendar"]
        result.append(
            TimeFigures(
                target=target,
                count=count,
                business_median=_rounded(_middle(business[:-1])),
                business_p90=_rounded(business[-1] if business else None),
                calendar_median=_rounded(_middle(calendar[:-1])),
                calendar_p90=_rounded(calendar[-1] if calendar else None),
            )
        )
    return result


def _middle(values: list[float]) -> float | None:
    """The median from its one or two middle values."""
    if not values:
        return None
    return values[0] if len(values) == 1 else (values[0] + values[1]) / 2


def time_figures_from_clocks(
    session: Session, conditions: list[ColumnElement[bool]]
) -> list[TimeFigures]:
    business: dict[str, list[float]] = {t: [] for t in TIMED_TARGETS}
    calendar: dict[str, list[float]] = {t: [] for t in TIMED_TARGETS}
    for target, _team, used, elapsed in clock_times(session, conditions):
        business[target].append(used / 60)
        calendar[target].append(elapsed / 60)
    return [_time_figures_of(t, business[t], calendar[t]) for t in TIMED_TARGETS]


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


def volume_of(session: Session, parts: Parts, rng: ReportRange) -> Volume:
    """New tickets per channel per local day, from quarter hours in UTC: the midnight of
    every zone in use falls on one of their boundaries."""
    slots = rollup_volume(session, parts.clean_days, parts.teams)
    for (channel_id, _team, day, slot), n in parts.raw.volume.items():
        slots[(channel_id, day, slot)] += n
    local_days: dict[tuple[date, int], date] = {}
    counts: dict[tuple[int | None, date], int] = {}
    for (channel_id, day, slot), n in slots.items():
        local = local_days.get((day, slot))
        if local is None:
            local = local_days[(day, slot)] = slot_start(day, slot).astimezone(rng.tz).date()
        counts[(channel_id, local)] = counts.get((channel_id, local), 0) + n
    present = {channel_id for channel_id, _ in counts}
    names = group_labels(session, "channel", present)
    channels = sorted(
        ((cid, names.get(cid, "(none)") if cid is not None else "(none)") for cid in present),
        key=lambda pair: pair[1],
    )
    return Volume(rng.days, channels, counts)
