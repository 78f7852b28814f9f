"""Tickets: opening them, changing them, internal notes."""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, delete, func, select

from inbox.actions.audit import record_audit
from inbox.actions.followup_hooks import status_category_changed
from inbox.actions.timeline import record_system_event
from inbox.errors import Conflict, InvalidInput, NotFound
from inbox.events import MessageAdded, TicketChanged, TicketCreated, record
from inbox.models import (
    PRIORITIES,
    STATUS_CATEGORIES,
    Agent,
    Message,
    Team,
    Ticket,
    TicketLink,
    TicketStatus,
    TicketStatusChange,
    TicketTag,
    utcnow,
)
from inbox.models.kinds import Direction, MessageKind
from inbox.queries.tickets import find_ticket, scope_clause, viewer_for
from inbox.rules.references import new_reference

MAX_NOTE_CHARS = 100_000
_STATUS_NAME = re.compile(r"\w[\w -]*")


def open_ticket(
    session: Session,
    *,
    prefix: str,
    subject: str,
    customer_id: int,
    contact_identity_id: int | None,
    channel_id: int | None,
    channel_kind: str,
) -> Ticket:
    """A new ticket with a fresh random reference (retried on the rare collision)."""
    for _ in range(5):
        ticket = Ticket(
            reference=new_reference(prefix),
            subject=subject[:998],
            customer_id=customer_id,
            contact_identity_id=contact_identity_id,
            channel_id=channel_id,
            channel_kind=channel_kind,
        )
        try:
            with session.begin_nested():
                session.add(ticket)
                session.flush()
        except IntegrityError:
            continue
        record(session, TicketCreated(ticket.id or 0))
        return ticket
    raise RuntimeError("could not find a free reference")


def link_tickets(
    session: Session, ticket_id: int, other_ticket_id: int, kind: str, reason: str
) -> None:
    session.add(
        TicketLink(ticket_id=ticket_id, other_ticket_id=other_ticket_id, kind=kind, reason=reason)
    )


def touch_ticket(session: Session, ticket: Ticket) -> None:
    ticket.updated_at = utcnow()
    session.add(ticket)
    record(session, TicketChanged(ticket.id or 0))


def set_status(session: Session, ticket: Ticket, status_name: str) -> None:
    status = session.exec(select(TicketStatus).where(TicketStatus.name == status_name)).first()
    if status is None:
        raise InvalidInput(f"unknown status {status_name!r}")
    previous = ticket.status_category
    ticket.status = status.name
    ticket.status_category = status.category
    if status.category in ("resolved", "closed"):
        ticket.resolved_at = ticket.resolved_at or utcnow()
    else:
        ticket.resolved_at = None
    record_status_change(session, ticket, previous)
    status_category_changed(session, ticket, previous, now=utcnow())


def add_status(session: Session, *, name: str, category: str, actor: Agent) -> TicketStatus:
    """A status of the desk's own, mapped to one of the fixed categories that the SLA clocks,
    the views and the reports understand (a waiting category pauses the clocks)."""
    name = " ".join(name.split()).lower()
    if not 1 <= len(name) <= 64 or not _STATUS_NAME.fullmatch(name):
        raise InvalidInput("a status name is 1 to 64 letters, digits, spaces, '-' or '_'")
    if category not in STATUS_CATEGORIES:
        raise InvalidInput(f"category must be one of {', '.join(STATUS_CATEGORIES)}")
    if session.exec(select(TicketStatus.id).where(TicketStatus.name == name)).first():
        raise Conflict(f"there is already a status named {name!r}")
    last = session.exec(select(func.max(TicketStatus.position))).one()
    status = TicketStatus(name=name, category=category, position=(last or 0) + 1)
    session.add(status)
    session.flush()
    record_audit(
        session,
        "status.added",
        actor=actor,
        target_type="ticket_status",
        target_id=status.id or 0,
        detail={"name": name, "category": category},
    )
    return status


def first_status_of(session: Session, category: str) -> str:
    """The first status (by position) in ``category``: what automatic changes set."""
    name = session.exec(
        select(TicketStatus.name)
        .where(TicketStatus.category == category)
        .order_by(col(TicketStatus.position), col(TicketStatus.id))
    ).first()
    if name is None:
        raise Conflict(f"no status of category {category} is configured")
    return name


def record_status_change(session: Session, ticket: Ticket, previous_category: str) -> None:
    """The history the SLA clocks are replayed from: every change of status category."""
    if ticket.id is not None and ticket.status_category != previous_category:
        session.add(
            TicketStatusChange(
                ticket_id=ticket.id,
                status=ticket.status,
                category=ticket.status_category,
                at=utcnow(),
            )
        )


def reopen_on_customer_message(session: Session, ticket: Ticket) -> None:
    """A customer writing again puts a waiting or resolved ticket back in front of agents."""
    if ticket.status_category != "new":
        set_status(session, ticket, "open")


