"""Reads for live chat: a conversation's entries as the visitor sees them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from inbox.models import Agent, ChatConversation, ChatEntry, Ticket, utcnow
from inbox.queries.chat_queue import QueuePlace, queue_place

MAX_ENTRIES = 500  # what one welcome or resume sends at most


@dataclass(frozen=True)
class ConversationView:
    id: int
    reference: str
    status: str  # "open" or "ended"
    last_seq: int
    ticket_id: int
    routing: str = "message"
    agent_name: str = ""  # of the agent who took the chat
    place: QueuePlace | None = None  # while it waits in its queue


def conversation_view(session: Session, conversation: ChatConversation) -> ConversationView:
    ticket = session.get(Ticket, conversation.ticket_id)
    agent = session.get(Agent, conversation.agent_id) if conversation.agent_id else None
    waits = conversation.state == "open" and conversation.routing == "queued"
    return ConversationView(
        conversation.id or 0,
        ticket.reference if ticket else "",
        conversation.state,
        conversation.last_seq,
        conversation.ticket_id,
        conversation.routing,
        agent.name if agent else "",
        queue_place(session, conversation, utcnow()) if waits else None,
    )


def newest_conversation(
    session: Session,
    *,
    visitor_id: int | None = None,
    ticket_id: int | None = None,
    open_only: bool = False,
) -> ChatConversation | None:
    """A visitor's, or a ticket's, newest conversation (only an open one with ``open_only``)."""
    query = select(ChatConversation).order_by(col(ChatConversation.id).desc())
    if visitor_id is not None:
        query = query.where(ChatConversation.visitor_id == visitor_id)
    if ticket_id is not None:
        query = query.where(ChatConversation.ticket_id == ticket_id)
    if open_only:
        query = query.where(ChatConversation.state == "open")
    return session.exec(query).first()


def latest_conversation(session: Session, visitor_id: int) -> ConversationView | None:
    """The visitor's newest conversation, open or ended."""
    conversation = newest_conversation(session, visitor_id=visitor_id)
    return conversation_view(session, conversation) if conversation else None


def entries_since(session: Session, conversation_id: int, since: int) -> list[ChatEntry]:
    return list(
        session.exec(
            select(ChatEntry)
            .where(ChatEntry.conversation_id == conversation_id, col(ChatEntry.seq) > since)
            .order_by(col(ChatEntry.seq))
            .limit(MAX_ENTRIES)
        )
    )


def visitor_of_ticket(session: Session, ticket_id: int) -> int | None:
    return session.exec(
        select(ChatConversation.visitor_id).where(ChatConversation.ticket_id == ticket_id)
    ).first()


def entry_frame(entry: ChatEntry) -> dict[str, object]:
    """The ``message`` frame of an entry."""
    frame: dict[str, object] = {
        "type": "message",
        "seq": entry.seq,
        "author": entry.author,
        "name": entry.name,
        "text": entry.text,
        "at": _iso(entry.created_at),
    }
    if entry.client_id is not None:
        frame["client_id"] = entry.client_id
    return frame


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class TicketChat:
    """A chat ticket's newest conversation, as the ticket page shows it."""

    conversation_id: int
    state: str  # open, ended
    routing: str  # queued, taken, message
    offered_to: str
    agent: str


def ticket_chat(session: Session, ticket_id: int) -> TicketChat | None:
    conversation = newest_conversation(session, ticket_id=ticket_id)
    if conversation is None:
        return None
    offered = session.get(Agent, conversation.offered_agent_id or 0)
    agent = session.get(Agent, conversation.agent_id or 0)
    return TicketChat(
        conversation.id or 0,
        conversation.state,
        conversation.routing,
        offered.name if offered else "",
        agent.name if agent else "",
    )
