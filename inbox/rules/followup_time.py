"""When follow-ups are due: business days on a calendar, and the moments an agent picks.

Pure code: no database, no I/O. Instants are timezone-aware; results are UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from inbox.rules.business_time import SEARCH_LIMIT, Calendar, CalendarError

# How far ahead an agent may snooze a ticket.
LATEST_SNOOZE = timedelta(days=366)
MORNING = time(9, 0)


def is_business_day(calendar: Calendar, day: date) -> bool:
    if calendar.always_open:
        return True
    return bool(calendar.weekly_hours[day.weekday()]) and day not in calendar.closed_days


def add_business_days(calendar: Calendar, start: datetime, days: int) -> datetime:
    """The moment ``days`` business days after ``start``: on the ``days``-th business day
    after the start's local date, at the start's wall-clock time moved into that day's
    opening hours (to the opening when earlier, to the last closing when later). Round the
    clock, every day is a business day and the result is ``days`` times 24 hours later."""
    if days < 0:
        raise ValueError("days must not be negative")
    if calendar.always_open:
        return (start + timedelta(days=days)).astimezone(UTC)
    zone = calendar.zone
    local = start.astimezone(zone)
    day = local.date()
    counted = 0
    limit = day + SEARCH_LIMIT
    while counted < days:
        day += timedelta(days=1)
        if day > limit:
            raise CalendarError("the calendar has no business days in three years")
        if is_business_day(calendar, day):
            counted += 1
    minute = local.hour * 60 + local.minute
    hours = calendar.weekly_hours[day.weekday()] or ((0, 24 * 60),)
    chosen = _into_hours(minute, hours)
    if chosen >= 24 * 60:
        moment = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
    else:
        moment = datetime.combine(day, time(chosen // 60, chosen % 60), tzinfo=zone)
        if chosen == minute:
            moment = moment.replace(second=local.second, microsecond=local.microsecond)
    return moment.astimezone(UTC)


def _into_hours(minute: int, hours: tuple[tuple[int, int], ...]) -> int:
    for opens, closes in hours:
        if minute < opens:
            return opens
        if minute < closes:
            return minute
    return hours[-1][1]


def zone_named(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def snooze_presets(now: datetime, zone: ZoneInfo) -> list[tuple[str, str, datetime]]:
    """The choices offered beside the date and time field: (key, label, moment in UTC)."""
    local = now.astimezone(zone)
    tomorrow = local.date() + timedelta(days=1)
    monday = local.date() + timedelta(days=7 - local.weekday())
    return [
        ("3h", "In 3 hours", (now + timedelta(hours=3)).astimezone(UTC)),
        ("tomorrow", "Tomorrow 9:00", _at(tomorrow, MORNING, zone)),
        ("monday", "Next Monday 9:00", _at(monday, MORNING, zone)),
        ("week", "In a week, 9:00", _at(local.date() + timedelta(days=7), MORNING, zone)),
    ]


def _at(day: date, clock: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)


def snooze_moment(
    *, preset: str, local_text: str, now: datetime, zone: ZoneInfo
) -> datetime | None:
    """The moment an agent chose: a preset's key, or a ``YYYY-MM-DDTHH:MM`` wall-clock time
    in ``zone`` (what a ``datetime-local`` field sends). None when neither makes sense."""
    if preset:
        found = {key: moment for key, _, moment in snooze_presets(now, zone)}
        return found.get(preset)
    try:
        wall = datetime.fromisoformat(local_text.strip())
    except ValueError:
        return None
    if wall.tzinfo is not None:
        return wall.astimezone(UTC)
    return wall.replace(tzinfo=zone).astimezone(UTC)
