"""Outbound email: acknowledgements and agent replies, queued through the outbox."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from inbox.actions.automatic_mail import sending_channel
from inbox.actions.outbox import outbox_row, queue_outbound, queue_outbound_many
from inbox.actions.rows import Row, insert_rows
from inbox.errors import Conflict
from inbox.events import MessageAdded, record
from inbox.mail.compose import OutboundMail, build_message, tagged_subject, without_links
from inbox.models import Agent, Channel, Customer, CustomerIdentity, Message, Outbox, Ticket, utcnow
from inbox.models.kinds import ChannelKind, Direction, IdentityKind, MessageKind
from inbox.queries.help import search_articles
from inbox.rules.help_articles import DEFAULT_LOCALE, article_path
from inbox.settings import Settings
from inbox.signing import new_message_id, reply_address


def _thread_ids(message_ids: Sequence[str]) -> tuple[str | None, tuple[str, ...]]:
    """In-Reply-To (the newest mail on the ticket) and References (the chain, oldest first)."""
    ids = [external_id for external_id in message_ids if "@" in external_id]
    return (ids[-1] if ids else None), tuple(ids[-10:])


def _stored_message_ids(session: Session, ticket_id: int) -> list[str]:
    return [
        external_id
        for external_id in session.exec(
            select(Message.external_id)
            .where(
                Message.ticket_id == ticket_id,
                col(Message.kind) == MessageKind.EMAIL,
                col(Message.external_id).is_not(None),
            )
            .order_by(col(Message.created_at), col(Message.id))
        ).all()
        if external_id
    ]


def _compose(
    settings: Settings,
    *,
    channel: Channel,
    ticket_id: int,
    to_address: str,
    to_name: str,
    subject: str,
    body: str,
    thread_ids: Sequence[str],
    automatic: bool,
    now: datetime,
) -> tuple[str, bytes]:
    """A new signed Message-ID and the mail's bytes."""
    domain = channel.address.partition("@")[2] or "localhost"
    message_id = new_message_id(settings.secret_key, domain, ticket_id)
    in_reply_to, references = _thread_ids(thread_ids)
    payload = build_message(
        OutboundMail(
            from_name=channel.name,
            from_address=channel.address,
            to_name=to_name,
            to_address=to_address,
            reply_to=reply_address(settings.secret_key, channel.address, ticket_id),
            subject=subject,
            body_text=body,
            message_id=message_id,
            date=now,
            in_reply_to=in_reply_to,
            references=references,
            auto_submitted="auto-replied" if automatic else None,
        )
    )
    return message_id, payload


def _outbound_message_row(
    *,
    ticket_id: int,
    channel: Channel,
    author: Agent | None,
    subject: str,
    body: str,
    message_id: str,
    automatic: bool,
    now: datetime,
) -> Row:
    return {
        "ticket_id": ticket_id,
        "kind": MessageKind.EMAIL,
        "direction": Direction.OUTBOUND,
        "channel_id": channel.id,
        "channel_kind": channel.kind,
        "author_agent_id": author.id if author else None,
        "author_label": author.name if author else channel.name,
        "subject": subject,
        "body_text": body,
        "display_text": body,
        "external_id": message_id,
        "delivery": "queued",
        "is_automatic": automatic,
        "created_at": now,
    }


