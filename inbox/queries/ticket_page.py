"""One ticket with everything its page and the API show: customer and identities, assignee,
team, channel, tags, the messages of every channel in order, their attachments, and the
tickets linked to it."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import or_
from sqlmodel import Session, col, select

from inbox.models import (
    Agent,
    Attachment,
    Channel,
    Customer,
    CustomerIdentity,
    Message,
    Team,
    Ticket,
    TicketLink,
    TicketTag,
)
from inbox.queries.chat import TicketChat, ticket_chat
from inbox.queries.social import social_reply_window
from inbox.queries.tickets import find_ticket
from inbox.rules.reply_files import ComposerFiles, composer_files
from inbox.rules.social_window import ReplyWindow


@dataclass
class TicketDetail:
    ticket: Ticket
    customer: Customer
    identities: list[CustomerIdentity]
    assignee: Agent | None
    team: Team | None
    channel: Channel | None
    tags: list[str]
    messages: list[Message]
    attachments: dict[int, list[Attachment]] = field(default_factory=dict)
    links: list[tuple[TicketLink, str]] = field(default_factory=list)
    # On a social platform: how a reply would go out, or why it cannot (its window closed).
    reply_window: ReplyWindow | None = None
    # A live chat's conversation: waiting, taken, left as a message, or ended.
    chat: TicketChat | None = None
    # What the composer's file inputs offer: a reply on a social platform takes none.
    files: ComposerFiles = field(default_factory=lambda: composer_files(""))


def ticket_detail(session: Session, reference: str, prefix: str) -> TicketDetail:
    ticket = find_ticket(session, reference, prefix)
    customer = session.get(Customer, ticket.customer_id)
    assert customer is not None
    messages = list(
        session.exec(
            select(Message)
            .where(Message.ticket_id == ticket.id)
            .order_by(col(Message.created_at), col(Message.id))
        ).all()
    )
    attachments: dict[int, list[Attachment]] = {}
    message_ids = [m.id for m in messages]
    if message_ids:
        for attachment in session.exec(
            select(Attachment)
            .where(col(Attachment.message_id).in_(message_ids))
            .order_by(col(Attachment.id))
        ).all():
            attachments.setdefault(attachment.message_id, []).append(attachment)
    links = []
    for link in session.exec(
        select(TicketLink).where(
            or_(
                col(TicketLink.ticket_id) == ticket.id, col(TicketLink.other_ticket_id) == ticket.id
            )
        )
    ).all():
        other_id = link.other_ticket_id if link.ticket_id == ticket.id else link.ticket_id
        other = session.get(Ticket, other_id)
        if other is not None:
            links.append((link, other.reference))
    channel = session.get(Channel, ticket.channel_id) if ticket.channel_id else None
    return TicketDetail(
        ticket=ticket,
        customer=customer,
        identities=list(
            session.exec(
                select(CustomerIdentity).where(CustomerIdentity.customer_id == customer.id)
            ).all()
        ),
        assignee=session.get(Agent, ticket.assignee_id) if ticket.assignee_id else None,
        team=session.get(Team, ticket.team_id) if ticket.team_id else None,
        channel=channel,
        tags=list(
            session.exec(select(TicketTag.tag).where(TicketTag.ticket_id == ticket.id)).all()
        ),
        messages=messages,
        attachments=attachments,
        links=links,
        reply_window=social_reply_window(session, ticket, channel),
        chat=ticket_chat(session, ticket.id or 0) if ticket.channel_kind == "chat" else None,
        files=composer_files(channel.kind if channel else ""),
    )
