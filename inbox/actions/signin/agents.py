"""Agents: creation, passwords, sign-in throttling and lockout, and sessions."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from math import ceil

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete
from sqlmodel import Session, col, select

from inbox.actions.audit import record_audit
from inbox.actions.signin.devices import (
    device_locked,
    record_device_failure,
    remember_device,
    trusted_device,
    unlock_devices,
)
from inbox.errors import Conflict, InvalidInput, NotFound, PermissionDenied, Throttled
from inbox.models import ROLES, Agent, AgentSession, utcnow
from inbox.models.agents import SignInAttempt
from inbox.rules.sign_in_limits import FAILED_SIGN_INS, AddressLimit
from inbox.signing import hash_token, new_token

_hasher = PasswordHasher()  # argon2id
# Verified against when the address is unknown, so that it costs what a real check costs.
# Written out rather than computed: hashing at import adds half a second to every start.
_DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$"
    "Rksw829JivFDGqQdYN/sCg$lTdCKzTbP+MMy8Fte/2WhkwYbE38HesfeQbsfGnxXrs"
)
MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=12)
# A sign-in waiting for its second factor: this long, then the password is asked again.
PENDING_LIFETIME = timedelta(minutes=5)
THROTTLE_PASS = timedelta(minutes=15)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class TooManyAttempts(Throttled):
    """The address has used up its attempts; ``retry_after`` seconds until the next one."""

    def __init__(self, retry_after: int) -> None:
        minutes = ceil(retry_after / 60)
        super().__init__(
            "Too many attempts from your network. "
            f"Try again in {minutes} minute{'s' if minutes != 1 else ''}."
        )
        self.retry_after = retry_after


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


@dataclass(frozen=True)
class SignInClient:
    """Who is signing in: the network address failures count against, and the device cookie
    the browser sent (``inbox.actions.signin.devices``), if any."""

    address: str
    device_cookie: str | None = None


def authenticate_agent(
    session: Session, *, email: str, password: str, client: SignInClient, secret_key: bytes
) -> Agent | None:
    """The agent, or None; unknown, wrong and locked all cost one hash and look alike.

    From a browser without a valid device cookie of that agent, failures count against the
    agent's lockout and the client's address, and once the address used up
    ``FAILED_SIGN_INS`` the answer is TooManyAttempts before any check. A browser holding
    one is judged by its own failures alone: nobody else's lock it out or throttle it.
    """
    agent = session.exec(select(Agent).where(Agent.email == email.strip().lower())).first()
    if agent is not None and not agent.is_active:
        agent = None
    device = trusted_device(session, secret_key, agent, client.device_cookie) if agent else None
    if device is None and not has_throttle_pass(agent):
        check_address_limit(session, FAILED_SIGN_INS, client.address)
    if agent is None:
        _verify(_DUMMY_HASH, password)
        record_address_attempt(session, FAILED_SIGN_INS, client.address)
        return None
    ok = _verify(agent.password_hash, password)
    if device is not None:
        if device_locked(device):
            return None
        if not ok:
            record_device_failure(session, device)
            return None
    else:
        if is_locked(agent):
            record_address_attempt(session, FAILED_SIGN_INS, client.address)
            return None
        if not ok:
            record_failed_sign_in(session, agent)
            record_address_attempt(session, FAILED_SIGN_INS, client.address)
            return None
        agent.failed_logins = 0
    if _hasher.check_needs_rehash(agent.password_hash):
        # Made with older argon2 parameters: the password is at hand, so hash it anew.
        agent.password_hash = _hasher.hash(password)
    session.add(agent)
    return agent


def has_throttle_pass(agent: Agent | None) -> bool:
    """Whether ``inbox agent unlock`` let this agent past the address throttle just now."""
    return bool(agent and agent.throttle_pass_until and agent.throttle_pass_until > utcnow())


def finish_sign_in(
    session: Session, secret_key: bytes, agent: Agent, device_cookie: str | None
) -> str:
    """A sign-in is complete (the second factor too, where one is owed): the browser is
    remembered, and returns its device cookie; a throttle pass has served its purpose."""
    agent.throttle_pass_until = None
    session.add(agent)
    return remember_device(session, secret_key, agent, device_cookie)


def network_of(address: str) -> str:
    """What one client counts as: an IPv4 address, or an IPv6 /64, the network one subscriber
    gets, every address of which is the attacker's for free."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address.strip()[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def check_address_limit(session: Session, rule: AddressLimit, address: str) -> None:
    """TooManyAttempts while ``address`` has had ``rule.limit`` attempts in the last window,
    with the time until the oldest of those that matter leaves it."""
    now = utcnow()
    blocking = session.exec(
        select(SignInAttempt.created_at)
        .where(
            SignInAttempt.kind == rule.kind,
            SignInAttempt.address == network_of(address),
            col(SignInAttempt.created_at) > now - rule.window,
        )
        .order_by(col(SignInAttempt.created_at).desc())
        .offset(rule.limit - 1)
        .limit(1)
    ).first()
    if blocking is not None:
        wait = blocking + rule.window - now
        raise TooManyAttempts(max(1, ceil(wait.total_seconds())))


