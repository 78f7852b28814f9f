"""An agent says two customers are one person: the ticket's customer is linked into another
(``merged_into_id``), their identities and tickets then show together in the customer panel,
and new messages from any of those identities go to the one customer. Undone as exactly.
Nothing links customers by itself, except an identity proven the same (one phone number,
which calls and WhatsApp share)."""

from __future__ import annotations

from contextlib import suppress

from sqlmodel import Session, col, select

from inbox.actions.audit import record_audit
from inbox.actions.timeline import record_system_event
from inbox.errors import Conflict, InvalidInput, NotFound
from inbox.models import Agent, Customer, CustomerIdentity, Ticket
from inbox.queries.customers import customer_identities, root_customer
from inbox.queries.tickets import find_ticket
from inbox.rules.phone import normalize_phone


def link_customer(
    session: Session,
    *,
    actor: Agent,
    ticket: Ticket,
    other: str,
    prefix: str,
    phone_region: str | None = None,
) -> Customer:
    """Link the ticket's customer into the customer ``other`` names: one of their addresses,
    numbers or platform ids, or one of their tickets' references. Audited, and said on the
    ticket."""
    other = other.strip()
    if not other:
        raise InvalidInput("name the other customer: an address, a number, an id or a reference")
    target = _customer_named(session, other, prefix, phone_region)
    customer = root_customer(session, ticket.customer_id)
    if target.id == customer.id:
        raise Conflict("that is this ticket's customer already")
    customer.merged_into_id = target.id
    session.add(customer)
    record_audit(
        session,
        "customer.linked",
        actor=actor,
        target_type="customer",
        target_id=customer.id or 0,
        detail={"into": target.id, "named_by": other, "ticket": ticket.reference},
    )
    record_system_event(
        session, ticket, actor, f"{customer.name or 'This customer'} linked to {target.name}"
    )
    return target


def unlink_customer(
    session: Session, *, actor: Agent, ticket: Ticket, customer_id: int
) -> Customer:
    """Undo a link: the customer stands alone again with its own identities and tickets."""
    group = {i.customer_id for i in customer_identities(session, ticket)}
    customer = session.get(Customer, customer_id, with_for_update=True)
    if customer is None or customer.merged_into_id is None or customer_id not in group:
        raise NotFound("no linked customer of that id on this ticket")
    survivor = session.get(Customer, customer.merged_into_id)
    customer.merged_into_id = None
    session.add(customer)
    record_audit(
        session,
        "customer.unlinked",
        actor=actor,
        target_type="customer",
        target_id=customer_id,
        detail={"from": survivor.id if survivor else None, "ticket": ticket.reference},
    )
    record_system_event(
        session,
        ticket,
        actor,
        f"{customer.name or 'A customer'} unlinked from {survivor.name if survivor else 'it'}",
    )
    return customer


def _customer_named(
    session: Session, other: str, prefix: str, phone_region: str | None
) -> Customer:
    values = {other, other.lower()}
    with suppress(InvalidInput):  # not a number
        values.add(normalize_phone(other, phone_region))
    identity = session.exec(
        select(CustomerIdentity).where(col(CustomerIdentity.value).in_(values))
    ).first()
    if identity is not None:
        return root_customer(session, identity.customer_id)
    try:
        found = find_ticket(session, other, prefix)
    except (NotFound, InvalidInput):
        raise NotFound(
            "no customer has that address, number or id, and no ticket that reference"
        ) from None
    return root_customer(session, found.customer_id)
