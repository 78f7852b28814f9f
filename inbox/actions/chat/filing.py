"""Live chat's part of the inbound pipeline (``FILINGS["chat"]``): a visitor's stored message
joins the visitor's open conversation, or opens one with a new ticket. The thread is the
conversation itself; a verified visitor's chat is on their customer record, an anonymous
one's on a customer of its own."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, select

from inbox.actions.chat.conversations import add_entry, open_conversation_of
from inbox.actions.chat.email_proof import ask_for_proof
from inbox.actions.chat.files import attach_files
from inbox.actions.chat.routing import enter_queue
from inbox.actions.customers import resolve_customer
from inbox.actions.followups import customer_wrote
from inbox.actions.inbound.items import IngestOutcome, finish_item
from inbox.actions.tickets import open_ticket, reopen_on_customer_message, touch_ticket
from inbox.actions.timeline import record_system_event
from inbox.blobs import BlobStore
from inbox.events import MessageAdded, record
from inbox.models import (
    Channel,
    ChatConversation,
    ChatEntry,
    ChatVisitor,
    CustomerIdentity,
    InboundItem,
    Message,
    Ticket,
    utcnow,
)
from inbox.models.kinds import ChannelKind, Direction, IdentityKind, MessageKind
from inbox.parsing.chat import ChatArrival
from inbox.rules.masking import masking_note
from inbox.settings import Settings

SUBJECT_CHARS = 80


class ChatBatch:
    def filed(self, channel_id: int, item: Any, outcome: IngestOutcome) -> None:
        pass


def visitor_contact(session: Session, visitor: ChatVisitor) -> CustomerIdentity:
    """The identity a visitor writes as: the one a verified visitor was joined to, else one
    of the visitor's own (anonymous, never an email address they typed)."""
    if visitor.identity_id is not None:
        identity = session.get(CustomerIdentity, visitor.identity_id)
        if identity is not None:
            return identity
    customer, identity = resolve_customer(
        session,
        kind=IdentityKind.CHAT_VISITOR,
        value=f"visitor:{visitor.channel_id}:{visitor.id}",
        name=visitor.name or f"Visitor {visitor.id}",
    )
    visitor.customer_id, visitor.identity_id = customer.id, identity.id
    session.add(visitor)
    return identity


def file_chat_message(
    session: Session, settings: Settings, row: InboundItem, item: ChatArrival
) -> IngestOutcome:
    visitor = session.get(ChatVisitor, item.visitor_id, with_for_update=True)
    if visitor is None or visitor.channel_id != row.channel_id:
        return finish_item(session, row, "quarantined", "a chat message of no known visitor")
    conversation = open_conversation_of(session, visitor.id or 0)
    if (
        conversation is not None
        and session.exec(
            select(ChatEntry.id).where(
                ChatEntry.conversation_id == conversation.id, ChatEntry.client_id == item.client_id
            )
        ).first()
    ):
        return finish_item(session, row, "duplicate", "this chat message is on its ticket")
    identity = visitor_contact(session, visitor)
    now = utcnow()
    new_ticket = conversation is None
    if conversation is None:
        ticket = open_ticket(
            session,
            prefix=settings.reference_prefix,
            subject=_subject(item),
            customer_id=identity.customer_id,
            contact_identity_id=identity.id,
            channel_id=row.channel_id,
            channel_kind=ChannelKind.CHAT,
        )
        conversation = ChatConversation(
            channel_id=row.channel_id, visitor_id=visitor.id or 0, ticket_id=ticket.id or 0
        )
        session.add(conversation)
        session.flush()
    else:
        found = session.get(Ticket, conversation.ticket_id)
        assert found is not None
        ticket = found
        reopen_on_customer_message(session, ticket)
        customer_wrote(session, ticket, now=now)
    ticket.last_customer_message_at = now
    touch_ticket(session, ticket)
    name = visitor.name or "Visitor"
    message = Message(
        ticket_id=ticket.id or 0,
        kind=MessageKind.CHAT,
        direction=Direction.INBOUND,
        channel_id=row.channel_id,
        channel_kind=ChannelKind.CHAT,
        author_identity_id=identity.id,
        author_label=name,
        body_text=item.text,
        display_text=item.text,
        external_id=item.external_id,
        inbound_item_id=row.id,
        thread_reason="new_ticket" if new_ticket else "chat_conversation",
        verification="authenticated" if visitor.verified else "unverified",
        created_at=now,
    )
    session.add(message)
    session.flush()
    attach_files(session, message.id or 0, item.files)
    record(session, MessageAdded(ticket.id or 0, message.id or 0))
    add_entry(
        session,
        conversation,
        author="visitor",
        name=name,
        text=item.text,
        client_id=item.client_id,
        message_id=message.id,
    )
    if new_ticket:
        record_system_event(session, ticket, None, _who(visitor))
        add_entry(
            session,
            conversation,
            author="system",
            name="",
            text=f"Thanks, we have your message. Your reference is {ticket.reference}.",
        )
        channel = session.get(Channel, row.channel_id)
        assert channel is not None
        enter_queue(session, channel, conversation, now=now)
        if ask_for_proof(session, settings, visitor, channel, now=now):
            record_system_event(
                session,
                ticket,
                None,
                f"Mailed a confirmation link to {visitor.claimed_email}: answers are mailed"
                " there only once the visitor follows it.",
            )
    if item.masked:
        note = masking_note(item.masked)
        record_system_event(session, ticket, None, f"chat message {message.id}: {note}")
        add_entry(session, conversation, author="system", name="", text=note)
    visitor.last_seen_at = now
    session.add(visitor)
    finish_item(session, row, "done", "")
    return IngestOutcome("done", ticket.reference, new_ticket=new_ticket)


