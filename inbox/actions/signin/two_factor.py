"""The second factor: TOTP with recovery codes, or a code mailed to the agent.

Mandatory for whoever can unlock customer accounts (managers, admins, and agents given
that permission), and for anyone who enrolled an authenticator app. A sign-in session
stays pending, good for nothing but the challenge, until a factor passes; then it is
replaced by a new one carrying ``second_factor_at``.

Every wrong code counts towards the same lockout as a wrong password, so six digits
cannot be guessed. A TOTP time step is accepted once per agent, a recovery code once,
a mailed code once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, or_, update
from sqlmodel import Session, col, select

from inbox.actions.audit import record_audit
from inbox.actions.automatic_mail import queue_agent_mail
from inbox.actions.signin.agents import (
    FAILED_SIGN_INS,
    check_address_limit,
    is_locked,
    issue_session,
    record_address_attempt,
    record_failed_sign_in,
    revoke_sessions,
    start_session,
)
from inbox.errors import InvalidInput, PermissionDenied, Throttled
from inbox.models import Agent, AgentSession, OneTimeCode, Outbox, RecoveryCode, utcnow
from inbox.rules import totp
from inbox.settings import Settings
from inbox.signing import SecretBox, hash_token

UNLOCKING_ROLES = ("manager", "admin")
METHODS = ("totp", "recovery", "email")
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i: read off paper
SIGN_IN_CODE_LIFETIME = timedelta(minutes=10)
SIGN_IN_CODES_PER_WINDOW = 3
SIGN_IN_CODE_WINDOW = timedelta(minutes=15)
ENROLMENT_LIFETIME = timedelta(minutes=15)
ISSUER = "Inbox"


def can_unlock_accounts(agent: Agent) -> bool:
    """Who may unlock customer accounts: managers, admins and agents given the permission."""
    return agent.role in UNLOCKING_ROLES or agent.may_unlock_accounts


def has_totp(agent: Agent) -> bool:
    return bool(agent.totp_secret_encrypted)


def second_factor_required(agent: Agent) -> bool:
    return has_totp(agent) or can_unlock_accounts(agent)


def second_factor_pending(agent: Agent, row: AgentSession) -> bool:
    """Password given, second factor still owed: the session opens nothing but the challenge."""
    return row.second_factor_at is None and second_factor_required(agent)


def begin_sign_in(session: Session, agent: Agent) -> tuple[str, bool]:
    """After the password: a session token, and whether it still owes a second factor."""
    pending = second_factor_required(agent)
    return start_session(session, agent, pending=pending), pending


def second_factor_recent(row: AgentSession, within: timedelta = timedelta(minutes=10)) -> bool:
    """Whether this session proved a second factor within ``within``: for sensitive actions."""
    return row.second_factor_at is not None and utcnow() - row.second_factor_at <= within


def _keyed(secret_key: bytes, purpose: str, value: str) -> str:
    return hmac.new(secret_key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


# --- enrolment -------------------------------------------------------------------------


@dataclass(frozen=True)
class TotpEnrolment:
    secret: str
    uri: str
    sealed: str  # the secret, encrypted for the confirmation form: nothing stored until then


def begin_totp_enrolment(box: SecretBox, agent: Agent) -> TotpEnrolment:
    secret = totp.new_secret()
    sealed = box.seal({"totp_enrolment": secret, "agent": agent.id, "at": utcnow().timestamp()})
    uri = totp.provisioning_uri(secret, account=agent.email, issuer=ISSUER)
    return TotpEnrolment(secret=secret, uri=uri, sealed=sealed)


def reopen_totp_enrolment(box: SecretBox, agent: Agent, sealed: str) -> TotpEnrolment:
    """The enrolment a confirmation form carries, if it is this agent's and still fresh."""
    try:
        values = box.open(sealed)
    except ValueError as exc:
        raise InvalidInput("this set-up has expired; start again") from exc
    at = float(values.get("at", 0))
    if values.get("agent") != agent.id or utcnow().timestamp() - at > ENROLMENT_LIFETIME.seconds:
        raise InvalidInput("this set-up has expired; start again")
    secret = str(values["totp_enrolment"])
    uri = totp.provisioning_uri(secret, account=agent.email, issuer=ISSUER)
    return TotpEnrolment(secret=secret, uri=uri, sealed=sealed)


