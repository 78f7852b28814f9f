"""Business-time arithmetic: weekly hours in a time zone, holidays, or round the clock.

Pure code: no database, no I/O. Instants are timezone-aware; results are UTC. Business time
is the set of instants whose local wall time lies inside the day's opening hours, on a day
that is not a holiday. Across daylight-saving changes that set is what a clock on the office
wall shows: a spring day open 00:00-24:00 has 23 business hours, an autumn one 25. An opening
or closing time that does not exist that day (inside the spring gap) is the moment the clocks
jump; one that exists twice (the autumn repeat) opens at its first and closes at its second
occurrence.

Durations are ``timedelta`` so that sums are exact; the ``*_minutes`` helpers wrap them.
"""

from __future__ import annotations

from collections.abc import Container, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from holidays import HolidayBase

DAY_MINUTES = 24 * 60
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A calendar with no opening hours in this long is refused rather than searched forever.
SEARCH_LIMIT = timedelta(days=3 * 366)
ZERO = timedelta(0)

# Opening hours of one day: (from, until) in minutes after local midnight, until <= 1440.
DayHours = tuple[tuple[int, int], ...]


class CalendarError(ValueError):
    """A calendar that cannot be used: bad hours, unknown zone or country, no open time."""


@dataclass(frozen=True)
class Calendar:
    """Weekly hours (Monday first) in ``timezone``, closed on ``closed_days``; or 24/7."""

    timezone: str = "UTC"
    weekly_hours: tuple[DayHours, ...] = ((),) * 7
    always_open: bool = False
    closed_days: Container[date] = field(default_factory=frozenset, compare=False)

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (KeyError, ValueError) as exc:
            raise CalendarError(f"unknown time zone {self.timezone!r}") from exc
        if self.always_open:
            return
        if len(self.weekly_hours) != 7:
            raise CalendarError("weekly hours need seven days, Monday first")
        for day in self.weekly_hours:
            previous_end = 0
            for start, end in day:
                if not 0 <= start < end <= DAY_MINUTES or start < previous_end:
                    raise CalendarError("opening hours must be ordered, within the day")
                previous_end = end
        if not any(self.weekly_hours):
            raise CalendarError("a calendar needs opening hours on at least one day")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


ALWAYS_OPEN = Calendar(always_open=True)


def weekly(
    timezone: str,
    hours: dict[str, Sequence[tuple[str, str]]],
    *,
    closed_days: Container[date] = frozenset(),
) -> Calendar:
    """A calendar from ``{"mon": [("09:00", "17:00")], ...}``; days left out are closed."""
    unknown = set(hours) - set(WEEKDAYS)
    if unknown:
        raise CalendarError(f"unknown weekday {sorted(unknown)[0]!r}")
    days = tuple(
        tuple((parse_clock(a), parse_clock(b)) for a, b in hours.get(name, ())) for name in WEEKDAYS
    )
    return Calendar(timezone=timezone, weekly_hours=days, closed_days=closed_days)


def parse_clock(text: str) -> int:
    """``"09:30"`` → 570 minutes; ``"24:00"`` is the end of the day."""
    try:
        hours, minutes = (int(part) for part in text.strip().split(":"))
    except ValueError as exc:
        raise CalendarError(f"not a time of day: {text!r}") from exc
    value = hours * 60 + minutes
    if not (0 <= minutes < 60 and 0 <= value <= DAY_MINUTES):
        raise CalendarError(f"not a time of day: {text!r}")
    return value


def format_clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class Holidays:
    """Public holidays of a country (and region), from the ``holidays`` library, plus dates
    of our own."""

    country: str | None = None
    subdivision: str | None = None
    extra: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        if self.country is not None:
            _country_holidays(self.country, self.subdivision)

    def __contains__(self, day: object) -> bool:
        if not isinstance(day, date):
            return False
        if day in self.extra:
            return True
        return self.country is not None and day in _country_holidays(self.country, self.subdivision)


@lru_cache(maxsize=64)
def _country_holidays(country: str, subdivision: str | None) -> HolidayBase:
    import holidays as holiday_library  # about 10 MB: only where a calendar names a country

    try:
        return holiday_library.country_holidays(country, subdiv=subdivision)
    except NotImplementedError as exc:
        raise CalendarError(f"no holiday calendar for {country!r} {subdivision or ''}") from exc


