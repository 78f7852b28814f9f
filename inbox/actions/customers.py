"""Customers are found by an identity on a channel, or created from it."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from inbox.models import Customer, CustomerIdentity


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
