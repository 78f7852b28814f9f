"""Filing plain direct messages many at a time: a conversation's first message, which opens
its ticket, and its next ones, which join the ticket as it is, in a few multi-row statements
per batch instead of a dozen statements per message.

A message is *plain* when nothing about it needs more than that: no files, nothing masked, not
already on a ticket, and, for a conversation the desk has, a ticket that takes it as it is
(new or open, not snoozed, not merged away: anything else may reopen the ticket, wake it, or
send the message elsewhere, and is filed one at a time). The messages of one conversation keep
their order: once one of them is filed one at a time, the ones after it in the batch are too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy import select as sql_select
from sqlmodel import Session, col, select

from inbox.actions.customers import resolve_customers
from inbox.actions.inbound.items import IngestOutcome
from inbox.actions.rows import insert_rows, table_of
from inbox.events import MessageAdded, SocialDetailsWanted, TicketChanged, TicketCreated, record
from inbox.models import (
    Channel,
    InboundItem,
    Message,
    SocialConversation,
    Ticket,
    TicketMerge,
    TicketSnooze,
    utcnow,
)
from inbox.models.kinds import ChannelKind, Direction, IdentityKind, MessageKind
from inbox.parsing.social import SocialArrival
from inbox.rules.masking import mask_sensitive
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
Chat = tuple[int, str]


@dataclass(frozen=True)
class KnownConversation:
    conversation_id: int
    ticket_id: int
    reference: str
    last_inbound_at: datetime | None
    # Whether its ticket takes a plain message as it is (new or open, not snoozed or merged).
    takes_plain: bool


@dataclass
class SocialBatch:
    """What the items of a batch would otherwise ask one by one: which of their messages are
    on a ticket already, and which of their conversations the desk has, with their tickets."""

    known: set[tuple[int, str]] = field(default_factory=set)
    conversations: dict[Chat, KnownConversation] = field(default_factory=dict)
    # Conversations with a message of this batch filed one at a time: the ones after it too.
    one_by_one: set[Chat] = field(default_factory=set)

    def filed(self, channel_id: int, item: Any, outcome: IngestOutcome) -> None:
        if outcome.state == "done" and isinstance(item, SocialArrival):
            self.known.add((channel_id, item.external_id))


def look_up_batch(
    session: Session, channel_ids: set[int], arrivals: Sequence[SocialArrival]
) -> SocialBatch:
    """Four queries for the whole batch, whatever its size."""
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
    conversation, ticket = table_of(SocialConversation).c, table_of(Ticket).c
    rows = session.execute(
        sql_select(
            conversation.id,
            conversation.channel_id,
            conversation.chat_key,
            conversation.last_inbound_at,
            ticket.id,
            ticket.reference,
            ticket.status,
            ticket.status_category,
        )
        .join_from(table_of(SocialConversation), table_of(Ticket))
        .where(conversation.channel_id.in_(channel_ids), conversation.chat_key.in_(chats))
    ).all()
    ticket_ids = {row[4] for row in rows}
    held = set(
        session.exec(
            select(TicketSnooze.ticket_id).where(
                col(TicketSnooze.ticket_id).in_(ticket_ids), TicketSnooze.state == "pending"
            )
        ).all()
    ) | set(
        session.exec(
            select(TicketMerge.source_ticket_id).where(
                col(TicketMerge.source_ticket_id).in_(ticket_ids),
                col(TicketMerge.undone_at).is_(None),
            )
        ).all()
    )
    for (
        conversation_id,
        channel_id,
        chat_key,
        last_at,
        ticket_id,
        reference,
        status,
        category,
    ) in rows:
        takes = (category == "new" or status == "open") and ticket_id not in held
        batch.conversations[(channel_id, chat_key)] = KnownConversation(
            conversation_id or 0, ticket_id or 0, reference, last_at, takes
        )
    return batch


def is_plain(channel: Channel, item: Any, batch: SocialBatch) -> bool:
    """Whether the item may be filed in bulk (``file_plain``); one that may not is filed one at
    a time, and so are the later messages of its conversation in this batch."""
    chat = (channel.id or 0, item.chat_key if isinstance(item, SocialArrival) else "")
    known = batch.conversations.get(chat)
    plain = (
        isinstance(item, SocialArrival)
        and item.event == "message"
        and not item.files
        and not item.media
        and bool(item.chat_key)
        and chat not in batch.one_by_one
        and (known is None or known.takes_plain)
        and (channel.id or 0, item.external_id) not in batch.known
        and not mask_sensitive(item.text).found
    )
    if not plain:
        batch.one_by_one.add(chat)
    return plain


def file_plain(
    session: Session,
    settings: Settings,
    channel: Channel,
    items: Sequence[SocialArrival],
    batch: SocialBatch,
) -> dict[int, IngestOutcome]:
    """Plain messages of one channel, in the order given: the first message of a conversation
    the desk does not have opens a ticket and the conversation; every other one joins its
    conversation's ticket. A conflict (another worker filed one of them meanwhile) raises, and
    the caller files them one at a time."""
    now = utcnow()
    channel_id = channel.id or 0
    kind = IDENTITY_KINDS[ChannelKind(channel.kind)]
    values = [item.phone if kind == IdentityKind.PHONE else item.sender_id for item in items]
    names: dict[str, str] = {}
    for item, value in zip(items, values, strict=True):
        names.setdefault(value, item.sender_name)
    contacts = resolve_customers(session, kind, names)

    latest: dict[str, datetime] = {}
    for item in items:
        at = item.sent_at or now
        latest[item.chat_key] = max(latest.get(item.chat_key, at), at)
    # The conversations this batch opens: their first message's ticket, then its conversation.
    openers: dict[str, tuple[SocialArrival, str]] = {}
    for item, value in zip(items, values, strict=True):
        if (channel_id, item.chat_key) not in batch.conversations:
            openers.setdefault(item.chat_key, (item, value))
    platform = PLATFORM_NAMES.get(ChannelKind(channel.kind), channel.kind)
    references = [new_reference(settings.reference_prefix) for _ in openers]
    new_ticket_ids = insert_rows(
        session,
        Ticket,
        [
            {
                "reference": reference,
                "subject": item.text.strip().split("\n", 1)[0][:80] or f"{platform} message",
                "customer_id": contacts[value].customer_id,
                "contact_identity_id": contacts[value].identity_id,
                "channel_id": channel_id,
                "channel_kind": channel.kind,
                "created_at": now,
                "updated_at": now,
                "last_customer_message_at": now,
            }
            for (item, value), reference in zip(openers.values(), references, strict=True)
        ],
    )
    opened = dict(zip(openers, zip(new_ticket_ids, references, strict=True), strict=True))
    insert_rows(
        session,
        SocialConversation,
        [
            {
                "channel_id": channel_id,
                "chat_key": chat_key,
                "recipient": item.recipient,
                "identity_id": contacts[value].identity_id,
                "ticket_id": opened[chat_key][0],
                "last_inbound_at": latest[chat_key],
                "created_at": now,
            }
            for chat_key, (item, value) in openers.items()
        ],
    )

    placed: list[tuple[int, str, bool]] = []  # ticket id, reference, opened it
    for item in items:
        if item.chat_key in opened:
            ticket_id, reference = opened[item.chat_key]
            first = openers[item.chat_key][0] is item
            placed.append((ticket_id, reference, first))
        else:
            known = batch.conversations[(channel_id, item.chat_key)]
            placed.append((known.ticket_id, known.reference, False))
    message_ids = insert_rows(
        session,
        Message,
        [
            {
                "ticket_id": ticket_id,
                "kind": MessageKind.SOCIAL,
                "direction": Direction.INBOUND,
                "channel_id": channel_id,
                "channel_kind": channel.kind,
                "author_identity_id": contacts[value].identity_id,
                "author_label": (contacts[value].customer_name or item.sender_id)[:400],
                "body_text": item.text,
                "display_text": item.text,
                "external_id": item.external_id,
                "inbound_item_id": item.item_id,
                "thread_reason": "new_ticket" if first else "conversation",
                "verification": "authenticated",
                "created_at": now,
            }
            for item, value, (ticket_id, _, first) in zip(items, values, placed, strict=True)
        ],
    )

    joined = {
        chat_key: batch.conversations[(channel_id, chat_key)]
        for chat_key in latest
        if (channel_id, chat_key) in batch.conversations
    }
    if joined:
        session.execute(
            update(Ticket)
            .where(col(Ticket.id).in_({known.ticket_id for known in joined.values()}))
            .values(updated_at=now, last_customer_message_at=now)
        )
        conversation = table_of(SocialConversation)
        session.execute(
            conversation.update()
            .where(conversation.c.id == bindparam("conversation_id"))
            .values(last_inbound_at=bindparam("latest")),
            [
                {
                    "conversation_id": known.conversation_id,
                    "latest": max(
                        t for t in (known.last_inbound_at, latest[chat_key]) if t is not None
                    ),
                }
                for chat_key, known in joined.items()
            ],
        )
    session.execute(
        update(InboundItem)
        .where(col(InboundItem.id).in_([item.item_id for item in items]))
        .values(state="done", reason="", processed_at=now, lease_until=None)
    )

    for ticket_id in new_ticket_ids:
        record(session, TicketCreated(ticket_id))
    for known in joined.values():
        record(session, TicketChanged(known.ticket_id))
    for item, value, message_id, (ticket_id, _, _) in zip(
        items, values, message_ids, placed, strict=True
    ):
        record(session, MessageAdded(ticket_id, message_id))
        if unnamed(channel, contacts[value].customer_name, item.sender_id):
            record(session, SocialDetailsWanted(message_id))
    return {
        item.item_id: IngestOutcome("done", reference, new_ticket=first)
        for item, (_, reference, first) in zip(items, placed, strict=True)
    }


def unnamed(channel: Channel, name: str, platform_id: str) -> bool:
    """A Messenger or Instagram sender known only by their id: the profile API names them."""
    return channel.kind in (ChannelKind.MESSENGER, ChannelKind.INSTAGRAM) and name == platform_id
