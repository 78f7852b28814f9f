"""Unlocking a customer's account: the desk's most valuable action, built to resist
social engineering (THREATS.md, "The account-unlock action").

An unlock needs: an agent whose role may unlock, a second factor proved in this session
within the last ten minutes, proof of the customer's identity from a source other than a
From header (a one-time code the account system sent to the contact on file and the customer
read back, or a verification checklist completed on a call from the number on file), a
reason, an idempotency key, room under the per-agent and per-account rate limits. It leaves
an audit record and a notice to the account owner at the contact on file.

The request only records and queues: a worker calls the account directory later
(``start_unlock_attempt`` / ``record_unlock_success`` / ``record_unlock_failure``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from inbox.accounts import Account, CodeSent, mask_email
from inbox.actions.audit import record_audit
from inbox.actions.automatic_mail import queue_contact_mail
from inbox.actions.outbox import retry_delay
from inbox.actions.replies import reply_to_customer
from inbox.actions.signin.two_factor import can_unlock_accounts
from inbox.actions.tickets import touch_ticket
from inbox.actions.timeline import record_system_event
from inbox.actions.timers import set_timer
from inbox.errors import Conflict, InvalidInput, PermissionDenied, Throttled
from inbox.events import MessageAdded, record
from inbox.models import (
    Agent,
    AgentSession,
    Channel,
    CustomerIdentity,
    IdentityProof,
    Ticket,
    UnlockRequest,
    utcnow,
)
from inbox.models.kinds import ChannelKind, IdentityKind
from inbox.queries.customers import live_proof, verified_calls
from inbox.settings import Settings

SECOND_FACTOR_WINDOW = timedelta(minutes=10)
AGENT_LIMIT, AGENT_WINDOW = 10, timedelta(hours=1)
ACCOUNT_LIMIT, ACCOUNT_WINDOW = 3, timedelta(hours=24)
MAX_ATTEMPTS = 8
FOLLOW_UP_AFTER = timedelta(hours=24)
MIN_REASON_CHARS = 5
NEXT_STEPS = (
    "Hello,\n\n"
    "Your account is unlocked and you can sign in again.\n\n"
    'If you do not remember your password, choose "Forgot password?" on the sign-in page '
    "and enter the email address of your account. We will email you a link to set a new "
    "password; it works once and expires after an hour. Choose a password you do not use "
    "anywhere else.\n\n"
    "If you did not ask us to unlock your account, reply to this message straight away.\n"
)
FOLLOW_UP = (
    "Hello,\n\n"
    "Yesterday we unlocked your account. Can you sign in again? If anything still stands "
    "in your way, reply to this message and we will help.\n"
)


def _system_note(session: Session, ticket: Ticket, actor: Agent | None, text: str) -> None:
    """A system event on the ticket's timeline, in words rather than ``key → value``."""
    message = record_system_event(session, ticket, actor, text)
    touch_ticket(session, ticket)
    record(session, MessageAdded(ticket.id or 0, message.id or 0))


def check_can_unlock(agent: Agent) -> None:
    """Only those who may unlock take proofs of identity: nobody else mails customers codes."""
    if not can_unlock_accounts(agent):
        raise PermissionDenied("your role may not unlock customer accounts")


def record_code_sent(
    session: Session, *, ticket: Ticket, agent: Agent, account: Account, sent: CodeSent
) -> None:
    """The account system sent a code to the contact on file: say so on the ticket."""
    check_can_unlock(agent)
    _system_note(
        session,
        ticket,
        agent,
        f"Verification code for account {account.account_id} sent to {sent.destination} "
        f"(the contact on file). Ask the customer to read it back.",
    )
    record_audit(
        session,
        "account.code_sent",
        actor=agent,
        target_type="account",
        target_id=account.account_id,
        detail={"ticket": ticket.reference, "destination": sent.destination},
    )