def _who(visitor: ChatVisitor) -> str:
    """What the agents learn of the visitor when the chat opens: a typed email is a claim."""
    if visitor.verified:
        return f"Chat from a signed-in user of the site (id {visitor.external_id}): verified."
    said = f"Chat from an anonymous visitor who gave the name {visitor.name!r}"
    if visitor.claimed_email:
        said += (
            f" and the email address {visitor.claimed_email} (a claim, not proven: nothing of"
            " the chat is mailed to it unless the visitor confirms it)"
        )
    return said + "."


def _subject(item: ChatArrival) -> str:
    """The first line of the chat, or what it sent when it began with files alone."""
    line = " ".join(item.text.split()) or ", ".join(f.name for f in item.files)
    return line if len(line) <= SUBJECT_CHARS else line[: SUBJECT_CHARS - 1] + "…"


class ChatFiling:
    """Chat messages are filed one at a time: each belongs to a conversation that the one
    before it may just have opened."""

    def batch(
        self, session: Session, settings: Settings, channel_ids: set[int], items: Sequence[Any]
    ) -> ChatBatch:
        return ChatBatch()

    def plainly_new(self, settings: Settings, channel: Channel, item: Any, batch: Any) -> bool:
        return False

    def file_new(
        self,
        session: Session,
        settings: Settings,
        blobs: BlobStore,
        channel: Channel,
        items: Sequence[Any],
        batch: Any,
    ) -> dict[int, IngestOutcome]:
        raise NotImplementedError("chat messages are filed one at a time")

    def file_one(
        self,
        session: Session,
        settings: Settings,
        blobs: BlobStore,
        row: InboundItem,
        item: Any,
        batch: Any,
    ) -> IngestOutcome:
        return file_chat_message(session, settings, row, item)

    def file_anyway(
        self,
        session: Session,
        settings: Settings,
        blobs: BlobStore,
        channel: Channel,
        row: InboundItem,
    ) -> Ticket:
        """A quarantined chat message (its visitor gone) on a ticket of its own."""
        from inbox.parsing.chat import read_chat
        from inbox.parsing.items import PendingRaw

        item = read_chat(PendingRaw(row.id or 0, channel.kind, row.raw, row.size, row.truncated))
        customer, identity = resolve_customer(
            session,
            kind=IdentityKind.CHAT_VISITOR,
            value=f"visitor:{channel.id}:{item.visitor_id}",
            name=f"Visitor {item.visitor_id}",
        )
        ticket = open_ticket(
            session,
            prefix=settings.reference_prefix,
            subject=_subject(item),
            customer_id=customer.id or 0,
            contact_identity_id=identity.id,
            channel_id=channel.id,
            channel_kind=ChannelKind.CHAT,
        )
        message = Message(
            ticket_id=ticket.id or 0,
            kind=MessageKind.CHAT,
            direction=Direction.INBOUND,
            channel_id=channel.id,
            channel_kind=ChannelKind.CHAT,
            author_identity_id=identity.id,
            author_label=customer.name,
            body_text=item.text,
            display_text=item.text,
            inbound_item_id=row.id,
            thread_reason="new_ticket",
        )
        session.add(message)
        session.flush()
        attach_files(session, message.id or 0, item.files)
        record(session, MessageAdded(ticket.id or 0, message.id or 0))
        return ticket


def entry_of_client_id(
    session: Session, visitor_id: int, client_id: str
) -> tuple[ChatEntry, ChatConversation] | None:
    """The visitor's message sent with ``client_id``, and its conversation: what the ack of
    a resend names again."""
    found = session.exec(
        select(ChatEntry, ChatConversation)
        .join(ChatConversation, col(ChatConversation.id) == col(ChatEntry.conversation_id))
        .where(ChatConversation.visitor_id == visitor_id, ChatEntry.client_id == client_id)
        .order_by(col(ChatEntry.id).desc())
    ).first()
    return (found[0], found[1]) if found else None
