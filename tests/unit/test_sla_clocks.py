"""Replaying a ticket's history into clocks, on a round-the-clock calendar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from inbox.rules.business_time import ALWAYS_OPEN, weekly
from inbox.rules.sla_clocks import CUSTOMER, RESPONSE, STATUS, Happening, Targets, replay

BERLIN = ZoneInfo("Europe/Berlin")
T0 = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
TARGETS = Targets(first_response=HOUR, next_response=2 * HOUR, resolution=8 * HOUR)


def minutes(n: int) -> datetime:
    return T0 + timedelta(minutes=n)


def _replay(happenings: list[Happening], now: datetime) -> dict[str, tuple[str, datetime | None]]:
    result = replay(ALWAYS_OPEN, created_at=T0, happenings=happenings, targets=TARGETS, now=now)
    return {target: (clock.state, clock.due_at) for target, clock in result.clocks.items()}


def test_an_answer_at_the_deadline_itself_is_in_time() -> None:
    clocks = _replay([Happening(minutes(60), RESPONSE)], now=minutes(90))
    assert clocks["first_response"] == ("met", minutes(60))


def test_an_unanswered_clock_is_breached_at_its_deadline() -> None:
    result = replay(ALWAYS_OPEN, created_at=T0, happenings=[], targets=TARGETS, now=minutes(60))
    assert result.clocks["first_response"].state == "breached"
    assert result.clocks["first_response"].breached_at == minutes(60)


def test_later_messages_before_the_first_answer_start_no_next_response_clock() -> None:
    clocks = _replay([Happening(minutes(10), CUSTOMER)], now=minutes(20))
    assert set(clocks) == {"first_response", "resolution"}


def test_a_customer_writing_to_a_resolved_ticket_reopens_it_and_waits_for_an_answer() -> None:
    happenings = [
        Happening(minutes(10), RESPONSE),
        Happening(minutes(20), STATUS, "resolved"),
        # Mail coming in reopens the ticket in the same instant it arrives.
        Happening(minutes(200), STATUS, "open"),
        Happening(minutes(200), CUSTOMER),
    ]
    result = replay(
        ALWAYS_OPEN, created_at=T0, happenings=happenings, targets=TARGETS, now=minutes(210)
    )
    following = result.clocks["next_response"]
    assert (following.state, following.due_at) == ("running", minutes(320))
    assert [t.kind for t in following.transitions] == ["started"]
    resolution = result.clocks["resolution"]
    assert (resolution.state, resolution.due_at) == ("running", minutes(200 + 460))


def test_resolving_without_an_answer_stops_the_first_response_clock() -> None:
    happenings = [Happening(minutes(30), STATUS, "closed")]
    result = replay(
        ALWAYS_OPEN, created_at=T0, happenings=happenings, targets=TARGETS, now=minutes(120)
    )
    first = result.clocks["first_response"]
    assert (first.state, first.stopped_at) == ("met", minutes(30))
    assert [t.kind for t in first.transitions] == ["started", "stopped"]


def test_happenings_after_now_do_not_count_yet() -> None:
    clocks = _replay([Happening(minutes(30), RESPONSE)], now=minutes(20))
    assert clocks["first_response"] == ("running", minutes(60))


def test_a_pause_over_the_weekend_counts_only_business_hours_before_and_after() -> None:
    office = weekly(
        "Europe/Berlin", {day: [("09:00", "17:00")] for day in ("mon", "tue", "wed", "thu", "fri")}
    )
    created = datetime(2027, 1, 7, 16, 0, tzinfo=BERLIN)  # Thursday
    happenings = [
        Happening(datetime(2027, 1, 8, 10, 0, tzinfo=BERLIN), STATUS, "waiting_on_customer"),
        Happening(datetime(2027, 1, 11, 15, 0, tzinfo=BERLIN), STATUS, "open"),  # Monday
    ]
    result = replay(
        office,
        created_at=created,
        happenings=happenings,
        targets=Targets(resolution=8 * HOUR),
        now=datetime(2027, 1, 11, 15, 30, tzinfo=BERLIN),
    )
    resolution = result.clocks["resolution"]
    # Two hours used before the pause, six left: Monday 15-17 and Tuesday 09-13.
    assert resolution.due_at == datetime(2027, 1, 12, 13, 0, tzinfo=BERLIN)
    assert resolution.remaining(datetime(2027, 1, 11, 15, 30, tzinfo=BERLIN)) == 5.5 * HOUR
    assert [t.kind for t in resolution.transitions] == ["started", "paused", "resumed"]
