"""Automatic mail to a customer's contact on file, queued through the outbox.

It leaves from the ticket's email channel when there is one, else from the first enabled
email channel, else from any email channel: a security notice is worth a try even through a
channel an administrator paused (a failed delivery shows in the outbox). It is not a message
on any ticket: an agent never sees a one-time code.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from inbox.actions.outbox import queue_outbound
from inbox.mail.compose import OutboundMail, build_message, one_line
from inbox.models import Channel, Ticket, utcnow
from inbox.settings import Settings
from inbox.signing import new_message_id


def _sending_channel(session: Session, ticket: Ticket | None) -> Channel | None:
    if ticket is not None and ticket.channel_id is not None:
        channel = session.get(Channel, ticket.channel_id)
        if channel is not None and channel.kind == "email":
            return channel
    return session.exec(
        select(Channel)
        .where(Channel.kind == "email")
        .order_by(col(Channel.enabled).desc(), col(Channel.id))
    ).first()


def queue_contact_mail(
    session: Session,
    settings: Settings,
    *,
    to_address: str,
    to_name: str,
    kind: str,
    key: str,
    subject: str,
    body: str,
    ticket: Ticket | None = None,
) -> bool:
    """Queue one automatic mail; False when no email channel can send it."""
    channel = _sending_channel(session, ticket)
    if channel is None:
        return False
    domain = channel.address.partition("@")[2] or "localhost"
    payload = build_message(
        OutboundMail(
            from_name=channel.name,
            from_address=channel.address,
            to_name=one_line(to_name),
            to_address=to_address,
            reply_to=channel.address,
            subject=subject,
            body_text=body,
            message_id=new_message_id(settings.secret_key, domain, None),
            date=utcnow(),
            auto_submitted="auto-generated",
        )
    )
    queue_outbound(
        session,
        key=key,
        kind=kind,
        channel_id=channel.id,
        ticket_id=ticket.id if ticket else None,
        message_id=None,
        sender=channel.address,
        recipients=[to_address],
        payload=payload,
    )
    return True
