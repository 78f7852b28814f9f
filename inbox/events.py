"""Domain events: what committed, for the composition root to act on.

Actions record events on the session; they are handed to the dispatcher only
after the unit of work commits, so nothing is pushed or enqueued for a
transaction that rolled back.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session


@dataclass(frozen=True)
class Event:
    pass


@dataclass(frozen=True)
class InboundStored(Event):
    item_id: int
    # Posted to a webhook, one event per request, rather than read in a batch.
    pushed: bool = False


@dataclass(frozen=True)
class OutboxQueued(Event):
    outbox_id: int


@dataclass(frozen=True)
class TicketCreated(Event):
    ticket_id: int


@dataclass(frozen=True)
class TicketChanged(Event):
    ticket_id: int


@dataclass(frozen=True)
class MessageAdded(Event):
    ticket_id: int
    message_id: int


@dataclass(frozen=True)
class SocialDetailsWanted(Event):
    """A direct message filed without what only another call to the platform gives: the
    sender's name (Messenger's and Instagram's profile API) or its media (WhatsApp)."""

    message_id: int


@dataclass(frozen=True)
class ChatQueueChanged(Event):
    """A chat channel's queue changed: a chat joined, left, was offered or taken. The places
    and waits its visitors were told may have changed."""

    channel_id: int


def record(session: Session, event: Event) -> None:
    session.info.setdefault("events", []).append(event)


def take_events(session: Session) -> list[Event]:
    events: list[Event] = session.info.pop("events", [])
    return events
