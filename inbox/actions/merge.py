"""Merging a ticket into another, undoing that, and splitting a message out into a new ticket.

A merge moves every message of the source to the target (the target's timeline shows them in
time order), closes the source with a "merged into" link, and writes a system event on both.
It remembers what it moved and what the source looked like, so undoing it puts back exactly
that: the messages, the source's status, no link, no merge events.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, delete, select

from inbox.actions.audit import record_audit
from inbox.actions.tickets import (
    can_see_ticket,
    first_status_of,
    link_tickets,
    open_ticket,
    record_status_change,
    set_status,
    touch_ticket,
)
from inbox.actions.timeline import record_system_event
from inbox.errors import Conflict, InvalidInput, NotFound
from inbox.events import MessageAdded, record
from inbox.models import (
    Agent,
    CallNote,
    Message,
    Ticket,
    TicketLink,
    TicketMerge,
    utcnow,
)
from inbox.models.kinds import Direction, LinkKind, MessageKind


def active_merge_of(session: Session, source: Ticket) -> TicketMerge | None:
    """The merge that closed this ticket, unless it was undone."""
    return session.exec(
        select(TicketMerge).where(
            TicketMerge.source_ticket_id == source.id, col(TicketMerge.undone_at).is_(None)
        )
    ).first()


def merged_into(session: Session, ticket: Ticket) -> Ticket:
    """Where the ticket's conversation went: the ticket it was merged into, following a chain
    of merges; the ticket itself when it is not merged. A customer's next message goes there."""
    for _ in range(10):  # merges chain rarely; the bound guards against a cycle
        merge = active_merge_of(session, ticket)
        target = session.get(Ticket, merge.target_ticket_id) if merge else None
        if target is None:
            break
        ticket = target
    return ticket


def _lock_in_order(session: Session, *tickets: Ticket) -> None:
    """Every writer locks tickets in id order, so two merges cannot deadlock."""
    for ticket in sorted(tickets, key=lambda t: t.id or 0):
        session.refresh(ticket, with_for_update=True)


def _system_event(session: Session, ticket: Ticket, actor: Agent, text: str) -> int:
    return record_system_event(session, ticket, actor, text).id or 0


def _move_messages(session: Session, message_ids: list[int], ticket_id: int) -> None:
    if not message_ids:
        return
    session.execute(
        update(Message).where(col(Message.id).in_(message_ids)).values(ticket_id=ticket_id)
    )
    session.execute(
        update(CallNote)
        .where(col(CallNote.message_id).in_(message_ids))
        .values(ticket_id=ticket_id)
    )


def merge_tickets(session: Session, *, actor: Agent, source: Ticket, target: Ticket) -> TicketMerge:
    """Moves the source's messages to the target and closes the source. Locks both tickets
    itself, in id order: callers pass them unlocked."""
    if source.id == target.id:
        raise InvalidInput("a ticket cannot be merged into itself")
    for ticket in (source, target):
        if not can_see_ticket(session, actor, ticket):
            raise NotFound("no such ticket")
    _lock_in_order(session, source, target)
    if active_merge_of(session, source) is not None:
        raise Conflict(f"{source.reference} is already merged into another ticket")
    onward = active_merge_of(session, target)
    if onward is not None:
        into = session.get(Ticket, onward.target_ticket_id)
        raise Conflict(
            f"{target.reference} was merged into {into.reference if into else 'another ticket'}; "
            "merge into that ticket instead"
        )
    moved = list(
        session.exec(
            select(Message.id).where(Message.ticket_id == source.id).order_by(col(Message.id))
        ).all()
    )
    state = {
        "status": source.status,
        "status_category": source.status_category,
        "resolved_at": source.resolved_at.isoformat() if source.resolved_at else None,
    }
    _move_messages(session, [m for m in moved if m is not None], target.id or 0)
    set_status(session, source, first_status_of(session, "closed"))
    link_tickets(
        session, source.id or 0, target.id or 0, LinkKind.MERGED, f"merged by {actor.name}"
    )
    count = len(moved)
    events = [
        _system_event(session, source, actor, f"merged into {target.reference}"),
        _system_event(
            session,
            target,
            actor,
            f"merged from {source.reference} ({count} message{'s' if count != 1 else ''})",
        ),
    ]
    merge = TicketMerge(
        source_ticket_id=source.id or 0,
        target_ticket_id=target.id or 0,
        moved_message_ids=[m for m in moved if m is not None],
        event_message_ids=events,
        source_state=state,
        merged_by_id=actor.id,
    )
    session.add(merge)
    record_audit(
        session,
        "ticket.merge",
        actor=actor,
        target_type="ticket",
        target_id=source.reference,
        detail={"into": target.reference, "messages": count},
    )
    touch_ticket(session, source)
    touch_ticket(session, target)
    session.flush()
    return merge


