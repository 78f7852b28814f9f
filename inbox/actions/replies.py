"""An agent's reply to the customer, on the ticket's own channel.

Callers (the composer, the API, the unlock action, the demos) call ``reply_to_customer``. It
keeps the promises every channel shares: a reply needs text and at most 100,000 characters,
one written before the customer wrote again is refused (``StaleReply``), a reply named by an
idempotency key is queued once, and the reply answers the ticket (first response, status).
What differs per channel is in the replier of the ticket's channel kind (``REPLIERS``), which
stores the message and queues it on its channel's wire. A ticket of a kind without a replier
of its own (phone) or with no channel goes to email's, which refuses it (``Conflict``) when
the ticket has no email contact.

A reply may carry files (already checked and stored: ``inbox.actions.reply_files``), kept as
the reply's attachments; they go out on email and live chat, and a reply with files on any
other channel is refused (``inbox.rules.reply_files``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from inbox.actions.chat.files import attach_files
from inbox.actions.chat.replies import reply_by_chat
from inbox.actions.email_out import reply_by_email
from inbox.actions.reply_files import check_file_count
from inbox.actions.social_out import reply_on_social
from inbox.actions.tickets import check_reply_not_stale, set_status, touch_ticket
from inbox.errors import Conflict, InvalidInput
from inbox.models import Agent, Channel, Message, Outbox, Ticket
from inbox.models.kinds import ChannelKind
from inbox.rules.chat_files import ChatFile
from inbox.rules.masking import mask_sensitive
from inbox.rules.reply_files import NOT_ON_THIS_CHANNEL, reply_takes_files
from inbox.settings import Settings

MAX_REPLY_CHARS = 100_000
IDEMPOTENCY_KEY_CHARS = (8, 100)


class Replier(Protocol):
    """Stores the reply and queues it on its channel, recording ``MessageAdded``; ``key``, when
    there is one, goes where ``_earlier_reply`` looks (the outbox row's key, or the message's
    ``external_id`` on a channel without an outbox). ``Conflict`` when the ticket has no one
    to send to there."""

    def __call__(
        self,
        session: Session,
        settings: Settings,
        *,
        ticket: Ticket,
        author: Agent,
        body: str,
        key: str | None,
    ) -> Message: ...


REPLIERS: dict[str, Replier] = {ChannelKind.EMAIL: reply_by_email, ChannelKind.CHAT: reply_by_chat}
REPLIERS.update(
    dict.fromkeys(
        (
            ChannelKind.TELEGRAM,
            ChannelKind.MESSENGER,
            ChannelKind.INSTAGRAM,
            ChannelKind.WHATSAPP,
            ChannelKind.X,
        ),
        reply_on_social,
    )
)


def reply_to_customer(
    session: Session,
    settings: Settings,
    *,
    ticket: Ticket,
    author: Agent,
    body: str,
    status_after: str | None = None,
    seen_message_id: int | None = None,
    idempotency_key: str | None = None,
    files: Sequence[ChatFile] = (),
) -> Message:
    """The reply, queued on the ticket's channel, with ``files`` as its attachments.

    ``seen_message_id`` is the newest message the agent saw: a reply written before the
    customer wrote again is refused (``StaleReply``). ``idempotency_key`` names this reply
    for its author: the same key again answers with the reply already queued and sends
    nothing more (a second click, a resubmitted form, a client retrying after a lost answer),
    and names no other reply (``Conflict``); the files come with the first reply alone.
    """
    body = body.strip()
    key = authors_key("reply", author, idempotency_key)
    if key is not None:
        earlier = _earlier_reply(session, key, ticket=ticket, body=body)
        if earlier is not None:
            return earlier
    channel = session.get(Channel, ticket.channel_id) if ticket.channel_id else None
    if files:
        if not reply_takes_files(channel.kind if channel else ""):
            raise InvalidInput(f"{NOT_ON_THIS_CHANNEL}: send the reply without them")
        check_file_count(len(files))
    check_reply_not_stale(session, ticket, seen_message_id)
    if not body:
        raise InvalidInput("a reply needs text")
    if len(body) > MAX_REPLY_CHARS:
        raise InvalidInput("a reply may have at most 100,000 characters")
    replier = REPLIERS.get(channel.kind, reply_by_email) if channel else reply_by_email
    try:
        with session.begin_nested():
            message = replier(session, settings, ticket=ticket, author=author, body=body, key=key)
            attach_files(session, message.id or 0, files)
    except IntegrityError:  # the same key, at the same moment, on another ticket
        raced = _earlier_reply(session, key, ticket=ticket, body=body) if key else None
        if raced is None:
            raise
        return raced
    ticket.first_response_at = ticket.first_response_at or message.created_at
    if status_after:
        set_status(session, ticket, status_after)
    elif ticket.status_category == "new":
        set_status(session, ticket, "open")
    touch_ticket(session, ticket)
    return message


def authors_key(kind: str, author: Agent, idempotency_key: str | None) -> str | None:
    """The key of a reply or note (``kind``) its author named: unique per author and key."""
    if idempotency_key is None or not idempotency_key.strip():
        return None
    key = idempotency_key.strip()
    shortest, longest = IDEMPOTENCY_KEY_CHARS
    if not shortest <= len(key) <= longest:
        raise InvalidInput(f"an idempotency key has {shortest} to {longest} characters")
    return f"{kind}:{author.id}:{key}"


def _earlier_reply(session: Session, key: str, *, ticket: Ticket, body: str) -> Message | None:
    """The reply queued under this key before, if any; ``Conflict`` when the key named a
    different reply (another ticket or another text; compared as stored, where chat and
    social replies have card numbers masked)."""
    message_id = session.exec(select(Outbox.message_id).where(Outbox.key == key)).first()
    message = (
        session.get(Message, message_id)
        if message_id is not None
        else session.exec(select(Message).where(Message.external_id == key)).first()
    )
    if message is None:
        return None
    if message.ticket_id != ticket.id or message.body_text not in (body, mask_sensitive(body).text):
        raise Conflict("that idempotency key belongs to another reply")
    return message
