"""API tokens: bearer credentials for ``/api/`` and nothing else.

A token is shown once, when made; the desk keeps its SHA-256 hash, its scope (``read``: safe
methods only; ``read-write``), an optional expiry and when it was last used. Revoking one is
immediate and audited.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from inbox.actions.audit import record_audit
from inbox.errors import InvalidInput, NotFound
from inbox.models import Agent, ApiToken, utcnow
from inbox.models.agents import TOKEN_SCOPES
from inbox.signing import hash_token, new_token

# ``last_used_at`` is written at most this often per token: an API client's every request
# would otherwise be a write.
LAST_USED_RESOLUTION = timedelta(minutes=5)


def create_api_token(
    session: Session,
    agent: Agent,
    *,
    scope: str = "read-write",
    expires_at: datetime | None = None,
    name: str = "",
    actor: Agent | None = None,
    actor_label: str = "",
) -> str:
    """A new token for ``agent``; the only time its value is known."""
    if scope not in TOKEN_SCOPES:
        raise InvalidInput(f"scope must be one of {', '.join(TOKEN_SCOPES)}")
    if expires_at is not None and expires_at <= utcnow():
        raise InvalidInput("the expiry must be in the future")
    token = new_token()
    row = ApiToken(
        agent_id=agent.id or 0,
        token_hash=hash_token(token),
        scope=scope,
        name=name.strip()[:100],
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    record_audit(
        session,
        "token.create",
        actor=actor or agent,
        actor_label=actor_label,
        target_type="api_token",
        target_id=row.id or 0,
        detail={
            "agent": agent.email,
            "scope": scope,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    return token


def revoke_api_token(
    session: Session, token_id: int, *, actor: Agent | None = None, actor_label: str = ""
) -> ApiToken:
    """Ends a token at once. Revoking a revoked token changes nothing and records nothing."""
    row = session.get(ApiToken, token_id)
    if row is None:
        raise NotFound("no such API token")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.add(row)
        record_audit(
            session,
            "token.revoke",
            actor=actor,
            actor_label=actor_label,
            target_type="api_token",
            target_id=token_id,
        )
    return row


def note_token_use(session: Session, token_id: int) -> None:
    """Records that a token was just used, at most once per ``LAST_USED_RESOLUTION``."""
    row = session.get(ApiToken, token_id)
    now = utcnow()
    if row is not None and (
        row.last_used_at is None or row.last_used_at <= now - LAST_USED_RESOLUTION
    ):
        row.last_used_at = now
        session.add(row)
