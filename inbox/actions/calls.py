"""Phone calls: a call note on a ticket, or a call that opens a new one.

A call note is a ``call_note`` message whose structured part (direction, number, times,
outcome, identity checks) lives in ``CallNote``. The agent is whoever is signed in: the
caller of these functions passes the session's agent, never a name from a form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from inbox.actions.customers import find_identity, resolve_customer
from inbox.actions.tickets import open_ticket, set_status, touch_ticket
from inbox.errors import InvalidInput
from inbox.events import MessageAdded, record
from inbox.models import Agent, CallNote, Channel, CustomerIdentity, Message, Ticket, utcnow
from inbox.models.accounts import CALL_DIRECTIONS, CALL_OUTCOMES, VERIFICATION_CHECKS
from inbox.models.kinds import ChannelKind, Direction, IdentityKind, MessageKind
from inbox.rules.phone import display_phone, normalize_phone
from inbox.settings import Settings

MAX_SUMMARY_CHARS = 100_000
MAX_DURATION_SECONDS = 24 * 3600
# A start time this far ahead is a typo, not clock skew.
FUTURE_SLACK = timedelta(minutes=5)
# Nobody spoke with the customer: the ticket still waits for its response.
NOT_A_RESPONSE = {"no_answer"}
CHECK_LABELS = {
    "date_of_birth": "date of birth",
    "postcode_on_file": "postcode on file",
    "last_payment_amount": "last payment amount",
}


@dataclass(frozen=True)
class CallDetails:
    """What the agent tells us about a call, as typed; ``log_call`` validates it."""

    direction: str
    phone: str
    started_at: datetime
    duration_seconds: int
    outcome: str
    summary: str
    verification_checks: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class _CheckedCall:
    direction: str
    phone: str
    started_at: datetime
    duration_seconds: int
    outcome: str
    summary: str
    checks: tuple[str, ...]

    @property
    def identity_verified(self) -> bool:
        return set(self.checks) == set(VERIFICATION_CHECKS)


def _check(call: CallDetails, settings: Settings) -> _CheckedCall:
    if call.direction not in CALL_DIRECTIONS:
        raise InvalidInput(f"direction must be one of {', '.join(CALL_DIRECTIONS)}")
    if call.outcome not in CALL_OUTCOMES:
        raise InvalidInput(f"outcome must be one of {', '.join(CALL_OUTCOMES)}")
    if call.started_at.tzinfo is None:
        raise InvalidInput("started_at needs a time zone")
    if call.started_at > utcnow() + FUTURE_SLACK:
        raise InvalidInput("a call cannot start in the future")
    if not 0 <= call.duration_seconds <= MAX_DURATION_SECONDS:
        raise InvalidInput("duration_seconds must be between 0 and 86400")
    summary = call.summary.strip()
    if not summary:
        raise InvalidInput("a call note needs a summary")
    if len(summary) > MAX_SUMMARY_CHARS:
        raise InvalidInput("a summary may have at most 100,000 characters")
    unknown = set(call.verification_checks) - set(VERIFICATION_CHECKS)
    if unknown:
        raise InvalidInput(f"unknown verification check(s): {', '.join(sorted(unknown))}")
    checks = tuple(c for c in VERIFICATION_CHECKS if c in call.verification_checks)
    return _CheckedCall(
        direction=call.direction,
        phone=normalize_phone(call.phone, settings.phone_region),
        started_at=call.started_at,
        duration_seconds=call.duration_seconds,
        outcome=call.outcome,
        summary=summary,
        checks=checks,
    )


def _duration_text(seconds: int) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{minutes} min {rest:02d} s" if minutes else f"{rest} s"


def call_note_text(
    direction: str, phone: str, duration_seconds: int, outcome: str, checks: tuple[str, ...]
) -> str:
    """The headline of a call note as the timeline and the API show it."""
    labels = ", ".join(CHECK_LABELS[c] for c in checks)
    if set(checks) == set(VERIFICATION_CHECKS):
        identity = f"Caller's identity verified on the call: {labels}"
    elif checks:
        identity = f"Caller's identity not verified on the call (checked only: {labels})"
    else:
        identity = "Caller's identity not verified on the call"
    lines = [
        f"{direction.capitalize()} call {'from' if direction == 'inbound' else 'to'} "
        f"{display_phone(phone)} · {_duration_text(duration_seconds)} · "
        f"outcome: {outcome.replace('_', ' ')}",
        identity,
    ]
    return "\n".join(lines)


def _phone_channel(session: Session) -> Channel | None:
    return session.exec(
        select(Channel).where(Channel.kind == ChannelKind.PHONE).order_by(col(Channel.id))
    ).first()


def _identity_for_ticket(session: Session, ticket: Ticket, phone: str) -> CustomerIdentity:
    """The phone identity with this number; new numbers join the ticket's customer."""
    identity = find_identity(session, IdentityKind.PHONE, phone)
    if identity is not None:
        return identity
    try:
        with session.begin_nested():
            identity = CustomerIdentity(
                customer_id=ticket.customer_id, kind=IdentityKind.PHONE, value=phone
            )
            session.add(identity)
            session.flush()
            return identity
    except IntegrityError:
        found = find_identity(session, IdentityKind.PHONE, phone)
        if found is None:
            raise
        return found


