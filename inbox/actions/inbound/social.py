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
from typing import Any

from sqlmodel import Session, select

from inbox.actions.customers import resolve_customer
from inbox.actions.followups import customer_wrote, past_reopen_window, start_followup_ticket
from inbox.actions.inbound.items import IngestOutcome, finish_item
from inbox.actions.inbound.social_bulk import (
    IDENTITY_KINDS,
    PLATFORM_NAMES,
    SocialBatch,
    file_plain,
    is_plain,
    look_up_batch,
    unnamed,
)
from inbox.actions.inbound.social_own import file_echo, file_status, platform_conversation
from inbox.actions.merge import merged_into
from inbox.actions.tickets import open_ticket, reopen_on_customer_message, touch_ticket
from inbox.actions.timeline import record_system_event
from inbox.blobs import BlobStore
from inbox.errors import Conflict
from inbox.events import MessageAdded, SocialDetailsWanted, record
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
from inbox.settings import Settings


class SocialFiling:
    """Plain messages (``social_bulk``: a conversation's first message, which opens its
    ticket, and its next ones, which join it) are filed many at a time, in a few multi-row
    statements per batch; every other item (an echo, a status, a message with files or
    something masked, one whose ticket it would reopen or wake) one at a time."""

    def batch(
        self, session: Session, settings: Settings, channel_ids: set[int], items: Sequence[Any]
    ) -> SocialBatch:
        arrivals = [i for i in items if isinstance(i, SocialArrival)]
        return look_up_batch(session, channel_ids, arrivals)

    def plainly_new(
        self, settings: Settings, channel: Channel, item: Any, batch: SocialBatch
    ) -> bool:
        return is_plain(channel, item, batch)

    def file_new(
        self,
        session: Session,
        settings: Settings,
        blobs: BlobStore,
        channel: Channel,
        items: Sequence[Any],
        batch: SocialBatch,
    ) -> dict[int, IngestOutcome]:
        return file_plain(session, settings, channel, items, batch)

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
    if item.media or unnamed(channel, author, item.sender_id):
        record(session, SocialDetailsWanted(message.id or 0))
    return message


def _mask_raw(row: InboundItem) -> None:
    """The stored event keeps no card number either, once its message is filed (the message
    holds what the agent needs; the files are in the attachment store)."""
    masked = mask_sensitive(row.raw.decode("utf-8", "replace"))
    if masked.found:
        row.raw = masked.text.encode()
        row.size = len(row.raw)
