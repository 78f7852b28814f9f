"""What a social account itself sent, as its platform reports it back: an echo of a message
sent from the platform's own inbox (recorded on the ticket as outbound, never as the
customer's) and a delivery status of a message the desk sent (``delivery`` only ever moves
forward, whatever order the statuses arrive in; a failure keeps the platform's words)."""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, col, select

from inbox.actions.inbound.items import IngestOutcome, finish_item
from inbox.actions.merge import merged_into
from inbox.actions.tickets import touch_ticket
from inbox.actions.timeline import record_system_event
from inbox.events import MessageAdded, record
from inbox.models import Channel, InboundItem, Message, SocialConversation, Ticket, utcnow
from inbox.models.kinds import Direction, MessageKind
from inbox.parsing.social import SocialArrival
from inbox.rules.masking import mask_sensitive
from inbox.rules.social_window import delivery_moves_forward


def platform_conversation(
    session: Session, channel: Channel, chat_key: str
) -> SocialConversation | None:
    """The desk's record of one chat on the platform (channel and the platform's chat id)."""
    return session.exec(
        select(SocialConversation).where(
            SocialConversation.channel_id == channel.id, SocialConversation.chat_key == chat_key
        )
    ).first()


def file_echo(
    session: Session, channel: Channel, row: InboundItem, item: SocialArrival
) -> IngestOutcome:
    conversation = platform_conversation(session, channel, item.chat_key)
    ticket = session.get(Ticket, conversation.ticket_id) if conversation else None
    if ticket is None:
        return finish_item(
            session, row, "ignored", "the account's own message, in no conversation of the desk"
        )
    ticket = merged_into(session, ticket)
    text = mask_sensitive(item.text).text
    message = Message(
        ticket_id=ticket.id or 0,
        kind=MessageKind.SOCIAL,
        direction=Direction.OUTBOUND,
        channel_id=channel.id,
        channel_kind=channel.kind,
        author_label=f"{channel.name} (sent outside the desk)"[:400],
        body_text=text,
        display_text=text,
        external_id=item.external_id,
        inbound_item_id=row.id,
        verification="agent",
        delivery="sent",
        created_at=utcnow(),
    )
    session.add(message)
    session.flush()
    touch_ticket(session, ticket)
    record(session, MessageAdded(ticket.id or 0, message.id or 0))
    finish_item(session, row, "done", "the account's own message, recorded as outbound")
    return IngestOutcome("done", ticket.reference)


def file_status(
    session: Session, channel: Channel, row: InboundItem, item: SocialArrival
) -> IngestOutcome:
    message = session.exec(
        select(Message).where(Message.channel_id == channel.id, Message.external_id == item.about)
    ).first()
    if message is None:
        return finish_item(session, row, "ignored", "a status of a message the desk did not send")
    if delivery_moves_forward(message.delivery, item.status):
        failed = item.status == "failed"
        error = (item.status_error or "the platform reported a failure") if failed else None
        session.execute(
            update(Message)
            .where(col(Message.id) == message.id)
            .values(delivery=item.status, delivery_error=error)
        )
        ticket = session.get(Ticket, message.ticket_id)
        if ticket is not None:
            if item.status == "failed":
                record_system_event(
                    session, ticket, None, f"WhatsApp could not deliver a reply: {error}"
                )
            touch_ticket(session, ticket)
            record(session, MessageAdded(ticket.id or 0, message.id or 0))
    return finish_item(session, row, "done", f"status {item.status}")
