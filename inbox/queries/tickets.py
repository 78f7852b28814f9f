"""Ticket lists and ticket detail, shaped for the pages and the API alike."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from sqlalchemy import ColumnElement, or_
from sqlmodel import Session, col, select

from inbox.errors import InvalidInput, NotFound
from inbox.models import (
    Agent,
    Attachment,
    Channel,
    Customer,
    CustomerIdentity,
    InboundItem,
    Message,
    Team,
    Ticket,
    TicketLink,
    TicketTag,
)
from inbox.references import normalize_reference

MAX_LIMIT = 100
M = TypeVar("M", Customer, Agent, Channel)
MAX_QUERY_CHARS = 200


@dataclass(frozen=True)
class TicketFilters:
    status: str | None = None
    channel: str | None = None
    assignee: str | None = None
    q: str | None = None


@dataclass
class TicketRow:
    ticket: Ticket
    customer_name: str
    assignee_email: str | None
    channel_name: str | None


@dataclass
class TicketPage:
    rows: list[TicketRow]
    next_cursor: str | None


def _encode_cursor(ticket: Ticket) -> str:
    raw = json.dumps([ticket.updated_at.isoformat(), ticket.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        updated, ticket_id = json.loads(base64.urlsafe_b64decode(padded))
        return datetime.fromisoformat(updated), int(ticket_id)
    except (ValueError, TypeError) as exc:
        raise InvalidInput("bad cursor") from exc


def escape_like(text: str) -> str:
    """Search input is literal: % and _ match themselves."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def list_tickets(
    session: Session,
    *,
    prefix: str,
    filters: TicketFilters,
    limit: int = 50,
    cursor: str | None = None,
) -> TicketPage:
    limit = max(1, min(limit, MAX_LIMIT))
    stmt = select(Ticket)
    if filters.status:
        stmt = stmt.where(
            or_(col(Ticket.status) == filters.status, col(Ticket.status_category) == filters.status)
        )
    if filters.channel:
        channel_ids = select(Channel.id).where(
            or_(col(Channel.name) == filters.channel, col(Channel.kind) == filters.channel)
        )
        stmt = stmt.where(col(Ticket.channel_id).in_(channel_ids))
    if filters.assignee:
        if filters.assignee == "none":
            stmt = stmt.where(col(Ticket.assignee_id).is_(None))
        else:
            stmt = stmt.where(
                col(Ticket.assignee_id).in_(
                    select(Agent.id).where(Agent.email == filters.assignee.lower())
                )
            )
    if filters.q:
        stmt = stmt.where(_search_clause(filters.q, prefix))
    if cursor:
        updated, ticket_id = _decode_cursor(cursor)
        stmt = stmt.where(
            or_(
                col(Ticket.updated_at) < updated,
                (col(Ticket.updated_at) == updated) & (col(Ticket.id) < ticket_id),
            )
        )
    stmt = stmt.order_by(col(Ticket.updated_at).desc(), col(Ticket.id).desc()).limit(limit + 1)
    tickets = list(session.exec(stmt).all())
    more = len(tickets) > limit
    tickets = tickets[:limit]
    customers = _by_id(session, Customer, {t.customer_id for t in tickets})
    agents = _by_id(session, Agent, {t.assignee_id for t in tickets if t.assignee_id})
    channels = _by_id(session, Channel, {t.channel_id for t in tickets if t.channel_id})
    rows = [
        TicketRow(
            ticket=t,
            customer_name=customers[t.customer_id].name if t.customer_id in customers else "",
            assignee_email=agents[t.assignee_id].email if t.assignee_id in agents else None,
            channel_name=channels[t.channel_id].name if t.channel_id in channels else None,
        )
        for t in tickets
    ]
    return TicketPage(
        rows=rows, next_cursor=_encode_cursor(tickets[-1]) if more and tickets else None
    )


def _search_clause(q: str, prefix: str) -> ColumnElement[bool]:
    q = q.strip()[:MAX_QUERY_CHARS]
    reference = normalize_reference(q, prefix)
    pattern = f"%{escape_like(q.lower())}%"
    identity_customers = select(CustomerIdentity.customer_id).where(
        col(CustomerIdentity.value).like(pattern, escape="\\")
    )
    named_customers = select(Customer.id).where(col(Customer.name).ilike(pattern, escape="\\"))
    clauses: list[ColumnElement[bool]] = [
        col(Ticket.subject).ilike(pattern, escape="\\"),
        col(Ticket.customer_id).in_(identity_customers),
        col(Ticket.customer_id).in_(named_customers),
    ]
    if reference:
        clauses.append(col(Ticket.reference) == reference)
    return or_(*clauses)


def _by_id(session: Session, model: type[M], ids: set[int]) -> dict[int, M]:
    if not ids:
        return {}
    rows = session.exec(select(model).where(col(model.id).in_(ids))).all()
    return {row.id: row for row in rows if row.id is not None}


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


def find_ticket(session: Session, reference: str, prefix: str) -> Ticket:
    canonical = normalize_reference(reference, prefix)
    ticket = (
        session.exec(select(Ticket).where(Ticket.reference == canonical)).first()
        if canonical
        else None
    )
    if ticket is None:
        raise NotFound("no such ticket")
    return ticket


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
            select(Attachment).where(col(Attachment.message_id).in_(message_ids))
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
        channel=session.get(Channel, ticket.channel_id) if ticket.channel_id else None,
        tags=list(
            session.exec(select(TicketTag.tag).where(TicketTag.ticket_id == ticket.id)).all()
        ),
        messages=messages,
        attachments=attachments,
        links=links,
    )


def list_quarantine(session: Session, *, limit: int = 100) -> list[tuple[InboundItem, str]]:
    rows = session.exec(
        select(InboundItem, Channel.name)
        .join(Channel, col(Channel.id) == InboundItem.channel_id)
        .where(InboundItem.state == "quarantined")
        .order_by(col(InboundItem.id).desc())
        .limit(max(1, min(limit, 500)))
    ).all()
    return [(item, name) for item, name in rows]
