"""Signing in to the customer portal with a single-use link mailed to the customer's address.

Asking for a link answers the same for every address, known or not, and whether or not that
address has used up its links: only the mailbox owner learns anything. Requests count
against the network address they come from (``PORTAL_LINK_REQUESTS``, which says nothing of
the address asked for) and, silently, against the email address. The link's token and the
session's are stored hashed; the link works once, within ``LINK_LIFETIME``, and waits in the
outbox encrypted like every mailed secret.
"""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from inbox.actions.audit import record_audit
from inbox.actions.automatic_mail import queue_contact_mail
from inbox.actions.customers import find_identity
from inbox.actions.signin.agents import check_address_limit, record_address_attempt
from inbox.errors import InvalidInput, NotFound
from inbox.models import Customer, CustomerIdentity, PortalLink, PortalSession, utcnow
from inbox.models.kinds import IdentityKind
from inbox.rules.sign_in_limits import PORTAL_LINK_REQUESTS
from inbox.settings import Settings
from inbox.signing import hash_token, new_token

LINK_LIFETIME = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(days=1)
LINKS_PER_ADDRESS = 3
LINK_WINDOW = timedelta(hours=1)
INVALID_LINK = "This sign-in link is invalid, used or expired. Ask for a new one."
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def request_portal_link(session: Session, settings: Settings, *, email: str, address: str) -> None:
    """Mails a sign-in link to a known customer's address; silently nothing otherwise.
    TooManyAttempts once the network ``address`` has used up ``PORTAL_LINK_REQUESTS``,
    whatever the email."""
    check_address_limit(session, PORTAL_LINK_REQUESTS, address)
    record_address_attempt(session, PORTAL_LINK_REQUESTS, address)
    value = email.strip().lower()
    if len(value) > 320 or not _EMAIL.match(value):
        return
    identity = find_identity(session, IdentityKind.EMAIL, value)
    if identity is None or identity.undeliverable_at is not None:
        return
    recent = session.exec(
        select(func.count())
        .select_from(PortalLink)
        .where(
            PortalLink.identity_id == identity.id,
            col(PortalLink.created_at) >= utcnow() - LINK_WINDOW,
        )
    ).one()
    if recent >= LINKS_PER_ADDRESS:
        return
    token, row = issue_portal_link(session, identity)
    customer = session.get(Customer, identity.customer_id)
    link = portal_link_url(settings, token)
    queue_contact_mail(
        session,
        settings,
        to_address=identity.value,
        to_name=customer.name if customer else "",
        kind="portal_link",
        key=f"portal_link:{row.id}",
        secret_expires_at=row.expires_at,
        subject="Your sign-in link to the support portal",
        body=(
            "Hello,\n\n"
            "someone asked to sign in to the support portal with this address. To see your "
            f"requests and answer them, open\n\n    {link}\n\n"
            f"The link works once, within {LINK_LIFETIME.seconds // 60} minutes. If it was "
            "not you, ignore this mail: nobody can sign in without it.\n\n"
            "This is an automatic message.\n"
        ),
    )


def issue_portal_link(session: Session, identity: CustomerIdentity) -> tuple[str, PortalLink]:
    """A new sign-in link for ``identity``: its token (kept nowhere) and its row."""
    token = new_token()
    now = utcnow()
    row = PortalLink(
        identity_id=identity.id or 0,
        token_hash=hash_token(token),
        created_at=now,
        expires_at=now + LINK_LIFETIME,
    )
    session.add(row)
    session.flush()
    return token, row


def portal_link_url(settings: Settings, token: str) -> str:
    """Built from the configured base URL, never from a request's Host header."""
    return f"{settings.base_url}/portal/sign-in?token={token}"


def print_portal_link(session: Session, settings: Settings, *, email: str) -> str:
    """``inbox portal link``: a sign-in link for a known customer's address, for the operator
    to hand over (the demo desk sends no mail). Audited. NotFound for an address no customer
    has."""
    identity = find_identity(session, IdentityKind.EMAIL, email.strip().lower())
    if identity is None:
        raise NotFound("no customer has that email address")
    token, row = issue_portal_link(session, identity)
    record_audit(
        session,
        "portal.link_printed",
        target_type="customer_identity",
        target_id=identity.id or 0,
        detail={"link_id": row.id, "expires_at": row.expires_at.isoformat()},
    )
    return portal_link_url(settings, token)


def _live_link(session: Session, token: str) -> PortalLink | None:
    return session.exec(
        select(PortalLink).where(
            PortalLink.token_hash == hash_token(token),
            col(PortalLink.used_at).is_(None),
            col(PortalLink.expires_at) > utcnow(),
        )
    ).first()


def check_portal_link(session: Session, token: str) -> None:
    """InvalidInput unless ``token`` is a link that is neither used nor expired."""
    if not token or _live_link(session, token) is None:
        raise InvalidInput(INVALID_LINK)


def sign_in_with_link(session: Session, token: str, *, previous: str | None = None) -> str:
    """Spends the link and opens a portal session; its token, for the cookie. The session
    the browser held before (``previous``) ends here: a sign-in always starts a new one.
    Every other link mailed to the same address dies with this one."""
    row = _live_link(session, token) if token else None
    if row is None:
        raise InvalidInput(INVALID_LINK)
    now = utcnow()
    spent = session.execute(
        update(PortalLink)
        .where(col(PortalLink.id) == row.id, col(PortalLink.used_at).is_(None))
        .values(used_at=now)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        raise InvalidInput(INVALID_LINK)  # a concurrent request spent it first
    session.execute(
        update(PortalLink)
        .where(col(PortalLink.identity_id) == row.identity_id, col(PortalLink.used_at).is_(None))
        .values(used_at=now)
    )
    identity = session.get(CustomerIdentity, row.identity_id)
    if identity is not None and identity.verified_at is None:
        identity.verified_at = now  # the customer has just proved the address
        session.add(identity)
    if previous:
        end_portal_session(session, previous)
    session_token = new_token()
    session.add(
        PortalSession(
            token_hash=hash_token(session_token),
            identity_id=row.identity_id,
            expires_at=now + SESSION_LIFETIME,
        )
    )
    return session_token


def end_portal_session(session: Session, token: str) -> None:
    session.execute(delete(PortalSession).where(col(PortalSession.token_hash) == hash_token(token)))
