"""Concurrent chats: how many chats were open at once, per hour of the day on the wall clock of
a zone (on average over a period's time in that hour, and at the most), and one agent's load.

Pure: spans of aware datetimes in, figures out. A span is half open, ``[start, end)``, so a
chat that ends as another begins never counts twice. Spans are cut at the quarter hours of
UTC, on which every zone in use starts its hours, so each piece falls in one local hour.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise
from zoneinfo import ZoneInfo

Span = tuple[datetime, datetime]
HOURS = 24
QUARTER_SECONDS = 15 * 60


@dataclass(frozen=True)
class HourLoad:
    """One hour of the day: chats open at once on average over that hour's time in the
    period, and the most open at any moment of it."""

    hour: int
    average: float
    most: int


@dataclass(frozen=True)
class AgentLoad:
    """One agent's chats at once: the most, and the average over the time they had any."""

    most: int
    average: float


def _pieces(start: datetime, end: datetime) -> Iterator[Span]:
    """``[start, end)`` cut at the quarter hours of UTC."""
    at = start
    while at < end:
        boundary = (math.floor(at.timestamp() / QUARTER_SECONDS) + 1) * QUARTER_SECONDS
        piece_end = min(datetime.fromtimestamp(boundary, UTC), end)
        yield at, piece_end
        at = piece_end


def _levels(spans: Iterable[Span]) -> list[tuple[datetime, datetime, int]]:
    """Where the number of open spans stays the same and is above nought: (from, to, how
    many). At one moment ends come before starts: the spans are half open."""
    changes = sorted(
        [(start, 1) for start, end in spans if end > start]
        + [(end, -1) for start, end in spans if end > start]
    )
    levels: list[tuple[datetime, datetime, int]] = []
    level = 0
    for (at, change), (following, _) in pairwise(changes):
        level += change
        if level > 0 and following > at:
            levels.append((at, following, level))
    return levels


def clip(spans: Iterable[Span], start: datetime, end: datetime) -> list[Span]:
    """The parts of the spans within ``[start, end)``; spans outside it are left out."""
    clipped = [(max(a, start), min(b, end)) for a, b in spans]
    return [(a, b) for a, b in clipped if b > a]


def hourly_load(
    spans: Sequence[Span], start: datetime, end: datetime, tz: ZoneInfo
) -> list[HourLoad]:
    """Per hour of the day in ``tz`` (0 to 23), the spans open at once within the period
    ``[start, end)``: their average over the period's time in that hour, and their most."""
    observed = [0.0] * HOURS
    busy = [0.0] * HOURS
    most = [0] * HOURS
    for a, b in _pieces(start, end):
        observed[a.astimezone(tz).hour] += (b - a).total_seconds()
    for level_start, level_end, level in _levels(clip(spans, start, end)):
        for a, b in _pieces(level_start, level_end):
            hour = a.astimezone(tz).hour
            busy[hour] += level * (b - a).total_seconds()
            most[hour] = max(most[hour], level)
    return [
        HourLoad(hour, busy[hour] / observed[hour] if observed[hour] else 0.0, most[hour])
        for hour in range(HOURS)
    ]


def hours_touched(span: Span, tz: ZoneInfo) -> set[int]:
    """The hours of the day in ``tz`` during which the span was open."""
    hours: set[int] = set()
    for a, _ in _pieces(*span):
        hours.add(a.astimezone(tz).hour)
        if len(hours) == HOURS:
            break
    return hours


def agent_load(spans: Sequence[Span]) -> AgentLoad:
    """One agent's spans: the most open at once, and how many on average while any was."""
    levels = _levels(spans)
    if not levels:
        return AgentLoad(0, 0.0)
    seconds = sum((b - a).total_seconds() for a, b, _ in levels)
    weighted = sum(n * (b - a).total_seconds() for a, b, n in levels)
    return AgentLoad(max(n for _, _, n in levels), weighted / seconds)