def _queue_email(
    session: Session,
    settings: Settings,
    *,
    ticket: Ticket,
    channel: Channel,
    contact: CustomerIdentity,
    to_name: str,
    kind: str,
    subject: str,
    body: str,
    author: Agent | None,
    automatic: bool,
    outbox_key: str | None = None,
) -> Message:
    now = utcnow()
    ticket_id = ticket.id or 0
    message_id, payload = _compose(
        settings,
        channel=channel,
        ticket_id=ticket_id,
        to_address=contact.value,
        to_name=to_name,
        subject=subject,
        body=body,
        thread_ids=_stored_message_ids(session, ticket_id),
        automatic=automatic,
        now=now,
    )
    message = Message(
        **_outbound_message_row(
            ticket_id=ticket_id,
            channel=channel,
            author=author,
            subject=subject,
            body=body,
            message_id=message_id,
            automatic=automatic,
            now=now,
        )
    )
    session.add(message)
    session.flush()
    queue_outbound(
        session,
        key=outbox_key or f"{kind}:{message.id}",
        kind=kind,
        channel_id=channel.id,
        ticket_id=ticket_id,
        message_id=message.id,
        sender=channel.address,
        recipients=[contact.value],
        payload=payload,
    )
    record(session, MessageAdded(ticket_id, message.id or 0))
    return message


def recent_acknowledgements(
    session: Session, settings: Settings, addresses: Collection[str]
) -> dict[str, int]:
    """Acknowledgements queued to each address within the period; absent means none."""
    if not addresses:
        return {}
    cutoff = utcnow() - timedelta(seconds=settings.auto_reply_period_seconds)
    rows = session.exec(
        select(Outbox.recipient, func.count())
        .where(
            col(Outbox.recipient).in_(addresses),
            Outbox.kind == "acknowledgement",
            col(Outbox.created_at) >= cutoff,
        )
        .group_by(col(Outbox.recipient))
    ).all()
    return {recipient: count for recipient, count in rows}


# Help-centre articles an acknowledgement suggests, at most.
ACKNOWLEDGEMENT_ARTICLES = 3


@dataclass(frozen=True)
class AcknowledgementRequest:
    ticket_id: int
    reference: str
    ticket_subject: str
    to_address: str
    to_name: str
    # Message-IDs of the mail on the new ticket, oldest first: what the answer threads under.
    thread_ids: tuple[str, ...]


def queue_acknowledgements(
    session: Session,
    settings: Settings,
    channel: Channel,
    requests: Sequence[AcknowledgementRequest],
) -> list[int]:
    """Tells each customer their reference; echoes nothing of their mail but a link-free
    subject. Written in a few statements however many there are; returns message ids."""
    now = utcnow()
    messages: list[Row] = []
    payloads: list[bytes] = []
    for request in requests:
        subject = tagged_subject(
            request.reference, without_links(request.ticket_subject) or "Your request"
        )
        body = _acknowledgement_body(
            channel, request.reference, _articles_for(session, settings, request.ticket_subject)
        )
        message_id, payload = _compose(
            settings,
            channel=channel,
            ticket_id=request.ticket_id,
            to_address=request.to_address,
            to_name=request.to_name,
            subject=subject,
            body=body,
            thread_ids=request.thread_ids,
            automatic=True,
            now=now,
        )
        payloads.append(payload)
        messages.append(
            _outbound_message_row(
                ticket_id=request.ticket_id,
                channel=channel,
                author=None,
                subject=subject,
                body=body,
                message_id=message_id,
                automatic=True,
                now=now,
            )
        )
    row_ids = insert_rows(session, Message, messages)
    queue_outbound_many(
        session,
        [
            outbox_row(
                f"acknowledgement:{row_id}",
                "acknowledgement",
                channel.id,
                request.ticket_id,
                row_id,
                channel.address,
                [request.to_address],
                payload,
            )
            for request, row_id, payload in zip(requests, row_ids, payloads, strict=True)
        ],
    )
    for request, row_id in zip(requests, row_ids, strict=True):
        record(session, MessageAdded(request.ticket_id, row_id))
    return row_ids


def _articles_for(session: Session, settings: Settings, subject: str) -> list[str]:
    """Up to ``ACKNOWLEDGEMENT_ARTICLES`` help-centre articles matching a mail's subject, as
    lines of title and address: the desk's own pages, never anything of the mail."""
    found = search_articles(
        session, subject, DEFAULT_LOCALE, limit=ACKNOWLEDGEMENT_ARTICLES, any_word=True
    )
    base = settings.base_url.rstrip("/")
    return [f"- {a.title}: {base}{article_path(a.slug, a.locale)}" for a in found]


