"""Business-time arithmetic, by hand-computed cases and by properties that hold for any input."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inbox.rules.business_time import (
    ALWAYS_OPEN,
    WEEKDAYS,
    Calendar,
    CalendarError,
    Holidays,
    add_business_minutes,
    add_business_time,
    business_minutes_between,
    business_time_between,
    is_business_time,
    next_business_moment,
    weekly,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
OFFICE = weekly(
    "Europe/Berlin",
    {day: [("09:00", "17:00")] for day in WEEKDAYS[:5]},
    closed_days=Holidays("DE", "BE"),
)
EVERY_DAY_ALL_DAY = weekly("Europe/Berlin", {day: [("00:00", "24:00")] for day in WEEKDAYS})


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)  # type: ignore[misc]


# --- daylight-saving changes -------------------------------------------------------------


def test_spring_forward_weekend_friday_afternoon_to_monday_morning() -> None:
    # Sunday 2026-03-29 02:00 CET becomes 03:00 CEST; Monday opens at 09:00 CEST (07:00 UTC).
    due = add_business_minutes(OFFICE, berlin(2026, 3, 27, 16, 0), 120)
    assert due == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)
    assert due.astimezone(BERLIN).hour == 10


def test_autumn_back_weekend_friday_afternoon_to_monday_morning() -> None:
    # Sunday 2026-10-25 03:00 CEST becomes 02:00 CET; Monday 10:00 CET is 09:00 UTC.
    due = add_business_minutes(OFFICE, berlin(2026, 10, 23, 16, 0), 120)
    assert due == datetime(2026, 10, 26, 9, 0, tzinfo=UTC)


def test_the_spring_day_has_23_business_hours_and_the_autumn_day_25() -> None:
    spring = business_time_between(
        EVERY_DAY_ALL_DAY, berlin(2026, 3, 29, 0, 0), berlin(2026, 3, 30, 0, 0)
    )
    autumn = business_time_between(
        EVERY_DAY_ALL_DAY, berlin(2026, 10, 25, 0, 0), berlin(2026, 10, 26, 0, 0)
    )
    assert (spring, autumn) == (timedelta(hours=23), timedelta(hours=25))


def test_night_shift_across_the_changes() -> None:
    nights = weekly("Europe/Berlin", {day: [("01:00", "04:00")] for day in WEEKDAYS})
    # Spring: 01:00 CET to 04:00 CEST is two hours; autumn: 01:00 CEST to 04:00 CET is four.
    spring = business_time_between(nights, berlin(2026, 3, 29, 0, 0), berlin(2026, 3, 29, 12, 0))
    autumn = business_time_between(nights, berlin(2026, 10, 25, 0, 0), berlin(2026, 10, 25, 12, 0))
    assert (spring, autumn) == (timedelta(hours=2), timedelta(hours=4))


def test_opening_inside_the_spring_gap_opens_when_the_clocks_jump() -> None:
    early = weekly("Europe/Berlin", {day: [("02:30", "05:00")] for day in WEEKDAYS})
    opens = next_business_moment(early, berlin(2026, 3, 29, 0, 0))
    assert opens == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # 03:00 CEST
    assert add_business_minutes(early, opens, 120) == datetime(2026, 3, 29, 3, 0, tzinfo=UTC)
    assert add_business_minutes(early, opens, 121).astimezone(BERLIN) == berlin(2026, 3, 30, 2, 31)


def test_closing_time_shown_twice_closes_at_its_second_showing() -> None:
    late = weekly("Europe/Berlin", {day: [("01:00", "02:30")] for day in WEEKDAYS})
    # 01:00 CEST (23:00 UTC) until the second 02:30, in CET (01:30 UTC): two and a half hours.
    hours = business_time_between(late, berlin(2026, 10, 24, 12, 0), berlin(2026, 10, 25, 12, 0))
    assert hours == timedelta(hours=2, minutes=30)


def test_new_york_spring_forward() -> None:
    office = weekly("America/New_York", {day: [("09:00", "17:00")] for day in WEEKDAYS[:5]})
    start = datetime(2026, 3, 6, 16, 0, tzinfo=NEW_YORK)  # Friday, EST
    assert add_business_minutes(office, start, 120) == datetime(2026, 3, 9, 14, 0, tzinfo=UTC)


def test_round_the_clock_is_elapsed_time_even_across_the_change() -> None:
    start = berlin(2026, 3, 28, 23, 0)
    due = add_business_minutes(ALWAYS_OPEN, start, 240)
    assert due == datetime(2026, 3, 29, 2, 0, tzinfo=UTC)
    assert due.astimezone(BERLIN) == berlin(2026, 3, 29, 4, 0)  # five hours on the wall
    assert business_minutes_between(ALWAYS_OPEN, start, due) == 240


# --- holidays, nights and weekends --------------------------------------------------------


def test_easter_holidays_inside_the_window_are_skipped() -> None:
    # Good Friday 2026-04-03 and Easter Monday 2026-04-06 are public holidays in Berlin.
    due = add_business_minutes(OFFICE, berlin(2026, 4, 2, 16, 0), 120)
    assert due.astimezone(BERLIN) == berlin(2026, 4, 7, 10, 0)


def test_a_holiday_of_one_state_is_business_time_in_another() -> None:
    # International Women's Day (Sunday 8 March) is Berlin-only; 2027-03-08 is a Monday.
    hamburg = weekly(
        "Europe/Berlin",
        {day: [("09:00", "17:00")] for day in WEEKDAYS[:5]},
        closed_days=Holidays("DE", "HH"),
    )
    start = berlin(2027, 3, 5, 16, 0)
    assert add_business_minutes(hamburg, start, 120) == berlin(2027, 3, 8, 10, 0)
    assert add_business_minutes(OFFICE, start, 120) == berlin(2027, 3, 9, 10, 0)


def test_custom_closing_days_are_skipped() -> None:
    closed = weekly(
        "Europe/Berlin",
        {day: [("09:00", "17:00")] for day in WEEKDAYS[:5]},
        closed_days=Holidays(extra=frozenset({date(2026, 6, 15)})),
    )
    assert add_business_minutes(closed, berlin(2026, 6, 12, 16, 0), 120) == berlin(
        2026, 6, 16, 10, 0
    )


def test_the_night_is_not_counted() -> None:
    assert add_business_minutes(OFFICE, berlin(2026, 6, 8, 16, 30), 60) == berlin(2026, 6, 9, 9, 30)


def test_a_weekend_pause_counts_only_business_hours() -> None:
    minutes = business_minutes_between(OFFICE, berlin(2026, 6, 12, 16, 0), berlin(2026, 6, 15, 10))
    assert minutes == 120


def test_lunch_break() -> None:
    split = weekly(
        "Europe/Berlin", {day: [("09:00", "12:00"), ("13:00", "17:00")] for day in WEEKDAYS[:5]}
    )
    assert add_business_minutes(split, berlin(2026, 6, 8, 11, 30), 60) == berlin(2026, 6, 8, 13, 30)


def test_starting_outside_hours_starts_at_the_next_opening() -> None:
    saturday_noon = berlin(2026, 6, 13, 12, 0)
    assert next_business_moment(OFFICE, saturday_noon) == berlin(2026, 6, 15, 9, 0)
    assert add_business_minutes(OFFICE, saturday_noon, 30) == berlin(2026, 6, 15, 9, 30)
    assert next_business_moment(OFFICE, berlin(2026, 6, 12, 17, 0)) == berlin(2026, 6, 15, 9)
    tuesday = berlin(2026, 6, 9, 10, 0)
    assert next_business_moment(OFFICE, tuesday) == tuesday


def test_a_full_day_from_opening_is_due_at_closing_not_next_morning() -> None:
    assert add_business_minutes(OFFICE, berlin(2026, 6, 8, 9, 0), 480) == berlin(2026, 6, 8, 17)


def test_time_between_is_negative_when_the_end_comes_first() -> None:
    assert business_minutes_between(OFFICE, berlin(2026, 6, 9, 10), berlin(2026, 6, 8, 16)) == -120


def test_zero_minutes_is_the_start_itself_even_at_night() -> None:
    night = berlin(2026, 6, 9, 23, 0)
    assert add_business_minutes(OFFICE, night, 0) == night


def test_bad_calendars_are_refused() -> None:
    with pytest.raises(CalendarError):
        weekly("Mars/Olympus", {"mon": [("09:00", "17:00")]})
    with pytest.raises(CalendarError):
        weekly("Europe/Berlin", {})
    with pytest.raises(CalendarError):
        weekly("Europe/Berlin", {"mon": [("17:00", "09:00")]})
    with pytest.raises(CalendarError):
        weekly("Europe/Berlin", {"mon": [("09:00", "13:00"), ("12:00", "17:00")]})
    with pytest.raises(CalendarError):
        Holidays("XX")


def test_a_calendar_closed_for_years_is_refused_not_searched_forever() -> None:
    everything = Holidays(
        extra=frozenset(date(2026, 1, 1) + timedelta(days=n) for n in range(4 * 366))
    )
    closed = weekly("UTC", {"mon": [("09:00", "17:00")]}, closed_days=everything)
    with pytest.raises(CalendarError):
        add_business_minutes(closed, datetime(2026, 1, 1, tzinfo=UTC), 1)


# --- properties ----------------------------------------------------------------------------

CALENDARS = st.sampled_from(
    [
        OFFICE,
        ALWAYS_OPEN,
        EVERY_DAY_ALL_DAY,
        weekly("Europe/Berlin", {day: [("01:00", "04:00")] for day in WEEKDAYS}),
        weekly("Europe/Berlin", {day: [("02:30", "05:00")] for day in WEEKDAYS}),
        weekly(
            "Europe/Berlin", {day: [("00:00", "02:30"), ("22:00", "24:00")] for day in WEEKDAYS}
        ),
        weekly(
            "America/New_York",
            {day: [("08:00", "12:00"), ("13:00", "18:30")] for day in WEEKDAYS[:6]},
            closed_days=Holidays("US"),
        ),
        weekly("Australia/Lord_Howe", {"sun": [("01:00", "03:00")], "wed": [("10:00", "11:00")]}),
        Calendar(timezone="Asia/Kolkata", weekly_hours=((), (), (), (), (), ((600, 900),), ())),
    ]
)
INSTANTS = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)
MINUTES = st.integers(min_value=0, max_value=60 * 24 * 20)


@settings(max_examples=300, deadline=None)
@given(CALENDARS, INSTANTS, MINUTES)
def test_adding_then_measuring_gives_back_the_minutes(
    calendar: Calendar, start: datetime, minutes: int
) -> None:
    due = add_business_minutes(calendar, start, minutes)
    assert business_time_between(calendar, start, due) == timedelta(minutes=minutes)
    assert due >= start


@settings(max_examples=200, deadline=None)
@given(CALENDARS, INSTANTS, MINUTES, MINUTES)
def test_more_minutes_are_never_due_earlier(
    calendar: Calendar, start: datetime, a: int, b: int
) -> None:
    low, high = sorted((a, b))
    assert add_business_minutes(calendar, start, low) <= add_business_minutes(calendar, start, high)


@settings(max_examples=200, deadline=None)
@given(CALENDARS, INSTANTS, INSTANTS, MINUTES)
def test_a_later_start_is_never_due_earlier(
    calendar: Calendar, a: datetime, b: datetime, minutes: int
) -> None:
    early, late = sorted((a, b))
    assert add_business_minutes(calendar, early, minutes) <= add_business_minutes(
        calendar, late, minutes
    )


@settings(max_examples=200, deadline=None)
@given(CALENDARS, INSTANTS, st.integers(min_value=1, max_value=60 * 24 * 20))
def test_a_due_time_is_reached_in_business_time(
    calendar: Calendar, start: datetime, minutes: int
) -> None:
    due = add_business_minutes(calendar, start, minutes)
    tick = timedelta(microseconds=1)
    assert business_time_between(calendar, due - tick, due) == tick


@settings(max_examples=200, deadline=None)
@given(CALENDARS, INSTANTS, INSTANTS, INSTANTS)
def test_measuring_adds_up_and_never_exceeds_elapsed_time(
    calendar: Calendar, a: datetime, b: datetime, c: datetime
) -> None:
    first, middle, last = sorted((a, b, c))
    whole = business_time_between(calendar, first, last)
    assert whole == business_time_between(calendar, first, middle) + business_time_between(
        calendar, middle, last
    )
    assert timedelta(0) <= whole <= last - first


@settings(max_examples=200, deadline=None)
@given(CALENDARS, INSTANTS)
def test_the_next_business_moment_is_open_and_nothing_opens_before_it(
    calendar: Calendar, moment: datetime
) -> None:
    opens = next_business_moment(calendar, moment)
    assert opens >= moment
    assert is_business_time(calendar, opens)
    assert business_time_between(calendar, moment, opens) == timedelta(0)
    tick = timedelta(microseconds=1)
    assert add_business_time(calendar, moment, tick) == opens + tick
