"""The customer beside a ticket: identities on every channel, past tickets, calls, unlocks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

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

PAST_TICKETS = 20
# Proof of identity is good for this long: the customer is on the line now, not yesterday.
PROOF_LIFETIME_MINUTES = 30


@dataclass
class CustomerPanel:
    ticket: Ticket
    customer: Customer
    identities: list[CustomerIdentity]
    past_tickets: list[Ticket]
    proofs: list[IdentityProof] = field(default_factory=list)
    unlocks: list[UnlockRequest] = field(default_factory=list)


def customer_panel(session: Session, ticket: Ticket) -> CustomerPanel:
    customer = session.get(Customer, ticket.customer_id)
    assert customer is not None
    absorbed = session.exec(select(Customer.id).where(Customer.merged_into_id == customer.id))
    merged = [customer.id, *absorbed.all()]
    identities = list(
        session.exec(
            select(CustomerIdentity)
            .where(col(CustomerIdentity.customer_id).in_(merged))
            .order_by(col(CustomerIdentity.kind), col(CustomerIdentity.id))
        ).all()
    )
    past = list(
        session.exec(
            select(Ticket)
            .where(col(Ticket.customer_id).in_(merged), Ticket.id != ticket.id)
            .order_by(col(Ticket.created_at).desc())
            .limit(PAST_TICKETS)
        ).all()
    )
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
    return CustomerPanel(ticket, customer, identities, past, proofs, unlocks)


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
