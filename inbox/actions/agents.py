"""Agents: creation, passwords, sign-in throttling, sessions and API tokens."""

from __future__ import annotations

import re
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, select

from inbox.actions.audit import record_audit
from inbox.errors import Conflict, InvalidInput
from inbox.models import ROLES, Agent, AgentSession, ApiToken, utcnow
from inbox.signing import hash_token, new_token

_hasher = PasswordHasher()  # argon2id
_DUMMY_HASH = _hasher.hash("not a real password, used to spend equal time")
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=12)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def check_password_strength(password: str, *, email: str = "", name: str = "") -> None:
    if len(password) < 12:
        raise InvalidInput("a password needs at least 12 characters")
    if len(password) > 256:
        raise InvalidInput("a password may have at most 256 characters")
    lowered = password.lower()
    for part in (email.split("@")[0].lower(), name.lower()):
        if len(part) >= 4 and part in lowered:
            raise InvalidInput("a password must not contain your name or address")
    if len(set(password)) < 6:
        raise InvalidInput("a password needs more variety than that")


def create_agent(
    session: Session, *, email: str, name: str, role: str, password: str, actor: Agent | None = None
) -> Agent:
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise InvalidInput("not an email address")
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}")
    if not name.strip():
        raise InvalidInput("a name is required")
    check_password_strength(password, email=email, name=name)
    if session.exec(select(Agent).where(Agent.email == email)).first():
        raise Conflict("an agent with that address exists")
    agent = Agent(email=email, name=name.strip(), role=role, password_hash=_hasher.hash(password))
    session.add(agent)
    session.flush()
    record_audit(session, "agent.create", actor=actor, target_type="agent", target_id=agent.id or 0)
    return agent


def authenticate_agent(session: Session, *, email: str, password: str) -> Agent | None:
    """The agent, or None; unknown, wrong and locked all cost one hash and look alike."""
    agent = session.exec(select(Agent).where(Agent.email == email.strip().lower())).first()
    if agent is None or not agent.is_active:
        _verify(_DUMMY_HASH, password)
        return None
    now = utcnow()
    ok = _verify(agent.password_hash, password)
    if agent.locked_until and agent.locked_until > now:
        return None
    if not ok:
        agent.failed_logins += 1
        if agent.failed_logins >= MAX_FAILURES:
            agent.locked_until = now + LOCKOUT
            agent.failed_logins = 0
            record_audit(session, "agent.locked", target_type="agent", target_id=agent.id or 0)
        session.add(agent)
        return None
    agent.failed_logins = 0
    session.add(agent)
    return agent


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def unlock_agent(session: Session, *, email: str, actor_label: str) -> Agent:
    agent = session.exec(select(Agent).where(Agent.email == email.strip().lower())).first()
    if agent is None:
        raise InvalidInput("no agent with that address")
    agent.locked_until = None
    agent.failed_logins = 0
    session.add(agent)
    record_audit(
        session,
        "agent.unlock",
        actor_label=actor_label,
        target_type="agent",
        target_id=agent.id or 0,
    )
    return agent


def start_session(session: Session, agent: Agent) -> str:
    """A fresh session token on every sign-in: a planted session id is never promoted."""
    token = new_token()
    session.add(
        AgentSession(
            token_hash=hash_token(token),
            agent_id=agent.id or 0,
            expires_at=utcnow() + SESSION_LIFETIME,
        )
    )
    record_audit(session, "agent.login", actor=agent, target_type="agent", target_id=agent.id or 0)
    return token


def end_session(session: Session, token: str) -> None:
    row = session.exec(
        select(AgentSession).where(AgentSession.token_hash == hash_token(token))
    ).first()
    if row is not None:
        session.delete(row)


def create_api_token(session: Session, agent: Agent) -> str:
    token = new_token()
    session.add(ApiToken(agent_id=agent.id or 0, token_hash=hash_token(token)))
    record_audit(session, "token.create", actor=agent, target_type="agent", target_id=agent.id or 0)
    return token
