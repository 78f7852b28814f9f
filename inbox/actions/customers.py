"""Customers are found by an identity on a channel, or created from it."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from inbox.actions.audit import record_audit
from inbox.actions.rows import insert_rows
from inbox.errors import NotFound
from inbox.models import Agent, Customer, CustomerIdentity, Ticket


def find_identity(session: Session, kind: str, value: str) -> CustomerIdentity | None:
    return session.exec(
        select(CustomerIdentity).where(
            CustomerIdentity.kind == kind, CustomerIdentity.value == value
        )
    ).first()


def resolve_customer(
    session: Session, *, kind: str, value: str, name: str
) -> tuple[Customer, CustomerIdentity]:
    """The customer behind an identity, following merges; created on first contact."""
    identity = find_identity(session, kind, value)
    if identity is None:
        try:
            with session.begin_nested():
                customer = Customer(name=name or value)
                session.add(customer)
                session.flush()
                identity = CustomerIdentity(customer_id=customer.id or 0, kind=kind, value=value)
                session.add(identity)
                session.flush()
        except IntegrityError:
            # Another transaction created it first: use theirs.
            identity = find_identity(session, kind, value)
            if identity is None:
                raise
    customer_obj = session.get(Customer, identity.customer_id)
    assert customer_obj is not None
    while customer_obj.merged_into_id is not None:
        survivor = session.get(Customer, customer_obj.merged_into_id)
        if survivor is None:
            break
        customer_obj = survivor
    if not customer_obj.name and name:
        customer_obj.name = name
    return customer_obj, identity


@dataclass(frozen=True)
class Contact:
    """An identity and the customer behind it (merges followed), as plain values."""

    customer_id: int
    customer_name: str
    identity_id: int
    value: str
    undeliverable: bool


def resolve_customers(session: Session, kind: str, names: dict[str, str]) -> dict[str, Contact]:
    """``resolve_customer`` for many values at once (value -> name of the sender), in a few
    statements. A value another transaction creates meanwhile raises IntegrityError."""
    if not names:
        return {}
    found = {
        value: (identity_id or 0, customer_id, undeliverable is not None)
        for identity_id, customer_id, value, undeliverable in session.exec(
            select(
                CustomerIdentity.id,
                CustomerIdentity.customer_id,
                CustomerIdentity.value,
                CustomerIdentity.undeliverable_at,
            ).where(CustomerIdentity.kind == kind, col(CustomerIdentity.value).in_(names))
        ).all()
    }
    customers = _customers_following_merges(session, {c for _, c, _ in found.values()})
    for value, (_, customer_id, _) in found.items():
        customer = customers[customer_id]
        if not customer[1] and names[value]:
            session.execute(
                update(Customer).where(col(Customer.id) == customer[0]).values(name=names[value])
            )
            customers[customer_id] = (customer[0], names[value])
    contacts = {
        value: Contact(*customers[customer_id], identity_id, value, undeliverable)
        for value, (identity_id, customer_id, undeliverable) in found.items()
    }
    missing = [value for value in names if value not in found]
    new_names = [(names[value] or value)[:200] for value in missing]
    customer_ids = insert_rows(session, Customer, [{"name": name} for name in new_names])
    identity_ids = insert_rows(
        session,
        CustomerIdentity,
        [
            {"customer_id": customer_id, "kind": kind, "value": value}
            for customer_id, value in zip(customer_ids, missing, strict=True)
        ],
    )
    for value, name, customer_id, identity_id in zip(
        missing, new_names, customer_ids, identity_ids, strict=True
    ):
        contacts[value] = Contact(customer_id, name, identity_id, value, False)
    return contacts


def _customers_following_merges(
    session: Session, customer_ids: set[int]
) -> dict[int, tuple[int, str]]:
    """customer id -> (id, name) of the customer it was merged into, or of itself."""
    rows: dict[int, tuple[str, int | None]] = {}
    wanted = set(customer_ids)
    while wanted:
        for customer_id, name, merged_into_id in session.exec(
            select(Customer.id, Customer.name, Customer.merged_into_id).where(
                col(Customer.id).in_(wanted)
            )
        ).all():
            rows[customer_id or 0] = (name, merged_into_id)
        wanted = {m for _, m in rows.values() if m is not None and m not in rows}
    resolved: dict[int, tuple[int, str]] = {}
    for customer_id in customer_ids:
        current, seen = customer_id, {customer_id}
        while (merged := rows[current][1]) is not None and merged in rows and merged not in seen:
            current = merged
            seen.add(current)
        resolved[customer_id] = (current, rows[current][0])
    return resolved


def clear_bounce_marks(session: Session, identity_ids: Collection[int]) -> None:
    """The customer wrote again from these addresses: mail to them is delivered after all,
    so the mark a bounce left is cleared (identities in the session see it too)."""
    if identity_ids:
        session.execute(
            update(CustomerIdentity)
            .where(
                col(CustomerIdentity.id).in_(identity_ids),
                col(CustomerIdentity.undeliverable_at).is_not(None),
            )
            .values(undeliverable_at=None, undeliverable_reason=None)
        )


def mark_deliverable(
    session: Session, *, actor: Agent, ticket: Ticket, identity_id: int
) -> CustomerIdentity:
    """An agent clears a bounce mark on an address of the ticket's customer, so
    acknowledgements, reminders and surveys go to it again. Audited; a second click changes
    nothing."""
    identity = session.get(CustomerIdentity, identity_id, with_for_update=True)
    owner = session.get(Customer, identity.customer_id) if identity else None
    if (
        identity is None
        or owner is None
        or ticket.customer_id not in (owner.id, owner.merged_into_id)
    ):
        raise NotFound("no such address on this ticket's customer")
    if identity.undeliverable_at is None:
        return identity
    record_audit(
        session,
        "identity.undeliverable_cleared",
        actor=actor,
        target_type="customer_identity",
        target_id=identity.id or 0,
        detail={
            "address": identity.value,
            "reason": identity.undeliverable_reason or "",
            "marked_at": identity.undeliverable_at.isoformat(),
            "ticket": ticket.reference,
        },
    )
    identity.undeliverable_at = None
    identity.undeliverable_reason = None
    session.add(identity)
    return identity