def record_code_check(
    session: Session, *, ticket: Ticket, agent: Agent, account: Account, valid: bool
) -> IdentityProof | None:
    """The outcome of checking a code the customer read back; a right one is a proof."""
    check_can_unlock(agent)
    record_audit(
        session,
        "account.code_checked",
        actor=agent,
        target_type="account",
        target_id=account.account_id,
        detail={"ticket": ticket.reference, "valid": valid},
    )
    if not valid:
        return None
    proof = IdentityProof(
        ticket_id=ticket.id or 0,
        account_id=account.account_id,
        method="one_time_code",
        agent_id=agent.id or 0,
        contact_email=account.email,
        detail={"sent_to": mask_email(account.email) if account.email else None},
    )
    session.add(proof)
    session.flush()
    _system_note(
        session,
        ticket,
        agent,
        f"Identity confirmed for account {account.account_id}: the customer read back the "
        f"code sent to the contact on file.",
    )
    return proof


def prove_identity_by_call(
    session: Session, *, ticket: Ticket, agent: Agent, account: Account
) -> IdentityProof:
    """A proof from a call this agent logged on this ticket, with every check done, from the
    number on file for the account."""
    check_can_unlock(agent)
    if not account.phone:
        raise PermissionDenied("the account has no phone number on file: send a code instead")
    calls = [c for c in verified_calls(session, ticket.id or 0, agent.id or 0)]
    call = next((c for c in calls if c.phone == account.phone), None)
    if call is None:
        raise PermissionDenied(
            "no call with a completed verification checklist from the number on file "
            "was logged on this ticket in the last 30 minutes"
        )
    proof = IdentityProof(
        ticket_id=ticket.id or 0,
        account_id=account.account_id,
        method="call_checklist",
        agent_id=agent.id or 0,
        contact_email=account.email,
        detail={"call_note_id": call.id, "checks": list(call.verification_checks)},
    )
    session.add(proof)
    session.flush()
    _system_note(
        session,
        ticket,
        agent,
        f"Identity confirmed for account {account.account_id}: verification checklist "
        f"completed on a call from the number on file.",
    )
    return proof


def _second_factor_is_recent(agent: Agent, agent_session: AgentSession | None) -> bool:
    return (
        agent_session is not None
        and agent_session.agent_id == agent.id
        and agent_session.second_factor_at is not None
        and utcnow() - agent_session.second_factor_at <= SECOND_FACTOR_WINDOW
    )


def _count_since(session: Session, *conditions: object) -> int:
    return session.exec(
        select(func.count()).select_from(UnlockRequest).where(*conditions)  # type: ignore[arg-type]
    ).one()


