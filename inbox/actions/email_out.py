"""Outbound email: acknowledgements and agent replies, queued through the outbox."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from inbox.actions.outbox import queue_outbound
from inbox.actions.tickets import set_status, touch_ticket
from inbox.errors import Conflict, InvalidInput
from inbox.events import MessageAdded, record
from inbox.mail.compose import OutboundMail, build_message, tagged_subject, without_links
from inbox.models import Agent, Channel, Customer, CustomerIdentity, Message, Outbox, Ticket, utcnow
from inbox.settings import Settings
from inbox.signing import new_message_id, reply_address

MAX_REPLY_CHARS = 100_000


def _thread_ids(
    session: Session, ticket_id: int, known: Sequence[str] | None
) -> tuple[str | None, tuple[str, ...]]:
    """In-Reply-To (the newest mail on the ticket) and References (the chain, oldest first).

    ``known``: the ticket's Message-IDs when the caller has them at hand, else they are read.
    """
    candidates = known if known is not None else _stored_message_ids(session, ticket_id)
    ids = [external_id for external_id in candidates if "@" in external_id]
    return (ids[-1] if ids else None), tuple(ids[-10:])


def _stored_message_ids(session: Session, ticket_id: int) -> list[str]:
    return [
        external_id
        for external_id in session.exec(
            select(Message.external_id)
            .where(
                Message.ticket_id == ticket_id,
                col(Message.kind) == "email",
                col(Message.external_id).is_not(None),
            )
            .order_by(col(Message.created_at), col(Message.id))
        ).all()
        if external_id
    ]


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
    thread_ids: Sequence[str] | None = None,
) -> Message:
    domain = channel.address.partition("@")[2] or "localhost"
    message_id = new_message_id(settings.secret_key, domain, ticket.id)
    in_reply_to, references = _thread_ids(session, ticket.id or 0, thread_ids)
    now = utcnow()
    payload = build_message(
        OutboundMail(
            from_name=channel.name,
            from_address=channel.address,
            to_name=to_name,
            to_address=contact.value,
            reply_to=reply_address(settings.secret_key, channel.address, ticket.id or 0),
            subject=subject,
            body_text=body,
            message_id=message_id,
            date=now,
            in_reply_to=in_reply_to,
            references=references,
            auto_submitted="auto-replied" if automatic else None,
        )
    )
    message = Message(
        ticket_id=ticket.id or 0,
        kind="email",
        direction="outbound",
        channel_id=channel.id,
        channel_kind=channel.kind,
        author_agent_id=author.id if author else None,
        author_label=author.name if author else channel.name,
        subject=subject,
        body_text=body,
        display_text=body,
        external_id=message_id,
        delivery="queued",
        is_automatic=automatic,
        created_at=now,
    )
    session.add(message)
    session.flush()
    queue_outbound(
        session,
        key=f"{kind}:{message.id}",
        kind=kind,
        channel_id=channel.id,
        ticket_id=ticket.id,
        message_id=message.id,
        sender=channel.address,
        recipients=[contact.value],
        payload=payload,
    )
    record(session, MessageAdded(ticket.id or 0, message.id or 0))
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


def queue_acknowledgement(
    session: Session,
    settings: Settings,
    *,
    ticket: Ticket,
    channel: Channel,
    contact: CustomerIdentity,
    customer_name: str,
    thread_ids: Sequence[str] | None = None,
) -> Message:
    """Tells the customer their reference; echoes nothing of their mail but a link-free subject.

    ``thread_ids``: Message-IDs of the mail on the ticket, oldest first, when the caller knows
    them (it just opened the ticket); otherwise they are read from the database.
    """
    subject = tagged_subject(ticket.reference, without_links(ticket.subject) or "Your request")
    body = (
        f"Hello,\n\n"
        f"Thank you for contacting {channel.name}. We have received your message and opened "
        f"a request for it.\n\n"
        f"Your reference number is {ticket.reference}.\n\n"
        f"To add anything, reply to this email and keep the reference in the subject. "
        f"If you call us, please have the reference ready.\n\n"
        f"This is an automatic message.\n"
    )
    return _queue_email(
        session,
        settings,
        ticket=ticket,
        channel=channel,
        contact=contact,
        to_name=customer_name,
        kind="acknowledgement",
        subject=subject,
        body=body,
        author=None,
        automatic=True,
        thread_ids=thread_ids,
    )


def reply_by_email(
    session: Session,
    settings: Settings,
    *,
    ticket: Ticket,
    author: Agent,
    body: str,
    status_after: str | None = None,
) -> Message:
    body = body.strip()
    if not body:
        raise InvalidInput("a reply needs text")
    if len(body) > MAX_REPLY_CHARS:
        raise InvalidInput("a reply may have at most 100,000 characters")
    channel = session.get(Channel, ticket.channel_id) if ticket.channel_id else None
    contact = (
        session.get(CustomerIdentity, ticket.contact_identity_id)
        if ticket.contact_identity_id
        else None
    )
    if channel is None or channel.kind != "email" or contact is None or contact.kind != "email":
        raise Conflict("this ticket has no email contact to reply to")
    customer = session.get(Customer, ticket.customer_id)
    message = _queue_email(
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
    )
    ticket.first_response_at = ticket.first_response_at or message.created_at
    if status_after:
        set_status(session, ticket, status_after)
    elif ticket.status_category == "new":
        set_status(session, ticket, "open")
    touch_ticket(session, ticket)
    return message
