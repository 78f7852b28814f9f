"""The email kind's part of filing a quarantined item anyway: the mail opens a new ticket as
its first message, threaded nowhere and answered by nobody. Input that is no mail at all still
makes a ticket, with the stored bytes attached as they came."""

from __future__ import annotations

from dataclasses import replace

from sqlmodel import Session, select

from inbox.actions.customers import resolve_customer
from inbox.actions.inbound.rows import attachment_rows, message_row
from inbox.actions.tickets import open_ticket, touch_ticket
from inbox.blobs import BlobStore
from inbox.events import MessageAdded, record
from inbox.mail.inbound import read_mail
from inbox.models import Attachment, Channel, Customer, InboundItem, Message, Ticket, utcnow
from inbox.models.kinds import Direction, IdentityKind, MessageKind
from inbox.parsing.items import PendingRaw
from inbox.settings import Settings


def file_mail_anyway(
    session: Session, settings: Settings, blobs: BlobStore, channel: Channel, item: InboundItem
) -> Ticket:
    pending = PendingRaw(item.id or 0, channel.kind, item.raw, item.size, item.truncated)
    try:
        mail = read_mail(pending)
    except Exception as exc:  # a parser bug: the agent still gets the bytes on a ticket
        return _unreadable(session, settings, blobs, channel, item, f"the parser failed: {exc}")
    parsed = mail.parsed
    if parsed is None:
        return _unreadable(session, settings, blobs, channel, item, mail.unparseable)
    identity = None
    if parsed.from_address:
        customer, identity = resolve_customer(
            session, kind=IdentityKind.EMAIL, value=parsed.from_address, name=parsed.from_name
        )
    else:
        customer = _unknown_sender(session, parsed.from_name)
    ticket = _open(
        session, settings, channel, parsed.subject, customer, identity.id if identity else None
    )
    # Our own mail coming back carries the id of a message already on this channel.
    if _taken(session, channel, mail.external_id):
        mail = replace(mail, external_id=f"inbound-item:{item.id}")
    now = utcnow()
    message = Message(
        **message_row(
            channel,
            mail,
            parsed,
            ticket_id=ticket.id or 0,
            identity_id=identity.id if identity else None,
            thread_reason="new_ticket",
            now=now,
        )
    )
    session.add(message)
    session.flush()
    for row in attachment_rows(blobs, message.id or 0, parsed):
        session.add(Attachment(**row))
    record(session, MessageAdded(ticket.id or 0, message.id or 0))
    return ticket


def _unreadable(
    session: Session,
    settings: Settings,
    blobs: BlobStore,
    channel: Channel,
    item: InboundItem,
    problem: str,
) -> Ticket:
    ticket = _open(
        session, settings, channel, "(unreadable mail)", _unknown_sender(session, ""), None
    )
    note = f"This mail could not be read ({problem}). It is attached as it arrived."
    message = Message(
        ticket_id=ticket.id or 0,
        kind=MessageKind.EMAIL,
        direction=Direction.INBOUND,
        channel_id=channel.id,
        channel_kind=channel.kind,
        author_label="unknown sender",
        subject="(unreadable mail)",
        body_text=note,
        display_text=note,
        external_id=f"inbound-item:{item.id}",
        inbound_item_id=item.id,
        thread_reason="new_ticket",
    )
    session.add(message)
    session.flush()
    session.add(
        Attachment(
            message_id=message.id or 0,
            filename="original.eml",
            content_type="application/octet-stream",
            size=len(item.raw),
            content_hash=blobs.put(item.raw),
        )
    )
    record(session, MessageAdded(ticket.id or 0, message.id or 0))
    return ticket


def _open(
    session: Session,
    settings: Settings,
    channel: Channel,
    subject: str,
    customer: Customer,
    identity_id: int | None,
) -> Ticket:
    ticket = open_ticket(
        session,
        prefix=settings.reference_prefix,
        subject=subject or "(no subject)",
        customer_id=customer.id or 0,
        contact_identity_id=identity_id,
        channel_id=channel.id,
        channel_kind=channel.kind,
    )
    ticket.last_customer_message_at = utcnow()
    touch_ticket(session, ticket)
    return ticket


def _unknown_sender(session: Session, name: str) -> Customer:
    customer = Customer(name=name or "Unknown sender")
    session.add(customer)
    session.flush()
    return customer


def _taken(session: Session, channel: Channel, external_id: str) -> bool:
    return (
        session.exec(
            select(Message.id).where(
                Message.channel_id == channel.id, Message.external_id == external_id
            )
        ).first()
        is not None
    )
