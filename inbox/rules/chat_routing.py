"""Live chat routing, as pure rules: which agent a waiting chat is offered to, what the
visitor is told about the wait, and whether the desk takes chats at all just now.

A chat waits in its channel's queue and is offered to one agent at a time: the available agent
with the fewest open chats below their limit, ties taking turns (the one offered a chat
longest ago first). An agent whose console has not been heard from for ``CONSOLE_GONE`` counts
as away, whatever they set.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

AVAILABILITY = ("available", "away", "offline")
CONSOLE_GONE = timedelta(minutes=2)
# A console heard from is written down at most this often.
CONSOLE_STAMP = timedelta(seconds=30)
DEFAULT_LIMIT = 3
MAX_LIMIT = 20

# The desk's answer to a visitor about to write.
OPEN, AWAY, BUSY = "open", "away", "busy"


# A channel's routing settings (in its config), and their defaults.
@dataclass(frozen=True)
class RoutingSettings:
    """How a chat channel routes, kept in its ``config`` under these names."""

    team_id: int | None = None  # the queue's agents: a team's members, or every agent
    calendar_id: int | None = None  # the business hours chats are answered in; None: always
    queue_cap: int = 20  # chats waiting at once before new visitors are told all are busy
    offer_seconds: int = 45  # an offer not taken by then moves on to the next agent
    away_message: str = (
        "We are away just now. Leave a message with your email address and we will answer"
        " as soon as we are back."
    )
    busy_message: str = (
        "All our agents are busy just now. Leave a message and we will answer as soon as we can."
    )


ROUTING_DEFAULTS = RoutingSettings()
MIN_OFFER_SECONDS = 10
MAX_MESSAGE_CHARS = 500


@dataclass(frozen=True)
class Candidate:
    """One agent the queue may offer chats to."""

    agent_id: int
    status: str
    limit: int
    load: int  # open chats taken or offered to them
    console_seen_at: datetime | None
    last_offer_at: datetime | None


def present(candidate: Candidate, now: datetime) -> bool:
    """Available, and their console heard from within ``CONSOLE_GONE``."""
    return (
        candidate.status == "available"
        and candidate.console_seen_at is not None
        and now - candidate.console_seen_at <= CONSOLE_GONE
    )


def pick_agent(
    candidates: Iterable[Candidate], now: datetime, *, passing: int | None = None
) -> int | None:
    """The agent to offer the next chat to, or None when every one is away or full.
    ``passing`` is the agent whose offer just lapsed: anyone else comes first."""
    free = [c for c in candidates if present(c, now) and c.load < c.limit]
    others = [c for c in free if c.agent_id != passing]
    pool = others or free
    if not pool:
        return None
    never = datetime.min.replace(tzinfo=UTC)
    return min(pool, key=lambda c: (c.load, c.last_offer_at or never, c.agent_id)).agent_id


def desk_state(*, open_hours: bool, agents_present: int, waiting: int, queue_cap: int) -> str:
    """``open`` when a new chat would queue for an agent; ``away`` outside business hours or
    with nobody available; ``busy`` when the queue is at its cap."""
    if not open_hours or agents_present == 0:
        return AWAY
    if waiting >= queue_cap:
        return BUSY
    return OPEN


def estimated_wait(position: int, recent_waits: Sequence[float], agents_present: int) -> int | None:
    """Seconds until an agent takes the chat at ``position`` (1 is next): the median wait of
    the chats taken lately, once per round of the agents present. None when there is nothing
    to go by."""
    if position < 1 or not recent_waits or agents_present < 1:
        return None
    rounds = math.ceil(position / agents_present)
    return max(1, round(statistics.median(recent_waits) * rounds))


def routing_settings(config: dict[str, Any]) -> RoutingSettings:
    """A channel's routing settings, its own over the defaults."""

    def number(key: str, default: int | None) -> int | None:
        value = config.get(key, default)
        return int(value) if value is not None else None

    d = ROUTING_DEFAULTS
    return RoutingSettings(
        team_id=number("team_id", d.team_id),
        calendar_id=number("calendar_id", d.calendar_id),
        queue_cap=number("queue_cap", d.queue_cap) or 0,
        offer_seconds=number("offer_seconds", d.offer_seconds) or 0,
        away_message=str(config.get("away_message", d.away_message)),
        busy_message=str(config.get("busy_message", d.busy_message)),
    )