def record_address_attempt(session: Session, rule: AddressLimit, address: str) -> None:
    """Counts one attempt against ``address``; attempts older than the window are dropped."""
    now = utcnow()
    session.execute(
        delete(SignInAttempt).where(
            col(SignInAttempt.kind) == rule.kind, col(SignInAttempt.created_at) <= now - rule.window
        )
    )
    session.add(SignInAttempt(kind=rule.kind, address=network_of(address), created_at=now))


def is_locked(agent: Agent) -> bool:
    return bool(agent.locked_until and agent.locked_until > utcnow())


def record_failed_sign_in(session: Session, agent: Agent) -> None:
    """A wrong password or second factor; the fifth in a row locks the account for a while."""
    agent.failed_logins += 1
    if agent.failed_logins >= MAX_FAILURES:
        agent.locked_until = utcnow() + LOCKOUT
        agent.failed_logins = 0
        record_audit(session, "agent.locked", target_type="agent", target_id=agent.id or 0)
    session.add(agent)


def set_password(session: Session, agent: Agent, password: str) -> None:
    """A new password that meets the policy; every session of the agent ends with the old one."""
    check_password_strength(password, email=agent.email, name=agent.name)
    agent.password_hash = _hasher.hash(password)
    agent.failed_logins = 0
    agent.locked_until = None
    session.add(agent)
    revoke_sessions(session, agent)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def access_agent(session: Session, agent_id: int) -> Agent:
    agent = session.get(Agent, agent_id)
    if agent is None:
        raise NotFound("no such agent")
    return agent


def check_admin(agent: Agent) -> None:
    """Administration pages and actions are for role admin only."""
    if agent.role != "admin":
        raise PermissionDenied("administrators only")


def set_unlock_permission(session: Session, agent: Agent, *, allowed: bool, actor: Agent) -> None:
    """Lets an agent unlock customer accounts, or stops it. A privilege change: the agent signs
    in again, and from then on with a second factor."""
    if agent.role != "agent":
        raise InvalidInput("managers and administrators may unlock accounts by their role")
    if agent.may_unlock_accounts == allowed:
        return
    agent.may_unlock_accounts = allowed
    session.add(agent)
    revoke_sessions(session, agent)
    record_audit(
        session,
        "agent.unlock_permission",
        actor=actor,
        target_type="agent",
        target_id=agent.id or 0,
        detail={"allowed": allowed},
    )


def unlock_agent(
    session: Session, *, email: str, actor_label: str = "", actor: Agent | None = None
) -> Agent:
    """Lets the agent in again at once, whatever kept them out: the lockout of the account
    and of each of their browsers ends, and for ``THROTTLE_PASS`` (or until they have signed
    in) the throttle of their network address does not stop them. Recorded with who did it
    and what was lifted."""
    agent = session.exec(select(Agent).where(Agent.email == email.strip().lower())).first()
    if agent is None:
        raise InvalidInput("no agent with that address")
    was_locked = is_locked(agent)
    agent.locked_until = None
    agent.failed_logins = 0
    agent.throttle_pass_until = utcnow() + THROTTLE_PASS
    session.add(agent)
    devices = unlock_devices(session, agent)
    record_audit(
        session,
        "agent.unlock",
        actor=actor,
        actor_label=actor_label,
        target_type="agent",
        target_id=agent.id or 0,
        detail={"was_locked": was_locked, "devices_unlocked": devices},
    )
    return agent


def start_session(session: Session, agent: Agent, *, pending: bool = False) -> str:
    """A fresh session token on every sign-in: a planted session id is never promoted.

    ``pending``: the password was right but a second factor is owed; such a session lives
    only for a few minutes and opens nothing but the challenge.
    """
    token = issue_session(session, agent, lifetime=PENDING_LIFETIME if pending else None)
    record_audit(
        session,
        "agent.login",
        actor=agent,
        target_type="agent",
        target_id=agent.id or 0,
        detail={"second_factor_pending": True} if pending else None,
    )
    return token


def issue_session(
    session: Session,
    agent: Agent,
    *,
    second_factor_at: datetime | None = None,
    lifetime: timedelta | None = None,
) -> str:
    token = new_token()
    session.add(
        AgentSession(
            token_hash=hash_token(token),
            agent_id=agent.id or 0,
            expires_at=utcnow() + (lifetime or SESSION_LIFETIME),
            second_factor_at=second_factor_at,
        )
    )
    return token


def end_session(session: Session, token: str) -> None:
    row = session.exec(
        select(AgentSession).where(AgentSession.token_hash == hash_token(token))
    ).first()
    if row is not None:
        session.delete(row)


def revoke_sessions(session: Session, agent: Agent) -> None:
    """Signs the agent out everywhere."""
    session.execute(delete(AgentSession).where(col(AgentSession.agent_id) == agent.id))
