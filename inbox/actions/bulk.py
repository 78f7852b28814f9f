"""Changing many tickets at once from the inbox: the same change, ticket by ticket.

Each ticket goes through ``update_ticket``, so each records its own system event and audit
entry as a single change would. All or nothing: one ticket the agent may not see, or one
invalid value, and nothing changes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from inbox.actions.tickets import update_ticket
from inbox.errors import InvalidInput, NotFound
from inbox.models import Agent, Ticket, TicketTag
from inbox.queries.tickets import Viewer, scope_clause
from inbox.references import normalize_reference

MAX_BULK_TICKETS = 100


@dataclass(frozen=True)
class BulkChange:
    status: str | None = None
    priority: str | None = None
    assignee_email: str | None = None
    clear_assignee: bool = False
    add_tags: frozenset[str] = field(default_factory=frozenset)
    remove_tags: frozenset[str] = field(default_factory=frozenset)

    @property
    def empty(self) -> bool:
        return not (
            self.status
            or self.priority
            or self.assignee_email
            or self.clear_assignee
            or self.add_tags
            or self.remove_tags
        )


def bulk_update_tickets(
    session: Session,
    *,
    actor: Agent,
    viewer: Viewer,
    prefix: str,
    references: list[str],
    change: BulkChange,
) -> list[Ticket]:
    """Apply ``change`` to every ticket named; returns them in the order given."""
    if change.empty:
        raise InvalidInput("choose a change to make")
    wanted: list[str] = []
    for reference in references:
        canonical = normalize_reference(reference, prefix)
        if canonical is None:
            raise NotFound("no such ticket")
        if canonical not in wanted:
            wanted.append(canonical)
    if not wanted:
        raise InvalidInput("select at least one ticket")
    if len(wanted) > MAX_BULK_TICKETS:
        raise InvalidInput(f"at most {MAX_BULK_TICKETS} tickets at once")
    query = select(Ticket).where(col(Ticket.reference).in_(wanted))
    scope = scope_clause(viewer)
    if scope is not None:
        query = query.where(scope)
    # Locked in id order, as every writer locks them, so two bulk changes cannot deadlock.
    found = {
        t.reference: t for t in session.exec(query.order_by(col(Ticket.id)).with_for_update()).all()
    }
    if len(found) != len(wanted):
        raise NotFound("no such ticket")
    tickets = [found[r] for r in wanted]
    for ticket in tickets:
        update_ticket(
            session,
            ticket,
            actor=actor,
            status=change.status or None,
            priority=change.priority or None,
            assignee_email=change.assignee_email or None,
            clear_assignee=change.clear_assignee,
            tags=_new_tags(session, ticket, change),
        )
    return tickets


def _new_tags(session: Session, ticket: Ticket, change: BulkChange) -> list[str] | None:
    if not change.add_tags and not change.remove_tags:
        return None
    current = set(session.exec(select(TicketTag.tag).where(TicketTag.ticket_id == ticket.id)))
    wanted = (current | {t.lower() for t in change.add_tags}) - {
        t.lower() for t in change.remove_tags
    }
    return None if wanted == current else sorted(wanted)
