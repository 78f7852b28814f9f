"""What the customer portal reads: who a portal session is, that customer's own tickets and
nothing else, the messages a customer may see on them, and the topics of the new-ticket form.

Every read of a ticket goes through ``customer_ticket``: a ticket of another customer
answers exactly like one that does not exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from inbox.errors import NotFound
from inbox.models import (
    Attachment,
    Customer,
    CustomerIdentity,
    Message,
    PortalSession,
    SatisfactionSurvey,
    Team,
    Ticket,
    utcnow,
)
from inbox.models.kinds import PUBLIC_MESSAGE_KINDS, Direction
from inbox.queries.tickets import find_ticket
from inbox.rules.portal import customer_status, parse_topics
from inbox.settings import Settings
from inbox.signing import hash_token

MAX_LISTED = 200
_MERGE_DEPTH = 10  # merges chain rarely; the bound guards against a cycle
_NO_SUCH_TICKET = "no such ticket"


@dataclass(frozen=True)
class PortalCustomer:
    """Who a portal session belongs to: the email identity that signed in, and the customer
    it belongs to as merges left it, with every customer merged into that one."""

    identity_id: int
    customer_id: int
    customer_ids: tuple[int, ...]
    email: str
    name: str


def portal_customer(session: Session, token: str) -> PortalCustomer | None:
    """The customer of a live portal session token; None for an expired or made-up one."""
    row = session.exec(
        select(CustomerIdentity)
        .join(PortalSession, col(PortalSession.identity_id) == CustomerIdentity.id)
        .where(
            PortalSession.token_hash == hash_token(token),
            col(PortalSession.expires_at) > utcnow(),
        )
    ).first()
    if row is None:
        return None
    customer = _survivor(session, row.customer_id)
    if customer is None:
        return None
    return PortalCustomer(
        identity_id=row.id or 0,
        customer_id=customer.id or 0,
        customer_ids=_family(session, customer.id or 0),
        email=row.value,
        name=customer.name,
    )


def _survivor(session: Session, customer_id: int) -> Customer | None:
    customer = session.get(Customer, customer_id)
    for _ in range(_MERGE_DEPTH):
        if customer is None or customer.merged_into_id is None:
            break
        customer = session.get(Customer, customer.merged_into_id)
    return customer


def _family(session: Session, customer_id: int) -> tuple[int, ...]:
    """The customer and every customer merged into it, directly or through another."""
    found = [customer_id]
    frontier = [customer_id]
    for _ in range(_MERGE_DEPTH):
        children = session.exec(
            select(Customer.id).where(col(Customer.merged_into_id).in_(frontier))
        ).all()
        frontier = [c for c in children if c is not None and c not in found]
        if not frontier:
            break
        found += frontier
    return tuple(found)


@dataclass(frozen=True)
class PortalTicketRow:
    reference: str
    subject: str
    status: str
    status_category: str
    channel_kind: str
    created_at: datetime
    updated_at: datetime


def customer_tickets(session: Session, customer: PortalCustomer) -> list[PortalTicketRow]:
    """The customer's own tickets on every channel, the latest change first."""
    rows = session.exec(
        select(Ticket)
        .where(col(Ticket.customer_id).in_(customer.customer_ids))
        .order_by(col(Ticket.updated_at).desc(), col(Ticket.id).desc())
        .limit(MAX_LISTED)
    ).all()
    return [portal_row(ticket) for ticket in rows]


def portal_row(ticket: Ticket) -> PortalTicketRow:
    """A ticket as the customer's list shows it."""
    return PortalTicketRow(
        reference=ticket.reference,
        subject=ticket.subject,
        status=customer_status(ticket.status_category),
        status_category=ticket.status_category,
        channel_kind=ticket.channel_kind,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
    )


def customer_ticket(
    session: Session, customer: PortalCustomer, reference: str, prefix: str
) -> Ticket:
    """The customer's own ticket by reference (any tolerated spelling); NotFound, with the
    same words, for another customer's ticket and for a reference that does not exist."""
    try:
        ticket = find_ticket(session, reference, prefix)
    except NotFound:
        raise NotFound(_NO_SUCH_TICKET) from None
    if ticket.customer_id not in customer.customer_ids:
        raise NotFound(_NO_SUCH_TICKET)
    return ticket


def own_ticket_by_id(session: Session, customer: PortalCustomer, ticket_id: int) -> Ticket | None:
    """The ticket with this id when it is the customer's own, else None: what the portal's
    live socket checks again before it pushes anything of a ticket."""
    return session.exec(
        select(Ticket).where(
            col(Ticket.id) == ticket_id, col(Ticket.customer_id).in_(customer.customer_ids)
        )
    ).first()


