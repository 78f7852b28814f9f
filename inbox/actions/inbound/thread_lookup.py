"""Looking up the candidates a mail's threading signals name; the rules are pure code."""

from __future__ import annotations

from sqlmodel import Session, col, select

from inbox.mail.parse import ParsedMail
from inbox.models import CustomerIdentity, Message, Ticket
from inbox.rules.thread_match import ThreadDecision, decide, read_signals
from inbox.settings import Settings


def find_thread(
    session: Session, settings: Settings, parsed: ParsedMail, identity: CustomerIdentity | None
) -> ThreadDecision:
    signals = read_signals(parsed, secret=settings.secret_key, prefix=settings.reference_prefix)
    candidate_ids = {*signals.token_ticket_ids, *signals.signed_ticket_ids}
    existing = (
        set(session.exec(select(Ticket.id).where(col(Ticket.id).in_(candidate_ids))).all())
        if candidate_ids
        else set()
    )
    stored: tuple[int, ...] = ()
    if signals.referenced_ids:
        stored = tuple(
            dict.fromkeys(
                session.exec(
                    select(Message.ticket_id).where(
                        col(Message.external_id).in_(signals.referenced_ids[:50])
                    )
                ).all()
            )
        )
    subject_tickets: dict[int, bool] = {}
    if signals.subject_refs:
        for ticket in session.exec(
            select(Ticket).where(col(Ticket.reference).in_(signals.subject_refs))
        ).all():
            subject_tickets[ticket.id or 0] = takes_part(session, ticket, identity)
    return decide(
        signals,
        existing={i for i in existing if i is not None},
        stored_ticket_ids=stored,
        subject_tickets=subject_tickets,
    )


def takes_part(session: Session, ticket: Ticket, identity: CustomerIdentity | None) -> bool:
    if identity is None:
        return False
    if identity.customer_id == ticket.customer_id:
        return True
    return (
        session.exec(
            select(Message.id).where(
                Message.ticket_id == ticket.id, Message.author_identity_id == identity.id
            )
        ).first()
        is not None
    )
