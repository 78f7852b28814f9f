"""Password reset by email: a single-use link that expires, built from the configured base URL.

Asking for a link answers the same whether or not the address belongs to an agent; only
the mailbox owner learns anything. The link's token is stored hashed. Setting the new
password applies the strength policy and signs the agent out everywhere.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from inbox.actions.audit import record_audit
from inbox.actions.automatic_mail import queue_agent_mail
from inbox.actions.signin.agents import (
    RESET_REQUESTS,
    check_address_limit,
    record_address_attempt,
    set_password,
)
from inbox.errors import InvalidInput
from inbox.models import Agent, OneTimeCode, utcnow
from inbox.settings import Settings
from inbox.signing import hash_token, new_token

RESET_LIFETIME = timedelta(hours=1)
RESETS_PER_WINDOW = 3
RESET_WINDOW = timedelta(hours=1)
INVALID_LINK = "This link is invalid, used or expired. Ask for a new one."


def request_password_reset(
    session: Session, settings: Settings, *, email: str, address: str
) -> None:
    """Mails a reset link to an active agent with that address; silently nothing otherwise.
    Every request counts against the client's ``address``, whatever the email (TooManyAttempts
    once ``RESET_REQUESTS`` is used up)."""
    check_address_limit(session, RESET_REQUESTS, address)
    record_address_attempt(session, RESET_REQUESTS, address)
    agent = session.exec(select(Agent).where(Agent.email == email.strip().lower())).first()
    if agent is None or not agent.is_active:
        return
    recent = session.exec(
        select(func.count())
        .select_from(OneTimeCode)
        .where(
            OneTimeCode.agent_id == agent.id,
            OneTimeCode.purpose == "password_reset",
            col(OneTimeCode.created_at) >= utcnow() - RESET_WINDOW,
        )
    ).one()
    if recent >= RESETS_PER_WINDOW:
        return
    token = new_token()
    row = OneTimeCode(
        agent_id=agent.id or 0,
        purpose="password_reset",
        code_hash=hash_token(token),
        expires_at=utcnow() + RESET_LIFETIME,
    )
    session.add(row)
    session.flush()
    link = f"{settings.base_url}/password/reset?token={token}"
    queued = queue_agent_mail(
        session,
        settings,
        agent=agent,
        kind="password_reset",
        key=f"password_reset:{row.id}",
        secret_expires_at=row.expires_at,
        subject="Reset your help desk password",
        body=(
            f"Hello {agent.name},\n\n"
            f"someone asked to reset the password of your help desk account. To choose a new "
            f"one, open\n\n    {link}\n\n"
            f"The link works once, within {RESET_LIFETIME.seconds // 60} minutes. If it was not "
            "you, ignore this mail: your password stays as it is.\n"
        ),
    )
    record_audit(
        session,
        "agent.password_reset_requested",
        target_type="agent",
        target_id=agent.id or 0,
        detail={"mailed": queued},
    )


def _live_reset(session: Session, token: str) -> OneTimeCode | None:
    return session.exec(
        select(OneTimeCode).where(
            OneTimeCode.code_hash == hash_token(token),
            OneTimeCode.purpose == "password_reset",
            col(OneTimeCode.used_at).is_(None),
            col(OneTimeCode.expires_at) > utcnow(),
        )
    ).first()


def check_reset_token(session: Session, token: str) -> Agent:
    """The agent a live reset link belongs to; InvalidInput for a used, expired or made-up one."""
    row = _live_reset(session, token) if token else None
    agent = session.get(Agent, row.agent_id) if row else None
    if agent is None or not agent.is_active:
        raise InvalidInput(INVALID_LINK)
    return agent


def reset_password(session: Session, *, token: str, password: str) -> Agent:
    """Spends the link and sets the new password; the link never works twice."""
    agent = check_reset_token(session, token)
    set_password(session, agent, password)  # checks the policy before the link is spent
    spent = session.execute(
        update(OneTimeCode)
        .where(
            col(OneTimeCode.code_hash) == hash_token(token),
            col(OneTimeCode.used_at).is_(None),
        )
        .values(used_at=utcnow())
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        raise InvalidInput(INVALID_LINK)  # a concurrent request spent it first
    # Other links that are still out there die with this one.
    session.execute(
        update(OneTimeCode)
        .where(
            col(OneTimeCode.agent_id) == agent.id,
            col(OneTimeCode.purpose) == "password_reset",
            col(OneTimeCode.used_at).is_(None),
        )
        .values(used_at=utcnow())
    )
    record_audit(
        session, "agent.password_reset", actor=agent, target_type="agent", target_id=agent.id or 0
    )
    return agent
