"""What a signed-in customer writes on the portal: a reply on one of their tickets, or a new
ticket. Either is a verified inbound message (the customer proved their address with the
mailed link), filed like any customer message: it reopens a waiting or resolved ticket,
wakes a snoozed one, restarts the SLA clocks (the recorded events recompute them after the
commit) and reaches agents live. A reply after the reopen window opens a follow-up ticket,
as a late mail does.

Card numbers, codes and passwords are masked before anything is stored, as in chat.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session

from inbox.actions.automatic_mail import sending_channel
from inbox.actions.followups import customer_wrote, past_reopen_window, start_followup_ticket
from inbox.actions.merge import merged_into
from inbox.actions.tickets import open_ticket, reopen_on_customer_message, touch_ticket
from inbox.blobs import BlobStore
from inbox.errors import InvalidInput
from inbox.events import MessageAdded, record
from inbox.models import Attachment, CustomerIdentity, Message, Ticket, utcnow
from inbox.models.kinds import ChannelKind, Direction, MessageKind
from inbox.rules.masking import mask_sensitive, masking_note
from inbox.rules.portal import MAX_FILES, AcceptedFile

MAX_BODY_CHARS = 20_000
MAX_SUBJECT_CHARS = 200


def _clean_body(body: str) -> str:
    text = body.replace("\r\n", "\n").replace("\x00", "").strip()
    if not text:
        raise InvalidInput("write a message first")
    if len(text) > MAX_BODY_CHARS:
        raise InvalidInput(f"a message has at most {MAX_BODY_CHARS} characters")
    return text


def _check_files(files: Sequence[AcceptedFile]) -> None:
    if len(files) > MAX_FILES:
        raise InvalidInput(f"attach at most {MAX_FILES} files to one message")


def _add_message(
    session: Session,
    blobs: BlobStore,
    ticket: Ticket,
    identity: CustomerIdentity,
    name: str,
    body: str,
    files: Sequence[AcceptedFile],
) -> Message:
    masked = mask_sensitive(body)
    text = masked.text
    if masked.changed:
        text += "\n\n" + masking_note(masked.found)
    now = utcnow()
    message = Message(
        ticket_id=ticket.id or 0,
        kind=MessageKind.PORTAL,
        direction=Direction.INBOUND,
        channel_id=None,
        channel_kind="portal",
        author_identity_id=identity.id,
        author_label=f"{name} <{identity.value}>" if name else identity.value,
        subject=ticket.subject,
        body_text=text,
        display_text=text,
        thread_reason="portal",
        verification="authenticated",
        created_at=now,
    )
    session.add(message)
    session.flush()
    for accepted in files:
        session.add(
            Attachment(
                message_id=message.id or 0,
                filename=accepted.filename,
                content_type=accepted.content_type,
                size=len(accepted.data),
                content_hash=blobs.put(accepted.data),
            )
        )
    ticket.last_customer_message_at = now
    touch_ticket(session, ticket)
    record(session, MessageAdded(ticket.id or 0, message.id or 0))
    return message


def reply_on_portal(
    session: Session,
    blobs: BlobStore,
    ticket: Ticket,
    *,
    identity_id: int,
    name: str,
    body: str,
    files: Sequence[AcceptedFile],
    reference_prefix: str,
) -> tuple[Ticket, Message]:
    """The customer's reply on their ``ticket`` (the caller checked it is theirs): the ticket
    it landed on (a new follow-up one when ``ticket`` was resolved too long ago) and the
    message."""
    text = _clean_body(body)
    _check_files(files)
    identity = session.get(CustomerIdentity, identity_id)
    if identity is None:
        raise InvalidInput("sign in again")
    ticket = merged_into(session, ticket)
    if past_reopen_window(session, ticket, utcnow()):
        previous = ticket
        ticket = open_ticket(
            session,
            prefix=reference_prefix,
            subject=previous.subject,
            customer_id=previous.customer_id,
            contact_identity_id=previous.contact_identity_id or identity.id,
            channel_id=previous.channel_id,
            channel_kind=previous.channel_kind,
        )
        start_followup_ticket(session, ticket, previous)
    else:
        reopen_on_customer_message(session, ticket)
        customer_wrote(session, ticket, now=utcnow())
    return ticket, _add_message(session, blobs, ticket, identity, name, text, files)


def open_portal_ticket(
    session: Session,
    blobs: BlobStore,
    *,
    identity_id: int,
    customer_id: int,
    name: str,
    team_id: int | None,
    subject: str,
    body: str,
    files: Sequence[AcceptedFile],
    reference_prefix: str,
) -> Ticket:
    """A new ticket written on the portal, in the team its topic picks. The desk answers it
    by email, from the desk's email channel, to the address the customer signed in with."""
    subject = " ".join(subject.split())
    if not subject:
        raise InvalidInput("give your request a subject")
    if len(subject) > MAX_SUBJECT_CHARS:
        raise InvalidInput(f"a subject has at most {MAX_SUBJECT_CHARS} characters")
    text = _clean_body(body)
    _check_files(files)
    identity = session.get(CustomerIdentity, identity_id)
    if identity is None:
        raise InvalidInput("sign in again")
    channel = sending_channel(session)
    ticket = open_ticket(
        session,
        prefix=reference_prefix,
        subject=mask_sensitive(subject).text,
        customer_id=customer_id,
        contact_identity_id=identity.id,
        channel_id=channel.id if channel else None,
        channel_kind=ChannelKind.EMAIL,
    )
    ticket.team_id = team_id
    _add_message(session, blobs, ticket, identity, name, text, files)
    return ticket
