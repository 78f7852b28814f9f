"""Delivery failures coming back as mail (DSNs and their informal cousins)."""

from __future__ import annotations

from sqlmodel import Session, select

from inbox.actions.tickets import touch_ticket
from inbox.actions.timeline import record_system_event
from inbox.mail.parse import ParsedMail
from inbox.models import Channel, CustomerIdentity, Message, Ticket, utcnow
from inbox.models.kinds import IdentityKind


def file_bounce(
    session: Session, channel: Channel, inbound_item_id: int, parsed: ParsedMail
) -> str | None:
    """Marks the address undeliverable and shows the failure on its ticket.

    Returns the ticket's reference ("" when the message has no ticket any more), or None when
    the bounce concerns no mail of ours.
    """
    original = parsed.bounce_original_message_id
    candidates = [original, *parsed.in_reply_to] if original else list(parsed.in_reply_to)
    message = None
    for message_id in candidates:
        if message_id:
            message = session.exec(
                select(Message).where(
                    Message.channel_id == channel.id, Message.external_id == message_id
                )
            ).first()
            if message:
                break
    for address in parsed.bounce_recipients:
        identity = session.exec(
            select(CustomerIdentity).where(
                CustomerIdentity.kind == IdentityKind.EMAIL,
                CustomerIdentity.value == address.lower(),
            )
        ).first()
        if identity is not None:
            identity.undeliverable_at = utcnow()
            identity.undeliverable_reason = "mail to this address bounced"
            session.add(identity)
    if message is None:
        return None
    message.delivery = "failed"
    message.delivery_error = "bounced: " + ", ".join(parsed.bounce_recipients or ("recipient",))
    session.add(message)
    ticket = session.get(Ticket, message.ticket_id)
    if ticket is not None:
        record_system_event(
            session,
            ticket,
            None,
            message.delivery_error + "\n\n" + parsed.text[:5000],
            author_label="mail system",
            display_text=message.delivery_error,
            channel_id=channel.id,
            channel_kind=channel.kind,
            inbound_item_id=inbound_item_id,
            is_automatic=True,
        )
        touch_ticket(session, ticket)
    return ticket.reference if ticket else ""
