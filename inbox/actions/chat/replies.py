"""An agent's reply on a chat ticket (``REPLIERS["chat"]``): stored as the conversation's next
entry; after the commit every web process hears of it (``inbox.realtime``) and pushes it to
each open socket of the visitor (``inbox.web.chat``). Internal notes are not entries and
never reach the visitor."""

from __future__ import annotations

from sqlmodel import Session, col, select

from inbox.actions.chat.conversations import add_entry
from inbox.actions.email_out import IDEMPOTENCY_KEY_CHARS, MAX_REPLY_CHARS
from inbox.actions.tickets import check_reply_not_stale, set_status, touch_ticket
from inbox.errors import Conflict, InvalidInput
from inbox.events import MessageAdded, record
from inbox.models import Agent, ChatConversation, Message, Ticket, utcnow
from inbox.models.kinds import ChannelKind, Direction, MessageKind
from inbox.rules.masking import mask_sensitive
from inbox.settings import Settings


def reply_by_chat(
    session: Session,
    settings: Settings,
    *,
    ticket: Ticket,
    author: Agent,
    body: str,
    status_after: str | None = None,
    seen_message_id: int | None = None,
    idempotency_key: str | None = None,
) -> Message:
    """The reply, on the chat's conversation (the newest one of the ticket, open or ended:
    the visitor sees it when they come back). Same promises as ``reply_by_email``."""
    body = mask_sensitive(body.strip()).text
    key = _key(author, idempotency_key)
    if key is not None:
        earlier = session.exec(
            select(Message).where(
                Message.channel_id == ticket.channel_id, Message.external_id == key
            )
        ).first()
        if earlier is not None:
            if earlier.ticket_id != ticket.id or earlier.body_text != body:
                raise Conflict("that idempotency key belongs to another reply")
            return earlier
    check_reply_not_stale(session, ticket, seen_message_id)
    if not body:
        raise InvalidInput("a reply needs text")
    if len(body) > MAX_REPLY_CHARS:
        raise InvalidInput("a reply may have at most 100,000 characters")
    conversation = session.exec(
        select(ChatConversation)
        .where(ChatConversation.ticket_id == ticket.id)
        .order_by(col(ChatConversation.id).desc())
    ).first()
    if conversation is None:
        raise Conflict("this ticket has no chat conversation to reply to")
    now = utcnow()
    message = Message(
        ticket_id=ticket.id or 0,
        kind=MessageKind.CHAT,
        direction=Direction.OUTBOUND,
        channel_id=ticket.channel_id,
        channel_kind=ChannelKind.CHAT,
        author_agent_id=author.id,
        author_label=author.name,
        body_text=body,
        display_text=body,
        external_id=key,
        verification="agent",
        delivery="sent",
        created_at=now,
    )
    session.add(message)
    session.flush()
    add_entry(
        session, conversation, author="agent", name=author.name, text=body, message_id=message.id
    )
    record(session, MessageAdded(ticket.id or 0, message.id or 0))
    ticket.first_response_at = ticket.first_response_at or now
    if status_after:
        set_status(session, ticket, status_after)
    elif ticket.status_category == "new":
        set_status(session, ticket, "open")
    touch_ticket(session, ticket)
    return message


def _key(author: Agent, idempotency_key: str | None) -> str | None:
    if idempotency_key is None or not idempotency_key.strip():
        return None
    key = idempotency_key.strip()
    shortest, longest = IDEMPOTENCY_KEY_CHARS
    if not shortest <= len(key) <= longest:
        raise InvalidInput(f"an idempotency key has {shortest} to {longest} characters")
    return f"chat-reply:{author.id}:{key}"
