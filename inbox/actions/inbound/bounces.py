"""Delivery failures coming back as mail (DSNs and their informal cousins).

Anyone can write a delivery-status report naming any address, so a bounce counts only when
it is proven to concern a mail the desk sent (``inbox.rules.bounce_proof``): then it shows on
that mail's ticket, the mail is marked failed, and the failed recipients that mail went to are
marked undeliverable. A bounce that proves nothing is set aside for an agent to look at.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from inbox.actions.tickets import touch_ticket
from inbox.actions.timeline import record_system_event
from inbox.mail.parse import ParsedMail
from inbox.models import Channel, CustomerIdentity, Message, Outbox, Ticket, utcnow
from inbox.models.kinds import Direction, IdentityKind
from inbox.rules.bounce_proof import BounceClaims, read_bounce
from inbox.settings import Settings


def file_bounce(
    session: Session,
    settings: Settings,
    channel: Channel,
    inbound_item_id: int,
    parsed: ParsedMail,
    external_id: str,
) -> str | None:
    """Files a proven bounce: returns its ticket's reference ("" when the bounced mail was
    about no ticket), or None when the bounce proves no mail of ours, and changes nothing.

    The event on the ticket keeps the bounce's ``external_id``, so the same bounce read
    again (a mailbox whose UIDs were reset) is recognised as filed."""
    claims = read_bounce(parsed, secret=settings.secret_key)
    message = _returned_message(session, claims.returned_ids)
    ticket = _proven_ticket(session, message, claims)
    if ticket is None:
        # One of our signed ids for mail about no ticket (to an agent, to a contact on file):
        # ours, so not set aside, but there is nothing to show it on and nobody to mark.
        return "" if any(ticket_id == 0 for _, ticket_id in claims.signed) else None
    failed = _mailed(session, parsed.bounce_recipients, message, ticket)
    _mark_undeliverable(session, failed, f"mail on {ticket.reference} bounced")
    error = "bounced: " + ", ".join(parsed.bounce_recipients or ("recipient",))
    if message is not None:
        message.delivery = "failed"
        message.delivery_error = error[:1000]
        session.add(message)
    record_system_event(
        session,
        ticket,
        None,
        error + "\n\n" + parsed.text[:5000],
        author_label="mail system",
        display_text=error,
        channel_id=channel.id,
        channel_kind=channel.kind,
        external_id=external_id,
        inbound_item_id=inbound_item_id,
        is_automatic=True,
    )
    touch_ticket(session, ticket)
    return ticket.reference


def _returned_message(session: Session, returned_ids: Sequence[str]) -> Message | None:
    """The mail the desk sent that the bounce names, by its stored Message-ID."""
    if not returned_ids:
        return None
    found = {
        m.external_id: m
        for m in session.exec(
            select(Message).where(
                col(Message.external_id).in_(returned_ids),
                Message.direction == Direction.OUTBOUND,
            )
        ).all()
    }
    return next((found[i] for i in returned_ids if i in found), None)


def _proven_ticket(
    session: Session, message: Message | None, claims: BounceClaims
) -> Ticket | None:
    if message is not None:
        return session.get(Ticket, message.ticket_id)
    signed = [ticket_id for _, ticket_id in claims.signed if ticket_id]
    for ticket_id in dict.fromkeys([*signed, *claims.token_ticket_ids]):
        ticket = session.get(Ticket, ticket_id)
        if ticket is not None:
            return ticket
    return None


def _mailed(
    session: Session, addresses: Sequence[str], message: Message | None, ticket: Ticket
) -> list[str]:
    """The failed recipients the desk did send the proven mail to: that message, else mail
    on that ticket."""
    if not addresses:
        return []
    same = Outbox.message_id == message.id if message else Outbox.ticket_id == ticket.id
    found = session.exec(
        select(Outbox.recipient).where(col(Outbox.recipient).in_(addresses), same)
    ).all()
    return sorted(set(found))


def _mark_undeliverable(session: Session, addresses: Sequence[str], reason: str) -> None:
    if not addresses:
        return
    for identity in session.exec(
        select(CustomerIdentity).where(
            CustomerIdentity.kind == IdentityKind.EMAIL,
            col(CustomerIdentity.value).in_(addresses),
        )
    ).all():
        identity.undeliverable_at = utcnow()
        identity.undeliverable_reason = reason[:500]
        session.add(identity)
