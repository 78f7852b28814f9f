"""Who has which ticket open, and who is typing a reply, as one web process heard it over the
desk's channel (``inbox.web.live.updates`` publishes and applies the messages): an entry lasts as
long as its connection's heartbeats, a typing mark a few seconds."""

from __future__ import annotations

from dataclasses import dataclass

from inbox.realtime.publish import Message

# A page sends a heartbeat every 20 s and "typing" at most every 2 s (partials/presence.html).
VIEWING_TTL = 45.0
TYPING_TTL = 6.0
SWEEP_SECONDS = 2.0


@dataclass
class Presence:
    agent_id: int
    name: str
    seen_until: float
    typing_until: float = 0.0

    def state(self, now: float) -> str:
        return "typing" if self.typing_until > now else "viewing"


@dataclass(frozen=True)
class Other:
    agent_id: int
    name: str
    state: str


class PresenceBoard:
    """Who has which ticket open, per connection key, as this process heard it."""

    def __init__(self) -> None:
        self.tickets: dict[int, dict[str, Presence]] = {}

    def apply(self, message: Message, now: float) -> tuple[int, bool, bool] | None:
        """Apply one presence message: (ticket id, whether what others see changed, whether the
        connection is new here). None for a malformed message."""
        try:
            ticket_id = int(message["ticket_id"])
            key = str(message["conn"])
            state = str(message["state"])
            agent_id = int(message["agent_id"])
            name = str(message["name"])[:200]
        except (KeyError, TypeError, ValueError):
            return None
        entries = self.tickets.setdefault(ticket_id, {})
        before = self.summary(ticket_id, now)
        known = key in entries
        if state == "left":
            entries.pop(key, None)
        else:
            entry = entries.get(key) or Presence(agent_id, name, now + VIEWING_TTL)
            entry.seen_until = now + VIEWING_TTL
            if state == "typing":
                entry.typing_until = now + TYPING_TTL
            entries[key] = entry
        if not entries:
            del self.tickets[ticket_id]
        return ticket_id, self.summary(ticket_id, now) != before, not known and state != "left"

    def sweep(self, now: float) -> list[int]:
        """Forget silent connections; the tickets whose picture changed (typing ended too)."""
        changed = []
        for ticket_id in list(self.tickets):
            before = self.summary(ticket_id, now - SWEEP_SECONDS)
            entries = self.tickets[ticket_id]
            for key in [k for k, p in entries.items() if p.seen_until <= now]:
                del entries[key]
            if not entries:
                del self.tickets[ticket_id]
            if self.summary(ticket_id, now) != before:
                changed.append(ticket_id)
        return changed

    def summary(self, ticket_id: int, now: float) -> list[Other]:
        by_agent: dict[int, Other] = {}
        for p in self.tickets.get(ticket_id, {}).values():
            if p.seen_until <= now:
                continue
            seen = by_agent.get(p.agent_id)
            if seen is None or (seen.state == "viewing" and p.state(now) == "typing"):
                by_agent[p.agent_id] = Other(p.agent_id, p.name, p.state(now))
        return sorted(by_agent.values(), key=lambda o: (o.name, o.agent_id))

    def others(self, ticket_id: int, agent_id: int, now: float) -> list[Other]:
        return [o for o in self.summary(ticket_id, now) if o.agent_id != agent_id]
