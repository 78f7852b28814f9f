"""Changing many tickets at once from the inbox: the same change, ticket by ticket.

Each ticket goes through ``update_ticket``, so each records its own system event and audit
entry as a single change would. All or nothing: one ticket the agent may not see, or one
invalid value, and nothing changes. Merging many tickets into one goes through
``merge_tickets`` for each, the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from inbox.actions.merge import merge_tickets
from inbox.actions.tickets import update_ticket
from inbox.errors import InvalidInput, NotFound
from inbox.models import Agent, Ticket, TicketTag
from inbox.queries.tickets import Viewer, find_ticket, scope_clause, viewer_for
from inbox.rules.references import normalize_reference

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
    wanted = _selected(references, prefix)
    found = _visible_locked(session, viewer, wanted)
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


def bulk_merge_tickets(
    session: Session,
    *,
    actor: Agent,
    references: list[str],
    into: str,
    prefix: str,
) -> list[Ticket]:
    """Merges every ticket named (but the target, if named too) into the ticket ``into``, each
    as a single merge would; returns the merged tickets in the order given. All or nothing:
    the agent must see every ticket, the target included."""
    wanted = _selected(references, prefix)
    if not into.strip():
        raise InvalidInput("enter the reference of the ticket to merge into")
    try:
        target = find_ticket(session, into, prefix)
    except NotFound as exc:
        raise InvalidInput("no ticket with that reference") from exc
    sources = [r for r in wanted if r != target.reference]
    if not sources:
        raise InvalidInput("select a ticket other than the one to merge into")
    found = _visible_locked(session, viewer_for(session, actor), [*sources, target.reference])
    if target.reference not in found:  # as if unknown: a hidden ticket is not revealed
        raise InvalidInput("no ticket with that reference")
    if len(found) != len(sources) + 1:
        raise NotFound("no such ticket")
    # Every ticket is locked already, in id order; merge_tickets locking them again waits for
    # nothing, so the merges cannot deadlock against another writer.
    for reference in sources:
        merge_tickets(session, actor=actor, source=found[reference], target=target)
    return [found[r] for r in sources]


def _selected(references: list[str], prefix: str) -> list[str]:
    """The canonical references, each once, in the order given."""
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
    return wanted


def _visible_locked(session: Session, viewer: Viewer, wanted: list[str]) -> dict[str, Ticket]:
    """Those of the tickets named the viewer may see, by reference, locked for writing."""
    query = select(Ticket).where(col(Ticket.reference).in_(wanted))
    scope = scope_clause(viewer)
    if scope is not None:
        query = query.where(scope)
    # Locked in id order, as every writer locks them, so two bulk changes cannot deadlock.
    return {
        t.reference: t for t in session.exec(query.order_by(col(Ticket.id)).with_for_update()).all()
    }


def _new_tags(session: Session, ticket: Ticket, change: BulkChange) -> list[str] | None:
    if not change.add_tags and not change.remove_tags:
        return None
    current = set(session.exec(select(TicketTag.tag).where(TicketTag.ticket_id == ticket.id)))
    wanted = (current | {t.lower() for t in change.add_tags}) - {
        t.lower() for t in change.remove_tags
    }
    return None if wanted == current else sorted(wanted)
