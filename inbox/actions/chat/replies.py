"""An agent's reply on a chat ticket (``REPLIERS["chat"]``): stored as the conversation's next
entry; after the commit every web process hears of it (``inbox.realtime``) and pushes it to
each open socket of the visitor (``inbox.web.chat``). To a visitor who has gone, with a proven
address, it is mailed too (``inbox.actions.chat.email_proof``). Internal notes are not entries
and never reach the visitor."""

from __future__ import annotations

from sqlmodel import Session

from inbox.actions.chat.conversations import add_entry
from inbox.actions.chat.email_proof import email_contact
from inbox.actions.email_out import mail_answer
from inbox.errors import Conflict
from inbox.events import MessageAdded, record
from inbox.models import Agent, ChatVisitor, Message, Ticket, utcnow
from inbox.models.kinds import ChannelKind, Direction, MessageKind
from inbox.queries.chat import newest_conversation
from inbox.rules.masking import mask_sensitive
from inbox.settings import Settings


def reply_by_chat(
    session: Session,
    settings: Settings,
    *,
    ticket: Ticket,
    author: Agent,
    body: str,
    key: str | None,
) -> Message:
    """The replier of chat: the next entry of the ticket's newest conversation, open or ended
    (the visitor sees it when they come back)."""
    conversation = newest_conversation(session, ticket_id=ticket.id)
    if conversation is None:
        raise Conflict("this ticket has no chat conversation to reply to")
    text = mask_sensitive(body).text
    # The visitor has gone (the chat ended, or they left a message while the desk was away):
    # the answer is mailed to their address if it is proven, and waits in the chat as well.
    visitor = session.get(ChatVisitor, conversation.visitor_id)
    gone = conversation.state == "ended" or conversation.routing == "message"
    contact = email_contact(session, visitor) if visitor is not None and gone else None
    if contact is not None:
        mailed = mail_answer(
            session, settings, ticket=ticket, author=author, body=text, key=key, contact=contact
        )
        if mailed is not None:
            add_entry(
                session, conversation, author="agent", name=author.name, text=text,
                message_id=mailed.id,
            )  # fmt: skip
            return mailed
    message = Message(
        ticket_id=ticket.id or 0,
        kind=MessageKind.CHAT,
        direction=Direction.OUTBOUND,
        channel_id=ticket.channel_id,
        channel_kind=ChannelKind.CHAT,
        author_agent_id=author.id,
        author_label=author.name,
        body_text=text,
        display_text=text,
        external_id=key,
        verification="agent",
        delivery="sent",
        created_at=utcnow(),
    )
    session.add(message)
    session.flush()
    add_entry(
        session, conversation, author="agent", name=author.name, text=text, message_id=message.id
    )
    record(session, MessageAdded(ticket.id or 0, message.id or 0))
    return message
