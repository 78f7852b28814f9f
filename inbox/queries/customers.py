"""The customer beside a ticket: identities on every channel, past tickets, calls, unlocks.

Past tickets are those the viewing agent may open (``inbox.queries.tickets.scope_clause``);
of the others, the panel learns how many there are and nothing else."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import ColumnElement, func
from sqlmodel import Session, col, select

from inbox.models import (
    CallNote,
    Customer,
    CustomerIdentity,
    IdentityProof,
    Ticket,
    UnlockRequest,
    utcnow,
)
from inbox.models.accounts import VERIFICATION_CHECKS
from inbox.queries.tickets import Viewer, scope_clause

PAST_TICKETS = 20
# Proof of identity is good for this long: the customer is on the line now, not yesterday.
PROOF_LIFETIME_MINUTES = 30


@dataclass
class CustomerPanel:
    ticket: Ticket
    customer: Customer
    identities: list[CustomerIdentity]
    past_tickets: list[Ticket]
    # The customer's other tickets outside the viewer's scope: a count, never their rows.
    hidden_tickets: int = 0
    proofs: list[IdentityProof] = field(default_factory=list)
    unlocks: list[UnlockRequest] = field(default_factory=list)


def _merged_customers(session: Session, ticket: Ticket) -> tuple[Customer, list[int | None]]:
    """The customer the ticket's customer was merged or linked into, if any (else itself),
    and the ids of every customer merged or linked into that one, at any depth: one person,
    whichever of their tickets is open."""
    customer = root_customer(session, ticket.customer_id)
    group: list[int | None] = [customer.id]
    frontier = [customer.id]
    for _ in range(10):  # merges chain rarely; the bound guards against a cycle
        absorbed = list(
            session.exec(select(Customer.id).where(col(Customer.merged_into_id).in_(frontier)))
        )
        frontier = [i for i in absorbed if i not in group]
        if not frontier:
            break
        group.extend(frontier)
    return customer, group


def root_customer(session: Session, customer_id: int) -> Customer:
    """The customer at the end of the merges and links from this one."""
    customer = session.get(Customer, customer_id)
    assert customer is not None
    for _ in range(10):
        if customer.merged_into_id is None:
            break
        survivor = session.get(Customer, customer.merged_into_id)
        if survivor is None:
            break
        customer = survivor
    return customer


def customer_identities(session: Session, ticket: Ticket) -> list[CustomerIdentity]:
    """The identities of the ticket's customer on every channel, merged customers included:
    what the account directory is asked about."""
    return _identities(session, _merged_customers(session, ticket)[1])


def _identities(session: Session, merged: list[int | None]) -> list[CustomerIdentity]:
    return list(
        session.exec(
            select(CustomerIdentity)
            .where(col(CustomerIdentity.customer_id).in_(merged))
            .order_by(col(CustomerIdentity.kind), col(CustomerIdentity.id))
        ).all()
    )


def customer_panel(session: Session, ticket: Ticket, viewer: Viewer) -> CustomerPanel:
    customer, merged = _merged_customers(session, ticket)
    identities = _identities(session, merged)
    others = (col(Ticket.customer_id).in_(merged), Ticket.id != ticket.id)
    scope = scope_clause(viewer)
    visible = (*others, scope) if scope is not None else others
    past = list(
        session.exec(
            select(Ticket)
            .where(*visible)
            .order_by(col(Ticket.created_at).desc())
            .limit(PAST_TICKETS)
        ).all()
    )
    hidden = 0
    if scope is not None:  # counted as all less visible: NOT of a NULL comparison is NULL
        hidden = _count(session, *others) - _count(session, *visible)
    proofs = list(
        session.exec(
            select(IdentityProof)
            .where(IdentityProof.ticket_id == ticket.id)
            .order_by(col(IdentityProof.id).desc())
            .limit(10)
        ).all()
    )
    unlocks = list(
        session.exec(
            select(UnlockRequest)
            .where(UnlockRequest.ticket_id == ticket.id)
            .order_by(col(UnlockRequest.id).desc())
            .limit(10)
        ).all()
    )
    return CustomerPanel(ticket, customer, identities, past, hidden, proofs, unlocks)


def _count(session: Session, *conditions: ColumnElement[bool] | bool) -> int:
    return session.exec(select(func.count()).select_from(Ticket).where(*conditions)).one()


def live_proof(
    session: Session, ticket_id: int, account_id: str, agent_id: int
) -> IdentityProof | None:
    """An unused proof for this account on this ticket, taken by this agent, still fresh."""

    cutoff = utcnow() - timedelta(minutes=PROOF_LIFETIME_MINUTES)
    return session.exec(
        select(IdentityProof)
        .where(
            IdentityProof.ticket_id == ticket_id,
            IdentityProof.account_id == account_id,
            IdentityProof.agent_id == agent_id,
            col(IdentityProof.used_at).is_(None),
            col(IdentityProof.created_at) > cutoff,
        )
        .order_by(col(IdentityProof.id).desc())
    ).first()


def verified_calls(session: Session, ticket_id: int, agent_id: int) -> list[CallNote]:
    """Calls on this ticket, logged by this agent recently, with every identity check done."""

    cutoff = utcnow() - timedelta(minutes=PROOF_LIFETIME_MINUTES)
    return [
        call
        for call in session.exec(
            select(CallNote)
            .where(
                CallNote.ticket_id == ticket_id,
                CallNote.agent_id == agent_id,
                col(CallNote.identity_verified).is_(True),
                col(CallNote.created_at) > cutoff,
            )
            .order_by(col(CallNote.id).desc())
        ).all()
        if set(call.verification_checks) == set(VERIFICATION_CHECKS)
    ]
