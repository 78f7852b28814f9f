from __future__ import annotations

from typing import Any

from sqlmodel import Session

from inbox.models import Agent, AuditEvent


def record_audit(
    session: Session,
    action: str,
    *,
    actor: Agent | None = None,
    actor_label: str = "",
    target_type: str = "",
    target_id: str | int = "",
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    event = AuditEvent(
        actor_agent_id=actor.id if actor else None,
        actor_label=actor_label or (actor.email if actor else "system"),
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        detail=detail or {},
    )
    session.add(event)
    return event
