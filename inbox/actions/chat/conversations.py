"""A chat conversation's entries, numbered in order: what the visitor sees, from the first
message (which opened the ticket) to the end of the chat."""

from __future__ import annotations

from sqlmodel import Session

from inbox.actions.tickets import touch_ticket
from inbox.actions.timeline import record_system_event
from inbox.models import ChatConversation, ChatEntry, Ticket, utcnow
from inbox.queries.chat import newest_conversation


def open_conversation_of(session: Session, visitor_id: int) -> ChatConversation | None:
    return newest_conversation(session, visitor_id=visitor_id, open_only=True)


def add_entry(
    session: Session,
    conversation: ChatConversation,
    *,
    author: str,
    name: str,
    text: str,
    client_id: str | None = None,
    message_id: int | None = None,
) -> ChatEntry:
    """The next entry of the conversation: its ``seq`` is taken under the conversation's
    row lock, so two writers never share one."""
    locked = session.get(
        ChatConversation, conversation.id, with_for_update=True, populate_existing=True
    )
    assert locked is not None
    locked.last_seq += 1
    locked.last_activity_at = utcnow()
    session.add(locked)
    entry = ChatEntry(
        conversation_id=locked.id or 0,
        seq=locked.last_seq,
        author=author,
        name=name[:200],
        text=text,
        client_id=client_id,
        message_id=message_id,
    )
    session.add(entry)
    session.flush()
    return entry


def end_conversation(
    session: Session, conversation: ChatConversation, *, by_label: str
) -> ChatConversation:
    """Ended by the visitor (or after its idle time): the ticket stays for the agents, with
    a line on its timeline; every socket of the visitor hears ``ended``."""
    locked = session.get(
        ChatConversation, conversation.id, with_for_update=True, populate_existing=True
    )
    assert locked is not None
    if locked.state == "ended":
        return locked
    locked.state = "ended"
    locked.ended_at = utcnow()
    session.add(locked)
    ticket = session.get(Ticket, locked.ticket_id)
    if ticket is not None:
        record_system_event(session, ticket, None, f"chat ended by {by_label}")
        touch_ticket(session, ticket)
    return locked
