"""The customer portal's customers, Maria and Bob, and how they sign in: through the link the
desk mails (in the test process) or with the cookie such a link gives (a served desk); their
tickets, written in by mail. ``portal_tickets`` is a fixture: this module is a plugin
(``tests/conftest.py``)."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import cast

import pytest
from httpx import Response
from sqlmodel import col, select

from inbox.actions.portal.signin import issue_portal_link, sign_in_with_link
from inbox.db import Database
from inbox.models import Channel, CustomerIdentity, Outbox
from inbox.models.kinds import IdentityKind
from inbox.settings import Settings, load_settings
from inbox.web.portal.session import PORTAL_COOKIE
from tests.support.desk import make_channel, new_ticket, outbox_mail
from tests.support.processes import Deployment
from tests.support.served import desk_database
from tests.support.web import Client, csrf_token

MARIA = "maria@example.org"
BOB = "bob@example.net"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def ask_for_link(client: Client, email: str) -> Response:
    """Ask the portal's front page for a sign-in link for ``email``."""
    page = client.get("/portal")
    return client.post("/portal", data={"email": email, "_csrf_token": csrf_token(page.text)})


def mailed_links(db: Database, settings: Settings, email: str) -> list[str]:
    """The sign-in links in the mail queued for ``email``, oldest first."""
    with db.reading() as session:
        rows = session.exec(
            select(Outbox).where(Outbox.kind == "portal_link").order_by(col(Outbox.id))
        ).all()
    links = []
    for row in rows:
        mail = message_from_bytes(outbox_mail(settings, row), policy=policy.default)
        if email in str(mail["To"]):
            body = cast(EmailMessage, mail).get_body(("plain",))
            assert body is not None
            found = re.search(r"(https?://\S+/portal/sign-in\?token=\S+)", body.get_content())
            assert found
            links.append(found.group(1))
    return links


def follow_link(client: Client, link: str) -> Response:
    """Open the mailed link, then press the button on the page it shows."""
    path = link.split("://", 1)[1].split("/", 1)[1]
    page = client.get("/" + path)
    assert page.status_code == 200, page.text
    token = re.search(r'name="token" value="([^"]+)"', page.text)
    assert token
    return client.post(
        "/portal/sign-in",
        data={"token": token.group(1), "_csrf_token": csrf_token(page.text)},
        follow_redirects=False,
    )


def signed_in(client: Client, db: Database, settings: Settings, email: str) -> None:
    """The client signed in to the portal as ``email``, through the link the desk mailed."""
    assert ask_for_link(client, email).status_code == 200
    response = follow_link(client, mailed_links(db, settings, email)[-1])
    assert response.status_code == 303 and response.headers["location"] == "/portal/tickets"


@pytest.fixture
def portal_tickets(db: Database, settings: Settings) -> dict[str, str]:
    """Maria and Bob each wrote in once by mail, to the desk in the test process; their
    tickets' references."""
    channel = make_channel(db, settings)
    return {
        "maria": new_ticket(
            db, settings, channel, sender=f"Maria Lopez <{MARIA}>", subject="Card blocked"
        ),
        "bob": new_ticket(db, settings, channel, sender=f"Bob <{BOB}>", subject="Bob's refund"),
    }


def open_tickets(server: Deployment) -> dict[str, str]:
    """Maria and Bob each wrote in once by mail; their tickets' references."""
    return {
        "maria": write_in(server, f"Maria Lopez <{MARIA}>", "Card blocked"),
        "bob": write_in(server, f"Bob <{BOB}>", "Refund due"),
    }


def write_in(server: Deployment, sender: str, subject: str) -> str:
    """A new ticket, as a mail from ``sender`` opens it; its reference."""
    db = Database(server.env["INBOX_DATABASE_URL"])
    settings = load_settings(server.env)
    try:
        with db.reading() as session:
            channel = session.exec(select(Channel.id)).first()
        channel = channel or make_channel(db, settings)
        return new_ticket(db, settings, channel, sender=sender, subject=subject)
    finally:
        db.dispose()


def portal_cookie(server: Deployment, email: str) -> str:
    """A browser's cookie once the customer followed a mailed sign-in link."""
    with desk_database(server) as session:
        identity = session.exec(
            select(CustomerIdentity).where(
                CustomerIdentity.kind == IdentityKind.EMAIL, CustomerIdentity.value == email
            )
        ).one()
        link_token, _row = issue_portal_link(session, identity)
        return f"{PORTAL_COOKIE}={sign_in_with_link(session, link_token)}"