def confirm_totp_enrolment(
    session: Session, settings: Settings, agent: Agent, *, sealed: str, code: str
) -> list[str]:
    """Turns TOTP on once the app shows a right code; returns fresh recovery codes to show once."""
    box = SecretBox(settings.secret_key)
    enrolment = reopen_totp_enrolment(box, agent, sealed)
    step = totp.matching_step(enrolment.secret, code, utcnow())
    if step is None:
        raise InvalidInput("that code does not match; check the time on your phone")
    agent.totp_secret_encrypted = box.seal({"totp": enrolment.secret})
    agent.totp_last_step = step
    session.add(agent)
    record_audit(
        session, "agent.totp_enabled", actor=agent, target_type="agent", target_id=agent.id or 0
    )
    return _replace_recovery_codes(session, settings.secret_key, agent)


def set_known_totp_secret(session: Session, settings: Settings, agent: Agent, secret: str) -> None:
    """For ``inbox demo`` only: an authenticator key printed for the newcomer to type in."""
    agent.totp_secret_encrypted = SecretBox(settings.secret_key).seal({"totp": secret})
    agent.totp_last_step = None
    session.add(agent)
    record_audit(
        session,
        "agent.totp_enabled",
        actor_label="demo",
        target_type="agent",
        target_id=agent.id or 0,
    )


def regenerate_recovery_codes(session: Session, settings: Settings, agent: Agent) -> list[str]:
    if not has_totp(agent):
        raise InvalidInput("recovery codes come with an authenticator app; set one up first")
    codes = _replace_recovery_codes(session, settings.secret_key, agent)
    record_audit(
        session,
        "agent.recovery_codes_renewed",
        actor=agent,
        target_type="agent",
        target_id=agent.id or 0,
    )
    return codes


