"""A visitor's ``hello``: known again by their signed token, or new; verified when the site
signed its user's id with the channel's identity secret. A typed email is a claim only."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from inbox.actions.customers import find_identity, resolve_customer
from inbox.models import Channel, ChatConversation, ChatVisitor, CustomerIdentity, utcnow
from inbox.models.kinds import IdentityKind
from inbox.rules.chat import Hello, identity_proven, visitor_from_token, visitor_token
from inbox.signing import SecretBox


@dataclass(frozen=True)
class Greeting:
    visitor: ChatVisitor
    token: str
    conversation: ChatConversation | None


class IdentityRefused(ValueError):
    """``identity.hash`` is not the channel's signature of ``identity.id``."""


def greet_visitor(
    session: Session, secret: bytes, box: SecretBox, channel: Channel, hello: Hello
) -> Greeting:
    from inbox.actions.chat.conversations import open_conversation_of

    visitor: ChatVisitor | None = None
    if hello.token:
        visitor_id = visitor_from_token(secret, hello.token)
        found = session.get(ChatVisitor, visitor_id) if visitor_id else None
        if found is not None and found.channel_id == channel.id:
            visitor = found
    if hello.identity is not None:
        identity_secret = str(box.open(channel.secrets_encrypted).get("identity_secret", ""))
        if not identity_secret or not identity_proven(identity_secret, hello.identity):
            raise IdentityRefused("identity.hash does not sign identity.id")
        if visitor is not None and visitor.verified and visitor.external_id != hello.identity.id:
            visitor = None  # another signed-in user on the same browser: a visitor of their own
        if visitor is None or not visitor.verified:
            visitor = _verified_visitor(session, channel, hello, visitor)
    if visitor is None:
        visitor = ChatVisitor(channel_id=channel.id or 0)
    if hello.name and not visitor.verified:
        visitor.name = hello.name
    if hello.email and not visitor.verified and hello.email != visitor.claimed_email:
        # A claim: joins no customer, is mailed nothing but its confirmation link.
        visitor.claimed_email = hello.email
        visitor.email_proven_at = None
    visitor.last_seen_at = utcnow()
    session.add(visitor)
    session.flush()
    conversation = open_conversation_of(session, visitor.id or 0)
    return Greeting(visitor, visitor_token(secret, visitor.id or 0), conversation)


def _verified_visitor(
    session: Session, channel: Channel, hello: Hello, anonymous: ChatVisitor | None
) -> ChatVisitor:
    """The site's proven user: their chat identity on this channel, on the customer of the
    email the site vouched for when there is one. An anonymous visitor of this browser
    becomes them (the chat they had started goes with them)."""
    assert hello.identity is not None
    ident = hello.identity
    name = ident.name or hello.name
    value = f"site:{channel.id}:{ident.id}"
    identity = find_identity(session, IdentityKind.CHAT_VISITOR, value)
    if identity is None and ident.email:
        email = find_identity(session, IdentityKind.EMAIL, ident.email)
        if email is not None:
            identity = CustomerIdentity(
                customer_id=email.customer_id, kind=IdentityKind.CHAT_VISITOR, value=value
            )
            session.add(identity)
            session.flush()
    if identity is None:
        customer, identity = resolve_customer(
            session, kind=IdentityKind.CHAT_VISITOR, value=value, name=name or ident.id
        )
        if ident.email and find_identity(session, IdentityKind.EMAIL, ident.email) is None:
            session.add(
                CustomerIdentity(
                    customer_id=customer.id or 0,
                    kind=IdentityKind.EMAIL,
                    value=ident.email,
                    verified_at=utcnow(),
                )
            )
    identity.verified_at = identity.verified_at or utcnow()
    session.add(identity)
    # The same user on another browser is the same visitor, with the same conversation.
    known = session.exec(
        select(ChatVisitor).where(
            ChatVisitor.channel_id == channel.id,
            ChatVisitor.external_id == ident.id,
            col(ChatVisitor.verified).is_(True),
        )
    ).first()
    visitor = known or anonymous or ChatVisitor(channel_id=channel.id or 0)
    visitor.verified = True
    visitor.external_id = ident.id
    visitor.customer_id = identity.customer_id
    visitor.identity_id = identity.id
    visitor.name = name or visitor.name
    if ident.email:
        visitor.claimed_email = ident.email
    return visitor