def _acknowledgement_body(channel: Channel, reference: str, articles: Sequence[str] = ()) -> str:
    suggestions = (
        "While you wait, these articles from our help centre may already answer your "
        "question:\n" + "\n".join(articles) + "\n\n"
        if articles
        else ""
    )
    return (
        f"Hello,\n\n"
        f"Thank you for contacting {channel.name}. We have received your message and opened "
        f"a request for it.\n\n"
        f"Your reference number is {reference}.\n\n"
        f"{suggestions}"
        f"To add anything, reply to this email and keep the reference in the subject. "
        f"If you call us, please have the reference ready.\n\n"
        f"This is an automatic message.\n"
    )


def _email_contact(session: Session, ticket: Ticket) -> tuple[Channel, CustomerIdentity] | None:
    """The ticket's email channel and the customer's email address on it, if it has both."""
    channel = session.get(Channel, ticket.channel_id) if ticket.channel_id else None
    contact = (
        session.get(CustomerIdentity, ticket.contact_identity_id)
        if ticket.contact_identity_id
        else None
    )
    if (
        channel is None
        or channel.kind != ChannelKind.EMAIL
        or contact is None
        or contact.kind != IdentityKind.EMAIL
    ):
        return None
    return channel, contact


def reply_by_email(
    session: Session,
    settings: Settings,
    *,
    ticket: Ticket,
    author: Agent,
    body: str,
    key: str | None,
) -> Message:
    """The replier of email, and of tickets without a channel of their own: a mail to the
    ticket's email contact, through the outbox."""
    found = _email_contact(session, ticket)
    if found is None:
        raise Conflict("this ticket has no email contact to reply to")
    channel, contact = found
    return _mail_reply(session, settings, ticket, channel, contact, author, body, key)


def mail_answer(
    session: Session,
    settings: Settings,
    *,
    ticket: Ticket,
    author: Agent,
    body: str,
    key: str | None,
    contact: CustomerIdentity,
) -> Message | None:
    """An agent's answer on a ticket of another channel, mailed to the customer's proven
    address from the desk's email channel (a chat whose visitor has gone); None without an
    email channel to send it. Their answer threads back into the ticket."""
    channel = sending_channel(session)
    if channel is None:
        return None
    return _mail_reply(session, settings, ticket, channel, contact, author, body, key)


def _mail_reply(
    session: Session,
    settings: Settings,
    ticket: Ticket,
    channel: Channel,
    contact: CustomerIdentity,
    author: Agent,
    body: str,
    key: str | None,
) -> Message:
    customer = session.get(Customer, ticket.customer_id)
    return _queue_email(
        session,
        settings,
        ticket=ticket,
        channel=channel,
        contact=contact,
        to_name=customer.name if customer else "",
        kind="reply",
        subject=tagged_subject(ticket.reference, ticket.subject, reply=True),
        body=body,
        author=author,
        automatic=False,
        outbox_key=key,
    )


def send_automatic_email(
    session: Session, settings: Settings, *, ticket: Ticket, kind: str, body: str
) -> Message | None:
    """An automatic mail (a reminder, a closing message, a survey) to the ticket's email
    contact, threaded like a reply and marked ``Auto-Submitted``: it is not an agent's
    response. None when the ticket has no email contact or the address bounced."""
    found = _email_contact(session, ticket)
    if found is None or found[1].undeliverable_at is not None:
        return None
    channel, contact = found
    customer = session.get(Customer, ticket.customer_id)
    return _queue_email(
        session,
        settings,
        ticket=ticket,
        channel=channel,
        contact=contact,
        to_name=customer.name if customer else "",
        kind=kind,
        subject=tagged_subject(
            ticket.reference, without_links(ticket.subject) or "Your request", reply=True
        ),
        body=body,
        author=None,
        automatic=True,
    )