def unmerge_ticket(session: Session, *, actor: Agent, source: Ticket) -> Ticket:
    """Undoes the merge that closed ``source``; returns the ticket it had been merged into.
    Locks both tickets itself, in id order: callers pass the source unlocked."""
    if not can_see_ticket(session, actor, source):
        raise NotFound("no such ticket")
    merge = active_merge_of(session, source)
    if merge is None:
        raise Conflict(f"{source.reference} is not merged into another ticket")
    target = session.get(Ticket, merge.target_ticket_id)
    assert target is not None
    _lock_in_order(session, source, target)
    session.refresh(merge)  # undone meanwhile, while this waited for the locks?
    if merge.undone_at is not None:
        raise Conflict(f"{source.reference} is not merged into another ticket")
    if active_merge_of(session, target) is not None:
        raise Conflict(f"{target.reference} was merged onwards since; undo that merge first")
    still_there = set(
        session.exec(
            select(Message.id).where(
                col(Message.id).in_(merge.moved_message_ids), Message.ticket_id == target.id
            )
        ).all()
    )
    if still_there != set(merge.moved_message_ids):
        raise Conflict("some of the merged messages were split out since; cannot undo")
    session.execute(delete(Message).where(col(Message.id).in_(merge.event_message_ids)))
    _move_messages(session, merge.moved_message_ids, source.id or 0)
    session.execute(
        delete(TicketLink).where(
            col(TicketLink.ticket_id) == source.id,
            col(TicketLink.other_ticket_id) == target.id,
            col(TicketLink.kind) == LinkKind.MERGED,
        )
    )
    state = merge.source_state
    previous = source.status_category
    source.status = state["status"]
    source.status_category = state["status_category"]
    record_status_change(session, source, previous)
    resolved = state.get("resolved_at")
    source.resolved_at = datetime.fromisoformat(resolved) if resolved else None
    merge.undone_at = utcnow()
    session.add(merge)
    record_audit(
        session,
        "ticket.unmerge",
        actor=actor,
        target_type="ticket",
        target_id=source.reference,
        detail={"from": target.reference, "messages": len(merge.moved_message_ids)},
    )
    touch_ticket(session, source)
    touch_ticket(session, target)
    session.flush()
    return target


def split_message(
    session: Session,
    *,
    actor: Agent,
    ticket: Ticket,
    message_id: int,
    prefix: str,
    subject: str = "",
) -> Ticket:
    """Moves one message into a new ticket of the same customer, linked to the old one."""
    if not can_see_ticket(session, actor, ticket):
        raise NotFound("no such ticket")
    message = session.get(Message, message_id)
    if message is None or message.ticket_id != ticket.id:
        raise NotFound("no such message on this ticket")
    if message.kind == MessageKind.SYSTEM:
        raise InvalidInput("system events stay with their ticket")
    others = session.exec(
        select(Message.id).where(
            Message.ticket_id == ticket.id,
            Message.kind != MessageKind.SYSTEM,
            Message.id != message.id,
        )
    ).first()
    if others is None:
        raise InvalidInput("the only message of a ticket cannot be split out")
    subject = subject.strip() or message.subject or ticket.subject
    new = open_ticket(
        session,
        prefix=prefix,
        subject=subject,
        customer_id=ticket.customer_id,
        contact_identity_id=ticket.contact_identity_id,
        channel_id=ticket.channel_id,
        channel_kind=ticket.channel_kind,
    )
    new.team_id = ticket.team_id
    new.priority = ticket.priority
    if message.direction == Direction.INBOUND:
        new.last_customer_message_at = message.created_at
    _move_messages(session, [message_id], new.id or 0)
    link_tickets(
        session, new.id or 0, ticket.id or 0, LinkKind.SPLIT_FROM, f"split by {actor.name}"
    )
    _system_event(session, ticket, actor, f"message split out into {new.reference}")
    _system_event(session, new, actor, f"split from {ticket.reference}")
    record_audit(
        session,
        "ticket.split",
        actor=actor,
        target_type="ticket",
        target_id=ticket.reference,
        detail={"into": new.reference, "message": message_id},
    )
    touch_ticket(session, ticket)
    touch_ticket(session, new)
    record(session, MessageAdded(new.id or 0, message_id))
    session.flush()
    return new
