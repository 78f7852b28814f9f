"""Chats open at once, by hour of the day and per agent (``inbox.rules.chat_load``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from inbox.rules.chat_load import AgentLoad, agent_load, clip, hourly_load, hours_touched

UTC_ZONE = ZoneInfo("UTC")


def t(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def test_an_hour_averages_the_chats_open_over_its_time_and_keeps_the_most() -> None:
    spans = [(t(2, 9), t(2, 9, 30)), (t(2, 9, 15), t(2, 10, 15))]
    load = hourly_load(spans, t(2, 0), t(3, 0), UTC_ZONE)
    # 30 + 45 chat-minutes in the 60 minutes of 09:00; two at once from 09:15 to 09:30.
    assert (load[9].average, load[9].most) == (1.25, 2)
    assert (load[10].average, load[10].most) == (0.25, 1)
    assert all(h.most == 0 and h.average == 0 for h in load if h.hour not in (9, 10))


def test_the_average_is_over_every_day_of_the_period() -> None:
    load = hourly_load([(t(2, 9), t(2, 10))], t(2, 0), t(4, 0), UTC_ZONE)
    assert (load[9].average, load[9].most) == (0.5, 1)


def test_a_chat_ending_as_another_begins_is_not_two_at_once() -> None:
    spans = [(t(2, 9), t(2, 9, 20)), (t(2, 9, 20), t(2, 9, 40))]
    assert hourly_load(spans, t(2, 0), t(3, 0), UTC_ZONE)[9].most == 1
    assert agent_load(spans) == AgentLoad(1, 1.0)


def test_hours_are_those_of_the_zones_wall_clock_across_a_change_of_time() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    # 29 March 2026: Berlin's clocks go from 02:00 to 03:00 (UTC+1 to UTC+2).
    before, after = (
        datetime(2026, 3, 29, 0, 30, tzinfo=UTC),
        datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
    )
    assert hours_touched((before, before + timedelta(minutes=10)), berlin) == {1}
    assert hours_touched((after, after + timedelta(minutes=10)), berlin) == {3}
    day_start = datetime(2026, 3, 28, 23, tzinfo=UTC)  # Berlin's midnight
    load = hourly_load([(before, after)], day_start, day_start + timedelta(hours=23), berlin)
    # Berlin's day has no 02:00 hour: the chat fills 01:00 and half of 03:00.
    assert (load[1].average, load[2].average, load[3].average) == (0.5, 0.0, 0.5)


def test_a_zone_half_an_hour_off_utc_splits_the_utc_hours() -> None:
    kolkata = ZoneInfo("Asia/Kolkata")  # UTC+05:30
    assert hours_touched((t(2, 9), t(2, 10)), kolkata) == {14, 15}


def test_an_agent_load_averages_over_the_time_with_a_chat_open() -> None:
    spans = [(t(2, 9), t(2, 10)), (t(2, 9, 30), t(2, 10)), (t(2, 12), t(2, 12, 30))]
    # 120 chat-minutes over the 90 minutes with any open; two at once at most.
    assert agent_load(spans) == AgentLoad(2, 120 / 90)
    assert agent_load([]) == AgentLoad(0, 0.0)


def test_spans_are_clipped_to_the_period() -> None:
    spans = [(t(1, 23), t(2, 1)), (t(3, 5), t(3, 6))]
    assert clip(spans, t(2, 0), t(3, 0)) == [(t(2, 0), t(2, 1))]