def _record_call(
    session: Session,
    ticket: Ticket,
    agent: Agent,
    call: _CheckedCall,
    identity: CustomerIdentity,
    channel: Channel | None,
) -> Message:
    now = utcnow()
    headline = call_note_text(
        call.direction, call.phone, call.duration_seconds, call.outcome, call.checks
    )
    text = f"{headline}\n\n{call.summary}"
    message = Message(
        ticket_id=ticket.id or 0,
        kind=MessageKind.CALL_NOTE,
        direction=call.direction,
        channel_id=channel.id if channel else None,
        channel_kind=ChannelKind.PHONE,
        author_agent_id=agent.id,
        author_label=agent.name,
        subject=ticket.subject,
        body_text=text,
        display_text=text,
        verification="agent" if call.identity_verified else "unverified",
        created_at=now,
    )
    session.add(message)
    session.flush()
    session.add(
        CallNote(
            message_id=message.id or 0,
            ticket_id=ticket.id or 0,
            direction=call.direction,
            phone=call.phone,
            identity_id=identity.id or 0,
            started_at=call.started_at,
            duration_seconds=call.duration_seconds,
            outcome=call.outcome,
            summary=call.summary,
            agent_id=agent.id or 0,
            identity_verified=call.identity_verified,
            verification_checks=list(call.checks),
        )
    )
    if call.identity_verified and identity.customer_id == ticket.customer_id:
        identity.verified_at = identity.verified_at or now
        session.add(identity)
    if call.direction == Direction.INBOUND:
        last = ticket.last_customer_message_at
        ticket.last_customer_message_at = max(last, call.started_at) if last else call.started_at
    if call.outcome not in NOT_A_RESPONSE:
        # Like an agent's email reply: the customer has been answered.
        ticket.first_response_at = ticket.first_response_at or now
        if ticket.status_category == "new":
            set_status(session, ticket, "open")
    touch_ticket(session, ticket)
    record(session, MessageAdded(ticket.id or 0, message.id or 0))
    return message


def log_call(
    session: Session, settings: Settings, *, ticket: Ticket, agent: Agent, call: CallDetails
) -> Message:
    """A call note on an existing ticket."""
    checked = _check(call, settings)
    identity = _identity_for_ticket(session, ticket, checked.phone)
    return _record_call(session, ticket, agent, checked, identity, _phone_channel(session))


def open_ticket_from_call(
    session: Session,
    settings: Settings,
    *,
    agent: Agent,
    call: CallDetails,
    subject: str = "",
    caller_name: str = "",
) -> tuple[Ticket, Message]:
    """A new phone ticket for the caller (found by number, or created), with the call on it."""
    checked = _check(call, settings)
    if len(subject) > 998 or len(caller_name) > 200:
        raise InvalidInput("subject or caller name too long")
    customer, identity = resolve_customer(
        session, kind=IdentityKind.PHONE, value=checked.phone, name=caller_name.strip()
    )
    channel = _phone_channel(session)
    ticket = open_ticket(
        session,
        prefix=settings.reference_prefix,
        subject=subject.strip()
        or f"Call {'from' if checked.direction == 'inbound' else 'to'} "
        f"{display_phone(checked.phone)}",
        customer_id=customer.id or 0,
        contact_identity_id=identity.id,
        channel_id=channel.id if channel else None,
        channel_kind=ChannelKind.PHONE,
    )
    message = _record_call(session, ticket, agent, checked, identity, channel)
    return ticket, message
