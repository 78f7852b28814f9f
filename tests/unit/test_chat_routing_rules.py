"""Live chat routing as pure rules (``inbox.rules.chat_routing``): which agent a waiting chat
is offered to, what a visitor about to write is told, and the wait they are promised."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from inbox.rules.chat_routing import (
    AWAY,
    BUSY,
    CONSOLE_GONE,
    DEFAULT_LIMIT,
    OPEN,
    ROUTING_DEFAULTS,
    Candidate,
    desk_state,
    estimated_wait,
    pick_agent,
    present,
    routing_settings,
)

NOW = datetime(2025, 3, 12, 10, 0, tzinfo=UTC)


def agent(
    agent_id: int,
    *,
    load: int = 0,
    limit: int = DEFAULT_LIMIT,
    status: str = "available",
    seen: timedelta | None = timedelta(seconds=5),
    last_offer: timedelta | None = None,
) -> Candidate:
    """An agent whose console was heard from ``seen`` ago, last offered a chat ``last_offer``
    ago (None: never)."""
    return Candidate(
        agent_id=agent_id,
        status=status,
        limit=limit,
        load=load,
        console_seen_at=None if seen is None else NOW - seen,
        last_offer_at=None if last_offer is None else NOW - last_offer,
    )


# -- pick_agent ------------------------------------------------------------------------------


def test_the_chat_goes_to_the_available_agent_with_the_fewest_open_chats() -> None:
    pool = [agent(1, load=2), agent(2, load=0), agent(3, load=1)]
    assert pick_agent(pool, NOW) == 2
    assert pick_agent(list(reversed(pool)), NOW) == 2  # whatever the order they come in


def test_an_agent_at_their_limit_is_passed_over_even_with_the_fewest_chats_of_all() -> None:
    pool = [agent(1, load=1, limit=1), agent(2, load=2, limit=3)]
    assert pick_agent(pool, NOW) == 2
    assert pick_agent([agent(1, load=3, limit=3), agent(2, load=5, limit=3)], NOW) is None


def test_agents_with_equal_load_take_turns_the_one_offered_a_chat_longest_ago_first() -> None:
    recently, long_ago = timedelta(seconds=10), timedelta(minutes=30)
    assert pick_agent([agent(1, last_offer=recently), agent(2, last_offer=long_ago)], NOW) == 2
    assert pick_agent([agent(1, last_offer=long_ago), agent(2, last_offer=recently)], NOW) == 1
    # One never offered a chat comes before anyone who was.
    assert pick_agent([agent(1, last_offer=long_ago), agent(2, last_offer=None)], NOW) == 2


def test_taking_turns_goes_round_every_agent_of_equal_load() -> None:
    """Each offer stamps its agent's turn: four chats in a row (each over before the next)
    reach the three agents in turn, then the first again."""
    pool = {n: agent(n, last_offer=timedelta(hours=n)) for n in (1, 2, 3)}
    offered = []
    for minute in range(4):
        at = NOW + timedelta(minutes=minute)
        chosen = pick_agent(pool.values(), at)
        assert chosen is not None
        offered.append(chosen)
        pool = {n: replace(c, console_seen_at=at) for n, c in pool.items()}
        pool[chosen] = replace(pool[chosen], last_offer_at=at)
    assert offered == [3, 2, 1, 3]


def test_fewer_chats_wins_over_waiting_longer_for_a_turn() -> None:
    pool = [agent(1, load=1, last_offer=timedelta(hours=2)), agent(2, load=0, last_offer=None)]
    assert pick_agent(pool, NOW) == 2
    pool = [agent(1, load=0, last_offer=timedelta(seconds=1)), agent(2, load=1)]
    assert pick_agent(pool, NOW) == 1


def test_a_console_silent_for_more_than_two_minutes_counts_as_away() -> None:
    gone = CONSOLE_GONE + timedelta(seconds=1)
    assert pick_agent([agent(1, seen=gone), agent(2, load=2)], NOW) == 2
    assert pick_agent([agent(1, seen=gone)], NOW) is None
    assert pick_agent([agent(1, seen=None)], NOW) is None  # never opened the console
    assert pick_agent([agent(1, seen=CONSOLE_GONE)], NOW) == 1  # two minutes exactly: still here
    assert not present(agent(1, seen=gone), NOW)
    assert present(agent(1, seen=gone), NOW - timedelta(seconds=2))


@pytest.mark.parametrize("status", ["away", "offline"])
def test_an_agent_away_or_offline_is_never_offered_a_chat(status: str) -> None:
    assert pick_agent([agent(1, status=status)], NOW) is None
    assert pick_agent([agent(1, status=status), agent(2, load=2)], NOW) == 2
    assert not present(agent(1, status=status, seen=timedelta(0)), NOW)


def test_an_agent_whose_offer_lapsed_gets_it_again_only_when_nobody_else_can() -> None:
    pool = [agent(1, load=0, last_offer=timedelta(hours=1)), agent(2, load=2)]
    assert pick_agent(pool, NOW) == 1
    assert pick_agent(pool, NOW, passing=1) == 2  # more chats than agent 1, but not passing
    assert pick_agent([agent(1)], NOW, passing=1) == 1  # nobody else
    # Somebody else who is away or full does not count as somebody.
    assert pick_agent([agent(1), agent(2, status="away")], NOW, passing=1) == 1
    assert pick_agent([agent(1), agent(2, load=3, limit=3)], NOW, passing=1) == 1
    assert pick_agent([agent(1, status="away"), agent(2, load=3, limit=3)], NOW, passing=1) is None


def test_nobody_to_offer_to_when_there_are_no_agents() -> None:
    assert pick_agent([], NOW) is None
    assert pick_agent([], NOW, passing=1) is None


# -- desk_state ------------------------------------------------------------------------------


def test_the_desk_is_open_with_an_agent_present_and_room_in_the_queue() -> None:
    assert desk_state(open_hours=True, agents_present=1, waiting=0, queue_cap=20) == OPEN
    assert desk_state(open_hours=True, agents_present=3, waiting=19, queue_cap=20) == OPEN


def test_the_desk_is_away_outside_business_hours_or_with_nobody_present() -> None:
    assert desk_state(open_hours=False, agents_present=5, waiting=0, queue_cap=20) == AWAY
    assert desk_state(open_hours=True, agents_present=0, waiting=0, queue_cap=20) == AWAY
    # Away comes first: a full queue with nobody there is not "busy".
    assert desk_state(open_hours=True, agents_present=0, waiting=20, queue_cap=20) == AWAY
    assert desk_state(open_hours=False, agents_present=2, waiting=20, queue_cap=20) == AWAY


def test_the_desk_is_busy_once_the_queue_is_at_its_cap() -> None:
    assert desk_state(open_hours=True, agents_present=2, waiting=20, queue_cap=20) == BUSY
    assert desk_state(open_hours=True, agents_present=2, waiting=25, queue_cap=20) == BUSY
    assert desk_state(open_hours=True, agents_present=2, waiting=1, queue_cap=1) == BUSY
    assert desk_state(open_hours=True, agents_present=2, waiting=0, queue_cap=1) == OPEN


# -- estimated_wait --------------------------------------------------------------------------


def test_no_estimate_without_chats_taken_lately_or_without_agents() -> None:
    assert estimated_wait(1, [], 2) is None
    assert estimated_wait(1, [60.0], 0) is None
    assert estimated_wait(0, [60.0], 1) is None  # not in the queue


def test_the_estimate_is_the_median_wait_once_per_round_of_the_agents_present() -> None:
    waits = [30.0, 60.0, 600.0]  # one long wait does not move the median
    assert estimated_wait(1, waits, 1) == 60
    assert estimated_wait(2, waits, 1) == 120
    assert estimated_wait(3, waits, 1) == 180
    # Two agents: places 1 and 2 are the first round, 3 and 4 the second.
    assert [estimated_wait(p, waits, 2) for p in (1, 2, 3, 4, 5)] == [60, 60, 120, 120, 180]
    assert estimated_wait(4, [10.0, 20.0], 4) == 15  # an even count: the middle two


def test_the_estimate_is_whole_seconds_and_never_zero() -> None:
    assert estimated_wait(1, [0.2], 1) == 1
    assert estimated_wait(1, [0.0, 0.0], 3) == 1
    assert estimated_wait(1, [12.6], 1) == 13
    assert isinstance(estimated_wait(1, [12.6], 1), int)


# -- routing_settings ------------------------------------------------------------------------


def test_a_channel_without_routing_settings_gets_the_defaults() -> None:
    settings = routing_settings({"widget_key": "w123", "origins": ["https://shop.example"]})
    assert settings == ROUTING_DEFAULTS
    assert settings.team_id is None and settings.calendar_id is None
    assert settings.queue_cap == 20 and settings.offer_seconds == 45
    assert "away" in settings.away_message and "busy" in settings.busy_message


def test_a_channels_own_routing_settings_win_over_the_defaults() -> None:
    settings = routing_settings({"team_id": 4, "queue_cap": 2, "away_message": "Back at 9."})
    assert settings.team_id == 4 and settings.queue_cap == 2
    assert settings.away_message == "Back at 9."
    assert settings.offer_seconds == 45 and settings.calendar_id is None
