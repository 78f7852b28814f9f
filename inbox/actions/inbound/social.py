"""Filing direct messages from the social platforms: one ``KindFiling`` for Telegram,
Messenger, Instagram, WhatsApp and X (``FILINGS``).

- A customer's message joins the ticket of its platform conversation (``SocialConversation``,
  one per channel and chat), or opens one. Its text is masked (``mask_sensitive``) before it
  is stored, with a note on the ticket saying what was masked. Files the connector fetched
  go to the attachment store.
- The customer is found by their platform id (``IdentityKind`` per platform); on WhatsApp by
  their E.164 number, the same phone identity calls use, so a caller and their WhatsApp
  messages meet in one customer.
- An echo (the account's own message, sent from the platform's inbox and not from the desk)
  is recorded on the ticket as outbound, never as the customer's. One the desk sent itself
  carries the platform id its send returned, and is a duplicate.
- A WhatsApp status sets its message's ``delivery``, only ever forward, whatever order the
  statuses arrive in; a failure keeps the platform's words in ``delivery_error``.

Echoes and statuses, what the account itself sent, are filed by ``social_own``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from inbox.actions.customers import resolve_customer, resolve_customers
from inbox.actions.followups import customer_wrote, past_reopen_window, start_followup_ticket
from inbox.actions.inbound.items import IngestOutcome, finish_item
from inbox.actions.inbound.social_own import file_echo, file_status, platform_conversation
from inbox.actions.merge import merged_into
from inbox.actions.rows import insert_rows
from inbox.actions.tickets import open_ticket, reopen_on_customer_message, touch_ticket
from inbox.actions.timeline import record_system_event
from inbox.blobs import BlobStore
from inbox.errors import Conflict
from inbox.events import MessageAdded, SocialDetailsWanted, TicketCreated, record
from inbox.models import (
    Attachment,
    Channel,
    Customer,
    InboundItem,
    Message,
    SocialConversation,
    Ticket,
    utcnow,
)
from inbox.models.kinds import ChannelKind, Direction, IdentityKind, MessageKind
from inbox.parsing.items import PendingRaw
from inbox.parsing.readers import read_pending
from inbox.parsing.social import SocialArrival
from inbox.rules.masking import mask_sensitive, masking_note
from inbox.rules.references import new_reference
from inbox.settings import Settings

IDENTITY_KINDS = {
    ChannelKind.TELEGRAM: IdentityKind.TELEGRAM_ID,
    ChannelKind.MESSENGER: IdentityKind.MESSENGER_PSID,
    ChannelKind.INSTAGRAM: IdentityKind.INSTAGRAM_ID,
    ChannelKind.WHATSAPP: IdentityKind.PHONE,
    ChannelKind.X: IdentityKind.X_USER_ID,
}
PLATFORM_NAMES = {
    ChannelKind.TELEGRAM: "Telegram",
    ChannelKind.MESSENGER: "Messenger",
    ChannelKind.INSTAGRAM: "Instagram",
    ChannelKind.WHATSAPP: "WhatsApp",
    ChannelKind.X: "X",
}


@dataclass
class SocialBatch:
    """What the items of a batch would otherwise ask one by one: which of their messages are
    on a ticket already, and which of their conversations the desk has."""

    known: set[tuple[int, str]] = field(default_factory=set)
    conversations: set[tuple[int, str]] = field(default_factory=set)
    # Conversations a plainly new item of this batch opens: the next item of the same chat
    # is filed after it, one by one.
    claimed: set[tuple[int, str]] = field(default_factory=set)

    def filed(self, channel_id: int, item: Any, outcome: IngestOutcome) -> None:
        if outcome.state == "done" and isinstance(item, SocialArrival):
            self.known.add((channel_id, item.external_id))


class SocialFiling:
    """A customer's first message in a conversation the desk does not have yet is filed in
    bulk with the others like it (a few multi-row statements per batch); every other item
    (a conversation's next message, an echo, a status, a message with files or something
    masked) one at a time."""

    def batch(
        self, session: Session, settings: Settings, channel_ids: set[int], items: Sequence[Any]
    ) -> SocialBatch:
        arrivals = [i for i in items if isinstance(i, SocialArrival)]
        batch = SocialBatch()
        if not arrivals:
            return batch
        external_ids = {i.external_id for i in arrivals}
        batch.known = {
            (channel_id or 0, external_id or "")
            for channel_id, external_id in session.exec(
                select(Message.channel_id, Message.external_id).where(
                    col(Message.channel_id).in_(channel_ids),
                    col(Message.external_id).in_(external_ids),
                )
            ).all()
        }
        chats = {i.chat_key for i in arrivals if i.chat_key}
        batch.conversations = {
            (channel_id, chat_key)
            for channel_id, chat_key in session.exec(
                select(SocialConversation.channel_id, SocialConversation.chat_key).where(
                    col(SocialConversation.channel_id).in_(channel_ids),
                    col(SocialConversation.chat_key).in_(chats),
                )
            ).all()
        }
        return batch

    def plainly_new(
        self, settings: Settings, channel: Channel, item: Any, batch: SocialBatch
    ) -> bool:
        if (
            not isinstance(item, SocialArrival)
            or item.event != "message"
            or item.files
            or item.media
        ):
            return False
        chat = (channel.id or 0, item.chat_key)
        if (
            not item.chat_key
            or chat in batch.conversations
            or chat in batch.claimed
            or (channel.id or 0, item.external_id) in batch.known
            or mask_sensitive(item.text).found
        ):
            return False
        batch.claimed.add(chat)
        return True

    def file_new(
        self,
        session: Session,
        settings: Settings,
        blobs: BlobStore,
        channel: Channel,
        items: Sequence[Any],
        batch: SocialBatch,
    ) -> dict[int, IngestOutcome]:
        return _file_new_conversations(session, settings, channel, items)

    def file_one(
        self,
        session: Session,
        settings: Settings,
        blobs: BlobStore,
        row: InboundItem,
        item: SocialArrival,
        batch: Any,
    ) -> IngestOutcome:
        channel = session.get(Channel, row.channel_id)
        assert channel is not None
        if item.event == "status":
            return file_status(session, channel, row, item)
        if _known(session, channel, item.external_id):
            return finish_item(session, row, "duplicate", "this message is already on a ticket")
        if item.event == "echo":
            return file_echo(session, channel, row, item)
        return _file_message(session, settings, blobs, channel, row, item)

    def file_anyway(
        self,
        session: Session,
        settings: Settings,
        blobs: BlobStore,
        channel: Channel,
        row: InboundItem,
    ) -> Ticket:
        pending = PendingRaw(row.id or 0, channel.kind, row.raw, row.size, row.truncated)
        item = read_pending(pending)
        if not isinstance(item, SocialArrival) or item.event != "message":
            raise Conflict("this item is not a customer's message")
        customer, identity_id = _sender(session, channel, item)
        ticket = _new_ticket(session, settings, channel, item, customer.id or 0, identity_id)
        _add_message(session, blobs, channel, row, item, ticket, identity_id, customer.name)
        finish_item(session, row, "done", "filed by an agent")
        return ticket


def _file_new_conversations(
    session: Session, settings: Settings, channel: Channel, items: Sequence[SocialArrival]
) -> dict[int, IngestOutcome]:
    """A new ticket and conversation for each item, in a few multi-row statements: what
    ``_file_message`` does for a conversation's first message, for many at once. A conflict
    (another worker filed one of them meanwhile) raises, and the caller files them one by one."""
    now = utcnow()
    kind = IDENTITY_KINDS[ChannelKind(channel.kind)]
    values = [item.phone if kind == IdentityKind.PHONE else item.sender_id for item in items]
    names: dict[str, str] = {}
    for item, value in zip(items, values, strict=True):
        names.setdefault(value, item.sender_name)
    contacts = resolve_customers(session, kind, names)
    platform = PLATFORM_NAMES.get(ChannelKind(channel.kind), channel.kind)
    references = [new_reference(settings.reference_prefix) for _ in items]
    ticket_ids = insert_rows(
        session,
        Ticket,
        [
            {
                "reference": reference,
                "subject": item.text.strip().split("\n", 1)[0][:80] or f"{platform} message",
                "customer_id": contacts[value].customer_id,
                "contact_identity_id": contacts[value].identity_id,
                "channel_id": channel.id,
                "channel_kind": channel.kind,
                "created_at": now,
                "updated_at": now,
                "last_customer_message_at": now,
            }
            for item, value, reference in zip(items, values, references, strict=True)
        ],
    )
    message_ids = insert_rows(
        session,
        Message,
        [
            {
                "ticket_id": ticket_id,
                "kind": MessageKind.SOCIAL,
                "direction": Direction.INBOUND,
                "channel_id": channel.id,
                "channel_kind": channel.kind,
                "author_identity_id": contacts[value].identity_id,
                "author_label": (contacts[value].customer_name or item.sender_id)[:400],
                "body_text": item.text,
                "display_text": item.text,
                "external_id": item.external_id,
                "inbound_item_id": item.item_id,
                "thread_reason": "new_ticket",
                "verification": "authenticated",
                "created_at": now,
            }
            for item, value, ticket_id in zip(items, values, ticket_ids, strict=True)
        ],
    )
    insert_rows(
        session,
        SocialConversation,
        [
            {
                "channel_id": channel.id,
                "chat_key": item.chat_key,
                "recipient": item.recipient,
                "identity_id": contacts[value].identity_id,
                "ticket_id": ticket_id,
                "last_inbound_at": item.sent_at or now,
                "created_at": now,
            }
            for item, value, ticket_id in zip(items, values, ticket_ids, strict=True)
        ],
    )
    session.execute(
        update(InboundItem)
        .where(col(InboundItem.id).in_([item.item_id for item in items]))
        .values(state="done", reason="", processed_at=now, lease_until=None)
    )
    for ticket_id, message_id in zip(ticket_ids, message_ids, strict=True):
        record(session, TicketCreated(ticket_id))
        record(session, MessageAdded(ticket_id, message_id))
    for item, value, message_id in zip(items, values, message_ids, strict=True):
        if _unnamed(channel, contacts[value].customer_name, item.sender_id):
            record(session, SocialDetailsWanted(message_id))
    return {
        item.item_id: IngestOutcome("done", reference, new_ticket=True)
        for item, reference in zip(items, references, strict=True)
    }


def _known(session: Session, channel: Channel, external_id: str) -> bool:
    return (
        session.exec(
            select(Message.id).where(
                Message.channel_id == channel.id, Message.external_id == external_id
            )
        ).first()
        is not None
    )


def _file_message(
    session: Session,
    settings: Settings,
    blobs: BlobStore,
    channel: Channel,
    row: InboundItem,
    item: SocialArrival,
) -> IngestOutcome:
    customer, identity_id = _sender(session, channel, item)
    conversation = platform_conversation(session, channel, item.chat_key)
    ticket = session.get(Ticket, conversation.ticket_id) if conversation else None
    if ticket is not None:
        ticket = merged_into(session, ticket)
    now = utcnow()
    earlier = ticket if ticket is not None and past_reopen_window(session, ticket, now) else None
    new_ticket = ticket is None or earlier is not None
    if ticket is None or earlier is not None:
        ticket = _new_ticket(session, settings, channel, item, customer.id or 0, identity_id)
        if earlier is not None:
            start_followup_ticket(session, ticket, earlier)
    else:
        reopen_on_customer_message(session, ticket)
        customer_wrote(session, ticket, now=now)
    if conversation is None:
        conversation = SocialConversation(
            channel_id=channel.id or 0,
            chat_key=item.chat_key,
            recipient=item.recipient,
            identity_id=identity_id,
            ticket_id=ticket.id or 0,
        )
    conversation.ticket_id = ticket.id or 0
    conversation.last_inbound_at = max(
        t for t in (conversation.last_inbound_at, item.sent_at or now) if t is not None
    )
    session.add(conversation)
    ticket.last_customer_message_at = now
    touch_ticket(session, ticket)
    reason = "new_ticket" if new_ticket else "conversation"
    _add_message(session, blobs, channel, row, item, ticket, identity_id, customer.name, reason)
    _mask_raw(row)
    finish_item(session, row, "done", "")
    return IngestOutcome("done", ticket.reference, new_ticket)


def _new_ticket(
    session: Session,
    settings: Settings,
    channel: Channel,
    item: SocialArrival,
    customer_id: int,
    identity_id: int | None,
) -> Ticket:
    first_line = mask_sensitive(item.text).text.strip().split("\n", 1)[0]
    platform = PLATFORM_NAMES.get(ChannelKind(channel.kind), channel.kind)
    return open_ticket(
        session,
        prefix=settings.reference_prefix,
        subject=first_line[:80] or f"{platform} message",
        customer_id=customer_id,
        contact_identity_id=identity_id,
        channel_id=channel.id,
        channel_kind=channel.kind,
    )


def _sender(session: Session, channel: Channel, item: SocialArrival) -> tuple[Customer, int]:
    kind = IDENTITY_KINDS[ChannelKind(channel.kind)]
    value = item.phone if kind == IdentityKind.PHONE else item.sender_id
    customer, identity = resolve_customer(
        session, kind=kind, value=value, name=item.sender_name or value
    )
    return customer, identity.id or 0


def _add_message(
    session: Session,
    blobs: BlobStore,
    channel: Channel,
    row: InboundItem,
    item: SocialArrival,
    ticket: Ticket,
    identity_id: int | None,
    author: str = "",
    thread_reason: str = "new_ticket",
) -> Message:
    masked = mask_sensitive(item.text)
    skipped = [f"{f.name}: {f.skipped}" for f in item.files if f.data is None]
    text = masked.text
    if skipped:
        text += "\n" + "\n".join(f"[not fetched: {s}]" for s in skipped)
    message = Message(
        ticket_id=ticket.id or 0,
        kind=MessageKind.SOCIAL,
        direction=Direction.INBOUND,
        channel_id=channel.id,
        channel_kind=channel.kind,
        author_identity_id=identity_id,
        author_label=(author or item.sender_name or item.sender_id)[:400],
        body_text=text,
        display_text=text,
        external_id=item.external_id,
        inbound_item_id=row.id,
        thread_reason=thread_reason,
        verification="authenticated",
        created_at=utcnow(),
    )
    session.add(message)
    session.flush()
    for file in item.files:
        if file.data is not None:
            session.add(
                Attachment(
                    message_id=message.id or 0,
                    filename=file.name,
                    content_type=file.content_type,
                    size=len(file.data),
                    content_hash=blobs.put(file.data),
                )
            )
    if masked.found:
        record_system_event(session, ticket, None, masking_note(masked.found))
    record(session, MessageAdded(ticket.id or 0, message.id or 0))
    if item.media or _unnamed(channel, author, item.sender_id):
        record(session, SocialDetailsWanted(message.id or 0))
    return message


def _unnamed(channel: Channel, name: str, platform_id: str) -> bool:
    """A Messenger or Instagram sender known only by their id: the profile API names them."""
    return channel.kind in (ChannelKind.MESSENGER, ChannelKind.INSTAGRAM) and name == platform_id


def _mask_raw(row: InboundItem) -> None:
    """The stored event keeps no card number either, once its message is filed (the message
    holds what the agent needs; the files are in the attachment store)."""
    masked = mask_sensitive(row.raw.decode("utf-8", "replace"))
    if masked.found:
        row.raw = masked.text.encode()
        row.size = len(row.raw)
