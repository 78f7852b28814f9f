"""The social platforms' part of ``inbox demo``: a conversation on each of Telegram,
Messenger, Instagram, WhatsApp and X, threaded as the platforms' own would be, one with a reply
the customer has read and one whose reply window has closed."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, select

from inbox.actions.customers import resolve_customer
from inbox.actions.inbound.social import IDENTITY_KINDS
from inbox.actions.tickets import open_ticket, set_status
from inbox.models import (
    Agent,
    Channel,
    CustomerIdentity,
    Message,
    SocialConversation,
    Ticket,
    utcnow,
)
from inbox.models.kinds import ChannelKind, Direction, MessageKind
from inbox.settings import Settings

CHANNELS = [
    ("telegram", "Telegram"),
    ("messenger", "Messenger"),
    ("instagram", "Instagram"),
    ("whatsapp", "WhatsApp"),
    ("x", "X"),
]
# (channel kind, platform id, name, hours since the customer wrote, what they wrote, reply,
# its delivery)
CONVERSATIONS = [
    ("telegram", "611204958", "Lena Schmidt", 3, "Is the app down? I can't log in.",
     "It was a short outage, fixed now. Please try again.", "sent"),
    ("messenger", "4481203377", "Oliver Grant", 50, "Why was I charged 4.99 twice?",
     "", ""),
    ("instagram", "17841400123", "Chloé Martin", 9 * 24, "Do you have a student plan?", "", ""),
    ("whatsapp", "+447700900123", "Priya Shah", 2, "Hi, my card was declined at the shop",
     "Sorry about that. I have lifted the block, please try again.", "read"),
    ("x", "1453309876", "Diego Ramos", 20, "DM'ing about my refund for order 5512", "", ""),
]  # fmt: skip


def load_social_demo(session: Session, settings: Settings, agent: Agent) -> int:
    """The demo's direct-message conversations; returns how many tickets it opened. The
    channels point at no platform, so they are disabled and replies to them fail, visibly."""
    channels: dict[str, Channel] = {}
    for kind, name in CHANNELS:
        channel = session.exec(select(Channel).where(Channel.kind == kind)).first()
        if channel is None:
            channel = Channel(kind=kind, name=name, enabled=False, health="unknown")
            session.add(channel)
            session.flush()
        channels[kind] = channel
    now = utcnow()
    for kind, platform_id, name, hours, text, answer, delivery in CONVERSATIONS:
        channel = channels[kind]
        customer, identity = resolve_customer(
            session, kind=IDENTITY_KINDS[ChannelKind(kind)], value=platform_id, name=name
        )
        wrote = now - timedelta(hours=hours)
        ticket = open_ticket(
            session,
            prefix=settings.reference_prefix,
            subject=text,
            customer_id=customer.id or 0,
            contact_identity_id=identity.id,
            channel_id=channel.id,
            channel_kind=kind,
        )
        ticket.created_at = ticket.last_customer_message_at = wrote
        chat = platform_id.lstrip("+")
        session.add(
            SocialConversation(
                channel_id=channel.id or 0,
                chat_key=chat,
                recipient=chat,
                identity_id=identity.id,
                ticket_id=ticket.id or 0,
                last_inbound_at=wrote,
            )
        )
        session.add(_message(ticket, channel, Direction.INBOUND, name, text, wrote, identity.id))
        if answer:
            reply = _message(ticket, channel, Direction.OUTBOUND, agent.name, answer, wrote, None)
            reply.author_agent_id = agent.id
            reply.delivery = delivery
            reply.created_at = wrote + timedelta(minutes=12)
            session.add(reply)
            ticket.first_response_at = reply.created_at
            set_status(session, ticket, "open")
        session.add(ticket)
    _thread_earlier_telegram_tickets(session, channels["telegram"])
    return len(CONVERSATIONS)


def _message(
    ticket: Ticket,
    channel: Channel,
    direction: Direction,
    author: str,
    text: str,
    at: datetime,
    identity_id: int | None,
) -> Message:
    return Message(
        ticket_id=ticket.id or 0,
        kind=MessageKind.SOCIAL,
        direction=direction,
        channel_id=channel.id,
        channel_kind=channel.kind,
        author_identity_id=identity_id,
        author_label=author,
        body_text=text,
        display_text=text,
        thread_reason="new_ticket" if direction == Direction.INBOUND else None,
        verification="authenticated" if direction == Direction.INBOUND else "agent",
        created_at=at,
    )


def _thread_earlier_telegram_tickets(session: Session, channel: Channel) -> None:
    """Telegram tickets of the demo made before this part ran get their conversation too, so
    an agent may answer them like any other."""
    threaded = set(session.exec(select(SocialConversation.ticket_id)).all())
    for ticket in session.exec(select(Ticket).where(Ticket.channel_id == channel.id)).all():
        if ticket.id in threaded or ticket.contact_identity_id is None:
            continue
        identity = session.get(CustomerIdentity, ticket.contact_identity_id)
        if identity is None:
            continue
        session.add(
            SocialConversation(
                channel_id=channel.id or 0,
                chat_key=identity.value,
                recipient=identity.value,
                identity_id=identity.id,
                ticket_id=ticket.id or 0,
                last_inbound_at=ticket.created_at,
            )
        )