def ticket_owner(session: Session, ticket_id: int) -> int | None:
    """The customer a ticket belongs to, to tell which portal sockets may hear of it."""
    return session.exec(select(Ticket.customer_id).where(col(Ticket.id) == ticket_id)).first()


@dataclass(frozen=True)
class PortalMessage:
    id: int
    mine: bool
    author: str
    text: str
    created_at: datetime
    attachments: tuple[Attachment, ...]


@dataclass(frozen=True)
class PortalTicketView:
    ticket: PortalTicketRow
    messages: list[PortalMessage]
    survey_id: int | None  # a survey of this ticket still waiting for the customer's answer


def customer_ticket_view(
    session: Session, customer: PortalCustomer, ticket: Ticket
) -> PortalTicketView:
    """The conversation as the customer had it: their messages and the desk's replies on
    every channel; never internal notes, call notes or the ticket's system events."""
    survey = session.exec(
        select(SatisfactionSurvey).where(SatisfactionSurvey.ticket_id == ticket.id)
    ).first()
    return PortalTicketView(
        ticket=portal_row(ticket),
        messages=portal_messages(session, ticket),
        survey_id=survey.id if survey is not None and survey.answered_at is None else None,
    )


def portal_messages(
    session: Session, ticket: Ticket, message_ids: Sequence[int] | None = None
) -> list[PortalMessage]:
    """The messages of ``ticket`` a customer may see (all of them, or those of
    ``message_ids``), oldest first: their own and the desk's replies, never internal notes,
    call notes or system events."""
    query = select(Message).where(
        Message.ticket_id == ticket.id, col(Message.kind).in_(sorted(PUBLIC_MESSAGE_KINDS))
    )
    if message_ids is not None:
        if not message_ids:
            return []
        query = query.where(col(Message.id).in_(message_ids))
    messages = session.exec(query.order_by(col(Message.created_at), col(Message.id))).all()
    files = _attachments(session, [m.id or 0 for m in messages])
    return [
        PortalMessage(
            id=m.id or 0,
            mine=m.direction == Direction.INBOUND,
            author="You" if m.direction == Direction.INBOUND else _desk_author(m),
            text=m.display_text or m.body_text,
            created_at=m.created_at,
            attachments=tuple(files.get(m.id or 0, ())),
        )
        for m in messages
    ]


def _desk_author(message: Message) -> str:
    """The agent's name as the customer's mail showed it, without the address."""
    label = message.author_label.split("<")[0].strip().strip('"')
    return label or "Support"


def _attachments(session: Session, message_ids: Sequence[int]) -> dict[int, list[Attachment]]:
    found: dict[int, list[Attachment]] = {}
    if not message_ids:
        return found
    for row in session.exec(
        select(Attachment)
        .where(col(Attachment.message_id).in_(message_ids))
        .order_by(col(Attachment.id))
    ).all():
        found.setdefault(row.message_id, []).append(row)
    return found


def customer_attachment(
    session: Session, customer: PortalCustomer, attachment_id: int
) -> Attachment:
    """A file on a message the customer may see of their own ticket; NotFound otherwise."""
    row = session.exec(
        select(Attachment)
        .join(Message, col(Message.id) == Attachment.message_id)
        .join(Ticket, col(Ticket.id) == Message.ticket_id)
        .where(
            Attachment.id == attachment_id,
            col(Message.kind).in_(sorted(PUBLIC_MESSAGE_KINDS)),
            col(Ticket.customer_id).in_(customer.customer_ids),
        )
    ).first()
    if row is None:
        raise NotFound("no such file")
    return row


@dataclass(frozen=True)
class Topic:
    label: str
    team_id: int | None


OTHER_TOPIC = "Something else"


def portal_topics(session: Session, settings: Settings) -> list[Topic]:
    """The topics of the new-ticket form: ``INBOX_PORTAL_TOPICS`` when set (a team named
    there that does not exist sends its tickets to no team), else one per team by its name
    and "Something else"."""
    teams = {team.name.lower(): team for team in session.exec(select(Team)).all()}
    configured = parse_topics(settings.portal_topics)
    if configured:
        return [
            Topic(t.label, teams[t.team.lower()].id if t.team.lower() in teams else None)
            for t in configured
        ]
    ordered = sorted(teams.values(), key=lambda team: team.name.lower())
    return [Topic(team.name, team.id) for team in ordered] + [Topic(OTHER_TOPIC, None)]
