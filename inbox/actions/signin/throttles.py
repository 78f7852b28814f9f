"""Administrators lifting the throttle of a network address (``inbox.rules.sign_in_limits``):
a colleague behind the same address as an attacker, or an office behind one NAT."""

from __future__ import annotations

from sqlalchemy import delete
from sqlmodel import Session, col

from inbox.actions.audit import record_audit
from inbox.errors import NotFound
from inbox.models import Agent
from inbox.models.agents import SignInAttempt
from inbox.rules.sign_in_limits import ADDRESS_LIMITS


def lift_address_throttle(session: Session, *, kind: str, address: str, actor: Agent) -> int:
    """Forgets the attempts of one kind counted against ``address``, so it is answered as a
    new one; how many were forgotten. Audited."""
    if kind not in ADDRESS_LIMITS:
        raise NotFound("no such throttle")
    result = session.execute(
        delete(SignInAttempt).where(
            col(SignInAttempt.kind) == kind, col(SignInAttempt.address) == address
        )
    )
    forgotten = int(result.rowcount or 0)  # type: ignore[attr-defined]
    record_audit(
        session,
        "throttle.lift",
        actor=actor,
        target_type="address",
        target_id=address[:64],
        detail={"kind": kind, "attempts": forgotten},
    )
    return forgotten