def _replace_recovery_codes(session: Session, secret_key: bytes, agent: Agent) -> list[str]:
    session.execute(delete(RecoveryCode).where(col(RecoveryCode.agent_id) == agent.id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
        session.add(
            RecoveryCode(agent_id=agent.id or 0, code_hash=_keyed(secret_key, "recovery", raw))
        )
    return codes


def unused_recovery_codes(session: Session, agent: Agent) -> int:
    return session.exec(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.agent_id == agent.id, col(RecoveryCode.used_at).is_(None))
    ).one()


def reset_two_factor(session: Session, agent: Agent, *, actor: Agent) -> None:
    """An administrator removes an agent's authenticator and recovery codes (a lost phone).

    The agent is signed out everywhere; a role that needs a second factor falls back to
    mailed codes until a new app is set up.
    """
    if actor.id == agent.id:
        raise PermissionDenied("ask another administrator to reset your own second factor")
    agent.totp_secret_encrypted = None
    agent.totp_last_step = None
    session.add(agent)
    session.execute(delete(RecoveryCode).where(col(RecoveryCode.agent_id) == agent.id))
    revoke_sessions(session, agent)
    record_audit(
        session, "agent.two_factor_reset", actor=actor, target_type="agent", target_id=agent.id or 0
    )


# --- mailed sign-in codes --------------------------------------------------------------


def send_sign_in_code(session: Session, settings: Settings, agent: Agent) -> bool:
    """Mails a six-digit code that replaces any earlier one; False if no channel can send it.

    At most three per quarter hour, so the challenge page cannot be used to flood a mailbox.
    """
    since = utcnow() - SIGN_IN_CODE_WINDOW
    recent = session.exec(
        select(func.count())
        .select_from(Outbox)
        .where(
            Outbox.recipient == agent.email,
            Outbox.kind == "sign_in_code",
            col(Outbox.created_at) >= since,
        )
    ).one()
    if recent >= SIGN_IN_CODES_PER_WINDOW:
        raise Throttled("several codes are on their way already; please wait for them")
    _delete_sign_in_codes(session, agent)
    code = f"{secrets.randbelow(10**6):06d}"
    row = OneTimeCode(
        agent_id=agent.id or 0,
        purpose="sign_in",
        code_hash=_keyed(settings.secret_key, "sign_in", f"{agent.id}:{code}"),
        expires_at=utcnow() + SIGN_IN_CODE_LIFETIME,
    )
    session.add(row)
    session.flush()
    return queue_agent_mail(
        session,
        settings,
        agent=agent,
        kind="sign_in_code",
        key=f"sign_in_code:{agent.id}:{secrets.token_hex(8)}",  # code rows are deleted
        secret_expires_at=row.expires_at,
        subject=f"Your sign-in code: {code}",
        body=(
            f"Hello {agent.name},\n\n"
            f"your code to finish signing in to the help desk is\n\n    {code}\n\n"
            f"It works once, within {SIGN_IN_CODE_LIFETIME.seconds // 60} minutes.\n"
            "If you did not just sign in, someone knows your password: change it now and tell "
            "an administrator.\n"
        ),
    )


def _delete_sign_in_codes(session: Session, agent: Agent) -> None:
    session.execute(
        delete(OneTimeCode).where(
            col(OneTimeCode.agent_id) == agent.id, col(OneTimeCode.purpose) == "sign_in"
        )
    )


# --- checking a factor -----------------------------------------------------------------


def check_second_factor(
    session: Session, settings: Settings, agent: Agent, *, method: str, code: str, address: str
) -> bool:
    """Whether the code proves the second factor; a wrong one counts towards the lockout and
    against the client's ``address`` (TooManyAttempts once that is used up)."""
    if method not in METHODS:
        raise InvalidInput("unknown kind of code")
    check_address_limit(session, FAILED_SIGN_INS, address)
    if is_locked(agent):
        return False
    checks = {"totp": _check_totp, "recovery": _check_recovery_code, "email": _check_sign_in_code}
    ok = checks[method](session, settings, agent, code.strip())
    if not ok:
        record_failed_sign_in(session, agent)
        record_address_attempt(session, FAILED_SIGN_INS, address)
        record_audit(
            session,
            "agent.second_factor_failed",
            actor=agent,
            target_type="agent",
            target_id=agent.id or 0,
            detail={"method": method},
        )
        return False
    agent.failed_logins = 0
    session.add(agent)
    return True


def _check_totp(session: Session, settings: Settings, agent: Agent, code: str) -> bool:
    if not agent.totp_secret_encrypted:
        return False
    secret = SecretBox(settings.secret_key).open(agent.totp_secret_encrypted)["totp"]
    step = totp.matching_step(secret, code, utcnow())
    if step is None:
        return False
    # Claim the step in one statement: of two requests with the same code, one wins.
    claimed = session.execute(
        update(Agent)
        .where(
            col(Agent.id) == agent.id,
            or_(col(Agent.totp_last_step).is_(None), col(Agent.totp_last_step) < step),
        )
        .values(totp_last_step=step)
    )
    return bool(claimed.rowcount == 1)  # type: ignore[attr-defined]


def _check_recovery_code(session: Session, settings: Settings, agent: Agent, code: str) -> bool:
    normalized = "".join(code.lower().replace("-", "").split())
    used = session.execute(
        update(RecoveryCode)
        .where(
            col(RecoveryCode.agent_id) == agent.id,
            col(RecoveryCode.code_hash) == _keyed(settings.secret_key, "recovery", normalized),
            col(RecoveryCode.used_at).is_(None),
        )
        .values(used_at=utcnow())
    )
    if used.rowcount != 1:  # type: ignore[attr-defined]
        return False
    record_audit(
        session,
        "agent.recovery_code_used",
        actor=agent,
        target_type="agent",
        target_id=agent.id or 0,
    )
    return True


def _check_sign_in_code(session: Session, settings: Settings, agent: Agent, code: str) -> bool:
    digits = "".join(code.split())
    used = session.execute(
        delete(OneTimeCode).where(
            col(OneTimeCode.agent_id) == agent.id,
            col(OneTimeCode.purpose) == "sign_in",
            col(OneTimeCode.code_hash)
            == _keyed(settings.secret_key, "sign_in", f"{agent.id}:{digits}"),
            col(OneTimeCode.expires_at) > utcnow(),
        )
    )
    return bool(used.rowcount == 1)  # type: ignore[attr-defined]


def complete_second_factor(session: Session, agent: Agent, *, old_token: str, method: str) -> str:
    """Replaces the session the factor was proven in with a new one that records the proof.

    Used at sign-in and when re-verifying: the session id changes whenever privilege grows.
    """
    session.execute(
        delete(AgentSession).where(col(AgentSession.token_hash) == hash_token(old_token))
    )
    token = issue_session(session, agent, second_factor_at=utcnow())
    record_audit(
        session,
        "agent.second_factor",
        actor=agent,
        target_type="agent",
        target_id=agent.id or 0,
        detail={"method": method},
    )
    return token
