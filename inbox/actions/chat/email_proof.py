"""A chat visitor's typed email address, from claim to proof.

Typed into the widget's form, an address is only a claim: it joins no customer and nothing of
a ticket is mailed to it. When the visitor's chat opens, the desk mails the address one thing:
a link to confirm it, which names no ticket and says nothing of the chat. Following the link
(and pressing its button: mail scanners open links) proves the address: the visitor's chats
join the customer of that address, and from then on an agent's answer to a visitor who has
gone is mailed there too (``inbox.actions.chat.replies``). A site's verified visitor proved
theirs through the site.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from inbox.actions.automatic_mail import queue_contact_mail
from inbox.actions.customers import find_identity, resolve_customer
from inbox.actions.tickets import touch_ticket
from inbox.actions.timeline import record_system_event
from inbox.errors import InvalidInput
from inbox.models import Channel, ChatConversation, ChatVisitor, CustomerIdentity, Ticket
from inbox.models.kinds import IdentityKind
from inbox.rules.chat import proof_holds, proof_token, proof_visitor
from inbox.settings import Settings

PROOF_KIND = "chat_email_proof"
PROOF_LIFETIME = timedelta(days=7)
INVALID_PROOF = (
    "This link is not valid, or has expired. Write to us again in the chat to get a new one."
)


def proven_email(visitor: ChatVisitor) -> str:
    """The visitor's address when it is theirs for sure: confirmed by its link, or vouched for
    by the site that signed the visitor's identity; else ''."""
    if visitor.claimed_email and (visitor.verified or visitor.email_proven_at is not None):
        return visitor.claimed_email
    return ""


def ask_for_proof(
    session: Session, settings: Settings, visitor: ChatVisitor, channel: Channel, *, now: datetime
) -> bool:
    """Mail the confirmation link to the address the visitor typed, once per address; False
    when there is nothing to prove or no email channel to send from."""
    if visitor.verified or not visitor.claimed_email or visitor.email_proven_at is not None:
        return False
    expires = now + PROOF_LIFETIME
    token = proof_token(
        settings.secret_key, visitor.id or 0, visitor.claimed_email, int(expires.timestamp())
    )
    address = visitor.claimed_email.strip().lower()
    digest = hashlib.sha256(address.encode()).hexdigest()[:16]
    body = (
        f"Hello{' ' + visitor.name if visitor.name else ''},\n\n"
        f"this address was given in a chat with {channel.name}. To have our answers mailed to"
        " it when you are not in the chat, confirm it:\n\n"
        f"{settings.base_url.rstrip('/')}/chat/confirm?token={token}\n\n"
        f"The link works for {PROOF_LIFETIME.days} days. If it was not you, ignore this mail:"
        " nothing more will be sent to this address.\n"
    )
    return queue_contact_mail(
        session,
        settings,
        to_address=visitor.claimed_email,
        to_name=visitor.name,
        kind=PROOF_KIND,
        key=f"{PROOF_KIND}:{visitor.id}:{digest}",
        subject="Confirm your email address",
        body=body,
        secret_expires_at=expires,
    )


def visitor_of_proof(
    session: Session, settings: Settings, token: str, *, now: datetime
) -> ChatVisitor:
    """The visitor a confirmation link is for, while it is good (for the address they gave
    last); ``InvalidInput`` otherwise."""
    named = proof_visitor(token)
    visitor = session.get(ChatVisitor, named[0]) if named else None
    if visitor is None or not proof_holds(
        settings.secret_key, token, visitor.claimed_email, int(now.timestamp())
    ):
        raise InvalidInput(INVALID_PROOF)
    return visitor


def prove_email(session: Session, settings: Settings, token: str, *, now: datetime) -> ChatVisitor:
    """The link was followed: the address is the visitor's. Their chats join the customer of
    that address (made if new); each ticket's timeline says so. Following it again changes
    nothing."""
    visitor = visitor_of_proof(session, settings, token, now=now)
    if visitor.email_proven_at is not None:
        return visitor
    address = visitor.claimed_email.strip().lower()
    customer, email = resolve_customer(
        session, kind=IdentityKind.EMAIL, value=address, name=visitor.name or address
    )
    email.verified_at = email.verified_at or now
    session.add(email)
    visitor.email_proven_at = now
    if visitor.identity_id is not None:  # the visitor's chat identity moves with them
        chat_identity = session.get(CustomerIdentity, visitor.identity_id)
        if chat_identity is not None and chat_identity.kind == IdentityKind.CHAT_VISITOR:
            chat_identity.customer_id = customer.id or 0
            session.add(chat_identity)
    visitor.customer_id = customer.id
    session.add(visitor)
    tickets = session.exec(
        select(Ticket)
        .join(ChatConversation, col(ChatConversation.ticket_id) == col(Ticket.id))
        .where(ChatConversation.visitor_id == visitor.id)
    ).all()
    for ticket in tickets:
        ticket.customer_id = customer.id or 0
        session.add(ticket)
        record_system_event(
            session,
            ticket,
            None,
            f"The visitor proved the address {address} by its confirmation link: answers"
            " given while they are away are mailed there.",
        )
        touch_ticket(session, ticket)
    return visitor


def email_contact(session: Session, visitor: ChatVisitor) -> CustomerIdentity | None:
    """The email identity an answer to the visitor may be mailed to, if their address is
    proven."""
    address = proven_email(visitor).strip()
    if not address:
        return None
    return find_identity(session, IdentityKind.EMAIL, address) or find_identity(
        session, IdentityKind.EMAIL, address.lower()
    )
