"""Business days for follow-ups and the moments agents pick, computed by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from inbox.rules.business_time import ALWAYS_OPEN, Holidays, weekly
from inbox.rules.followup_time import add_business_days, snooze_moment, snooze_presets

BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = weekly(
    "Europe/Berlin",
    {day: [("09:00", "12:00"), ("13:00", "17:00")] for day in ("mon", "tue", "wed", "thu", "fri")},
    closed_days=Holidays(extra=frozenset({date(2026, 12, 24)})),
)


def berlin(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        # Friday afternoon plus two business days: Tuesday, same time.
        (berlin(2026, 11, 27, 15, 30), 2, berlin(2026, 12, 1, 15, 30)),
        # Saturday counts from Monday on: one business day later is Monday.
        (berlin(2026, 11, 28, 11, 0), 1, berlin(2026, 11, 30, 11, 0)),
        # In the evening: at the day's last closing time.
        (berlin(2026, 11, 24, 20, 0), 1, berlin(2026, 11, 25, 17, 0)),
        # Early in the morning: at opening time.
        (berlin(2026, 11, 24, 6, 0), 3, berlin(2026, 11, 27, 9, 0)),
        # Over lunch: when the office opens again.
        (berlin(2026, 11, 24, 12, 30), 1, berlin(2026, 11, 25, 13, 0)),
        # A closing day of the desk (24 December) does not count.
        (berlin(2026, 12, 23, 10, 0), 1, berlin(2026, 12, 25, 10, 0)),
        # Across the change to winter time (25 October 2026): still 10:00 on the wall.
        (berlin(2026, 10, 23, 10, 0), 1, berlin(2026, 10, 26, 10, 0)),
        # Across the change to summer time (29 March 2026).
        (berlin(2026, 3, 27, 16, 0), 2, berlin(2026, 3, 31, 16, 0)),
    ],
)
def test_business_days_on_office_hours(start: datetime, days: int, expected: datetime) -> None:
    assert add_business_days(OFFICE, start, days) == expected.astimezone(UTC)


def test_round_the_clock_every_day_counts() -> None:
    start = datetime(2026, 11, 28, 23, 15, tzinfo=UTC)  # a Saturday night
    assert add_business_days(ALWAYS_OPEN, start, 3) == datetime(2026, 12, 1, 23, 15, tzinfo=UTC)


def test_tomorrow_nine_is_nine_on_the_desk_clock() -> None:
    now = datetime(2026, 3, 28, 22, 30, tzinfo=UTC)  # 23:30 in Berlin, before summer time
    presets = {key: moment for key, _, moment in snooze_presets(now, BERLIN)}
    assert presets["tomorrow"] == berlin(2026, 3, 29, 9, 0).astimezone(UTC)
    assert presets["tomorrow"].hour == 7  # summer time from that night on
    assert presets["monday"] == berlin(2026, 3, 30, 9, 0).astimezone(UTC)


def test_a_typed_moment_is_read_in_the_desk_zone() -> None:
    now = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    moment = snooze_moment(preset="", local_text="2026-11-25T09:00", now=now, zone=BERLIN)
    assert moment == datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    assert snooze_moment(preset="", local_text="next week", now=now, zone=BERLIN) is None
    assert snooze_moment(preset="nonsense", local_text="", now=now, zone=BERLIN) is None