def request_account_unlock(
    session: Session,
    settings: Settings,
    *,
    ticket: Ticket,
    agent: Agent,
    agent_session: AgentSession | None,
    account_id: str,
    reason: str,
    idempotency_key: str,
) -> UnlockRequest:
    """Record an unlock request and queue it; the same idempotency key again is a no-op."""
    key = idempotency_key.strip()
    if not 8 <= len(key) <= 100:
        raise InvalidInput("an idempotency key of 8 to 100 characters is required")
    existing = session.exec(
        select(UnlockRequest).where(UnlockRequest.idempotency_key == key)
    ).first()
    if existing is not None:
        if existing.agent_id != agent.id or existing.account_id != account_id:
            raise Conflict("that idempotency key belongs to another request")
        return existing
    check_can_unlock(agent)
    if not _second_factor_is_recent(agent, agent_session):
        raise PermissionDenied(
            "confirm your second factor again: unlocking needs one from the last 10 minutes"
        )
    reason = reason.strip()
    if len(reason) < MIN_REASON_CHARS or len(reason) > 1000:
        raise InvalidInput("give a reason for the unlock (5 to 1000 characters)")
    proof = live_proof(session, ticket.id or 0, account_id, agent.id or 0)
    if proof is None:
        raise PermissionDenied(
            "prove the customer's identity first: a code sent to the contact on file and "
            "read back, or a verification checklist on a call; an email's From header is "
            "not proof"
        )
    if not proof.contact_email:
        raise Conflict("the account has no email address on file to notify its owner")
    now = utcnow()
    if (
        _count_since(
            session,
            UnlockRequest.agent_id == agent.id,
            col(UnlockRequest.created_at) > now - AGENT_WINDOW,
        )
        >= AGENT_LIMIT
    ):
        raise Throttled("you have unlocked many accounts in the last hour; ask a colleague")
    if (
        _count_since(
            session,
            UnlockRequest.account_id == account_id,
            col(UnlockRequest.created_at) > now - ACCOUNT_WINDOW,
        )
        >= ACCOUNT_LIMIT
    ):
        raise Throttled("this account was unlocked too often in the last 24 hours")
    request = UnlockRequest(
        idempotency_key=key,
        ticket_id=ticket.id or 0,
        account_id=account_id,
        agent_id=agent.id or 0,
        proof_id=proof.id or 0,
        reason=reason,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(request)
            session.flush()
    except IntegrityError:  # the same key submitted twice at once: the other one won
        raced = session.exec(
            select(UnlockRequest).where(UnlockRequest.idempotency_key == key)
        ).first()
        if raced is None:
            raise
        return raced
    proof.used_at = now
    session.add(proof)
    record_audit(
        session,
        "account.unlock_requested",
        actor=agent,
        target_type="account",
        target_id=account_id,
        detail={"ticket": ticket.reference, "reason": reason, "proof": proof.method},
    )
    _system_note(
        session,
        ticket,
        agent,
        f"Unlock of account {account_id} requested ({proof.method.replace('_', ' ')}). "
        f"Reason: {reason}",
    )
    notified = queue_contact_mail(
        session,
        settings,
        to_address=proof.contact_email,
        to_name="",
        kind="account_notice",
        key=f"unlock_notice:{request.id}",
        subject="We are unlocking your account",
        body=(
            "Hello,\n\n"
            f"Our support team is unlocking your account (request {ticket.reference}) "
            f"after confirming your identity.\n\n"
            "If you did not ask for this, reply to this message or call us straight away, "
            "and we will lock your account again.\n"
        ),
        ticket=ticket,
    )
    if not notified:  # rolls the whole request back
        raise Conflict("no email channel is set up to notify the account owner")
    set_timer(
        session,
        kind="account_unlock",
        due_at=now,
        key=f"account_unlock:{request.id}",
        ticket_id=ticket.id,
        payload={"unlock_request_id": request.id},
    )
    return request


def record_unlock_refusal(
    session: Session, *, agent: Agent, ticket: Ticket, account_id: str, error: str
) -> None:
    """A refused unlock leaves a trace too: refusals are how social engineering shows."""
    record_audit(
        session,
        "account.unlock_refused",
        actor=agent,
        target_type="account",
        target_id=account_id,
        detail={"ticket": ticket.reference, "error": error[:500]},
    )


def record_foreign_account_refusal(
    session: Session, *, agent: Agent, ticket: Ticket, named: str, account: Account
) -> None:
    """A form named an account other than the one the account directory has for the ticket's
    customer, and was refused: how an attempt on someone else's account shows."""
    record_audit(
        session,
        "account.foreign_account_refused",
        actor=agent,
        target_type="account",
        target_id=named[:64],
        detail={"ticket": ticket.reference, "customer_account": account.account_id},
    )


@dataclass(frozen=True)
class UnlockJob:
    request_id: int
    account_id: str
    idempotency_key: str
    reason: str


def start_unlock_attempt(session: Session, request_id: int) -> UnlockJob | None:
    """Re-read the request; None when it is finished already."""
    request = session.get(UnlockRequest, request_id, with_for_update=True)
    if request is None or request.state in ("done", "failed"):
        return None
    request.state = "running"
    request.attempts += 1
    session.add(request)
    return UnlockJob(request_id, request.account_id, request.idempotency_key, request.reason)


def _request_parts(session: Session, request_id: int) -> tuple[UnlockRequest, Ticket, Agent]:
    request = session.get(UnlockRequest, request_id)
    assert request is not None
    ticket = session.get(Ticket, request.ticket_id)
    agent = session.get(Agent, request.agent_id)
    assert ticket is not None and agent is not None
    return request, ticket, agent


def _tell_customer(
    session: Session, settings: Settings, ticket: Ticket, agent: Agent, body: str, what: str
) -> None:
    """Send on the ticket's channel; where the desk cannot send yet, ask the agent to."""
    channel = session.get(Channel, ticket.channel_id) if ticket.channel_id else None
    contact = (
        session.get(CustomerIdentity, ticket.contact_identity_id)
        if ticket.contact_identity_id
        else None
    )
    if (
        channel is not None
        and channel.kind == ChannelKind.EMAIL
        and contact
        and contact.kind == IdentityKind.EMAIL
    ):
        reply_to_customer(session, settings, ticket=ticket, author=agent, body=body)
    else:
        _system_note(
            session,
            ticket,
            None,
            f"The {ticket.channel_kind} channel cannot send messages from the desk: "
            f"please give the customer the {what} yourself.\n\n{body}",
        )


def record_unlock_success(
    session: Session, settings: Settings, request_id: int, account: Account, *, now: datetime
) -> None:
    request, ticket, agent = _request_parts(session, request_id)
    if request.state == "done":
        return
    request.state = "done"
    request.finished_at = now
    request.last_error = None
    session.add(request)
    _system_note(
        session,
        ticket,
        None,
        f"Account {account.account_id} unlocked by the account system "
        f"(status now {account.status}).",
    )
    record_audit(
        session,
        "account.unlocked",
        actor=agent,
        target_type="account",
        target_id=account.account_id,
        detail={"ticket": ticket.reference, "request": request.id},
    )
    _tell_customer(session, settings, ticket, agent, NEXT_STEPS, "next steps")
    set_timer(
        session,
        kind="unlock_followup",
        due_at=now + FOLLOW_UP_AFTER,
        key=f"unlock_followup:{request.id}",
        ticket_id=ticket.id,
        payload={"unlock_request_id": request.id},
    )


def record_unlock_failure(
    session: Session,
    request_id: int,
    error: str,
    *,
    permanent: bool,
    retry_base_seconds: float,
    now: datetime,
) -> datetime | None:
    """Show the failure on the ticket; returns when to try again, or None when given up."""
    request, ticket, _agent = _request_parts(session, request_id)
    request.last_error = error[:2000]
    if permanent or request.attempts >= MAX_ATTEMPTS:
        request.state = "failed"
        request.finished_at = now
        session.add(request)
        _system_note(
            session,
            ticket,
            None,
            f"Unlock of account {request.account_id} failed: {error[:500]}",
        )
        record_audit(
            session,
            "account.unlock_failed",
            target_type="account",
            target_id=request.account_id,
            detail={"ticket": ticket.reference, "request": request.id, "error": error[:500]},
        )
        return None
    request.state = "queued"
    session.add(request)
    retry_at = now + retry_delay(request.attempts, retry_base_seconds)
    _system_note(
        session,
        ticket,
        None,
        f"Unlock of account {request.account_id} not done yet: {error[:500]}. "
        f"Trying again at {retry_at:%H:%M:%S} UTC (attempt {request.attempts} of "
        f"{MAX_ATTEMPTS}).",
    )
    return retry_at


def send_unlock_followup(session: Session, settings: Settings, request_id: int) -> None:
    """A day after an unlock: ask the customer whether they can sign in again."""
    request, ticket, agent = _request_parts(session, request_id)
    if request.state != "done":
        return
    _tell_customer(session, settings, ticket, agent, FOLLOW_UP, "follow-up question")