def update_ticket(
    session: Session,
    ticket: Ticket,
    *,
    actor: Agent,
    status: str | None = None,
    priority: str | None = None,
    assignee_email: str | None = None,
    clear_assignee: bool = False,
    team: str | None = None,
    clear_team: bool = False,
    tags: Iterable[str] | None = None,
) -> Ticket:
    changes: dict[str, object] = {}
    if status is not None and status != ticket.status:
        set_status(session, ticket, status)
        changes["status"] = status
    if priority is not None and priority != ticket.priority:
        if priority not in PRIORITIES:
            raise InvalidInput(f"priority must be one of {', '.join(PRIORITIES)}")
        ticket.priority = priority
        changes["priority"] = priority
    if clear_assignee or assignee_email is not None:
        assignee_id = None
        if assignee_email:
            agent = session.exec(select(Agent).where(Agent.email == assignee_email.lower())).first()
            if agent is None or not agent.is_active:
                raise InvalidInput("no such agent")
            assignee_id = agent.id
        if assignee_id != ticket.assignee_id:
            ticket.assignee_id = assignee_id
            changes["assignee"] = assignee_email or None
    if clear_team or team is not None:
        team_id = None
        if team:
            team_row = session.exec(select(Team).where(Team.name == team)).first()
            if team_row is None:
                raise InvalidInput("no such team")
            team_id = team_row.id
        if team_id != ticket.team_id:
            ticket.team_id = team_id
            changes["team"] = team or None
    if tags is not None:
        wanted = {_clean_tag(t) for t in tags}
        wanted.discard("")
        session.execute(delete(TicketTag).where(col(TicketTag.ticket_id) == ticket.id))
        for tag in sorted(wanted):
            session.add(TicketTag(ticket_id=ticket.id or 0, tag=tag))
        changes["tags"] = sorted(wanted)
    if changes:
        add_system_event(session, ticket, actor, changes)
        record_audit(
            session,
            "ticket.update",
            actor=actor,
            target_type="ticket",
            target_id=ticket.reference,
            detail=changes,
        )
        touch_ticket(session, ticket)
    return ticket


def _clean_tag(tag: str) -> str:
    cleaned = "".join(c for c in tag.strip().lower() if c.isalnum() or c in "-_:.")
    if len(cleaned) > 64:
        raise InvalidInput("a tag has at most 64 characters")
    return cleaned


def add_system_event(
    session: Session, ticket: Ticket, actor: Agent | None, changes: dict[str, object]
) -> None:
    text = "; ".join(f"{key} → {_shown(value)}" for key, value in changes.items())
    record_system_event(session, ticket, actor, text)


def _shown(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none"
    return str(value)


def add_note(
    session: Session, ticket: Ticket, *, actor: Agent, body: str, key: str | None = None
) -> Message:
    """An internal note; ``key``: what names it for its author (``replies.authors_key``)."""
    body = body.strip()
    if not body:
        raise InvalidInput("a note needs text")
    if len(body) > MAX_NOTE_CHARS:
        raise InvalidInput("a note may have at most 100,000 characters")
    message = Message(
        ticket_id=ticket.id or 0,
        kind=MessageKind.INTERNAL_NOTE,
        direction=Direction.INTERNAL,
        author_agent_id=actor.id,
        author_label=actor.name,
        body_text=body,
        display_text=body,
        external_id=key,
    )
    session.add(message)
    session.flush()
    touch_ticket(session, ticket)
    record(session, MessageAdded(ticket.id or 0, message.id or 0))
    return message


def can_see_ticket(session: Session, agent: Agent, ticket: Ticket) -> bool:
    """The inbox's visibility rule (``inbox.queries.tickets.scope_clause``), for one ticket."""
    scope = scope_clause(viewer_for(session, agent))
    if scope is None:
        return True
    return session.exec(select(Ticket.id).where(Ticket.id == ticket.id, scope)).first() is not None


def access_ticket(
    session: Session, agent: Agent, reference: str, prefix: str, *, lock: bool = True
) -> Ticket:
    """The ticket, locked for writing unless the caller locks it with others (in id order);
    ``NotFound`` also when the agent may not see it."""
    ticket = find_ticket(session, reference, prefix)
    if not can_see_ticket(session, agent, ticket):
        raise NotFound("no such ticket")
    if lock:
        session.refresh(ticket, with_for_update=True)
    return ticket


class StaleReply(Conflict):
    """The customer wrote again after the newest message the agent had seen."""

    code = "stale_reply"

    def __init__(self, newer_ids: list[int]) -> None:
        # Ids, not rows: the rows go stale with the transaction that found them.
        self.newer_ids = newer_ids
        newest = newer_ids[-1]
        super().__init__(
            f"the customer wrote again (message {newest}) after the reply was drafted; "
            f"read it, then send again with seen_message_id {newest}"
        )


def check_reply_not_stale(session: Session, ticket: Ticket, seen_message_id: int | None) -> None:
    """Refuses a reply drafted before the customer's newest message arrived.

    ``seen_message_id`` is the newest message shown when the reply was written; None means
    the caller did not say, and nothing is checked.
    """
    if seen_message_id is None:
        return
    newer = session.exec(
        select(Message.id)
        .where(
            Message.ticket_id == ticket.id,
            col(Message.direction) == Direction.INBOUND,
            col(Message.id) > seen_message_id,
        )
        .order_by(col(Message.id))
    ).all()
    if newer:
        raise StaleReply([message_id for message_id in newer if message_id is not None])