def supported_countries() -> dict[str, list[str]]:
    """Country codes the holiday library knows, with their subdivisions."""
    import holidays as holiday_library

    return {code: list(subs) for code, subs in holiday_library.list_supported_countries().items()}


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("business time needs timezone-aware datetimes")
    return moment.astimezone(UTC)


def _boundary(day: date, minute: int, zone: ZoneInfo, *, closing: bool) -> datetime:
    """The UTC instant at which the wall clock reaches ``minute`` on ``day``."""
    if minute == DAY_MINUTES:
        day, minute = day + timedelta(days=1), 0
    wall = datetime.combine(day, time(minute // 60, minute % 60))
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    second = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    if first <= second:  # ordinary, or shown twice: open at the first, close at the second
        return second if closing else first
    # Inside the spring gap: the first instant whose wall time is at or past ``wall``.
    low, high = second, first
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0) if high.microsecond else high


def _intervals(calendar: Calendar, start: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Business intervals [open, close) that end after ``start``, in order, merged."""
    if calendar.always_open:
        yield start, datetime.max.replace(tzinfo=UTC)
        return
    zone = calendar.zone
    day = start.astimezone(zone).date() - timedelta(days=1)
    pending: tuple[datetime, datetime] | None = None
    limit = start + SEARCH_LIMIT
    while True:
        if day not in calendar.closed_days:
            for begin, end in calendar.weekly_hours[day.weekday()]:
                opening = _boundary(day, begin, zone, closing=False)
                closing = _boundary(day, end, zone, closing=True)
                if closing <= opening or closing <= start:
                    continue
                if pending is not None and opening < pending[1]:  # only around DST changes
                    pending = (pending[0], max(pending[1], closing))
                    continue
                if pending is not None:
                    yield pending
                    limit = pending[1] + SEARCH_LIMIT
                pending = (opening, closing)
        day += timedelta(days=1)
        if pending is None and _boundary(day, 0, zone, closing=False) > limit:
            raise CalendarError("the calendar has no business time in the next three years")
        if pending is not None and _boundary(day, 0, zone, closing=False) > limit:
            yield pending
            limit = pending[1] + SEARCH_LIMIT
            pending = None


def add_business_time(calendar: Calendar, start: datetime, duration: timedelta) -> datetime:
    """The instant when ``duration`` of business time has passed after ``start``.

    A zero duration is ``start`` itself; otherwise the result lies in business time or at
    its close (a target of a full day, from opening, is due at closing, not next morning).
    """
    start = _aware(start)
    if duration < ZERO:
        raise ValueError("cannot add negative business time")
    if duration == ZERO:
        return start
    left = duration
    for opening, closing in _intervals(calendar, start):
        begin = max(opening, start)
        if left <= closing - begin:
            return begin + left
        left -= closing - begin
    raise AssertionError("unreachable: _intervals never ends")  # pragma: no cover


def business_time_between(calendar: Calendar, start: datetime, end: datetime) -> timedelta:
    """Business time from ``start`` to ``end``; negative when ``end`` comes first."""
    start, end = _aware(start), _aware(end)
    if end < start:
        return -business_time_between(calendar, end, start)
    total = ZERO
    for opening, closing in _intervals(calendar, start):
        if opening >= end:
            break
        total += min(closing, end) - max(opening, start)
        if closing >= end:
            break
    return total


def next_business_moment(calendar: Calendar, moment: datetime) -> datetime:
    """``moment`` if it is business time, else when business time next begins."""
    moment = _aware(moment)
    opening, _ = next(_intervals(calendar, moment))
    return max(opening, moment)


def is_business_time(calendar: Calendar, moment: datetime) -> bool:
    return next_business_moment(calendar, moment) == _aware(moment)


def add_business_minutes(calendar: Calendar, start: datetime, minutes: int) -> datetime:
    return add_business_time(calendar, start, timedelta(minutes=minutes))


def business_minutes_between(calendar: Calendar, start: datetime, end: datetime) -> float:
    return business_time_between(calendar, start, end) / timedelta(minutes=1)
