"""A served desk (the ``server`` fixture) set up and driven from outside, as its operator and
its customers do: its database, the API and mail."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import httpx
from sqlmodel import Session, select

from connectors.email.urls import parse_mail_url
from inbox.actions.channels import add_email_channel
from inbox.actions.signin import agents
from inbox.actions.signin.tokens import create_api_token
from inbox.db import Database
from inbox.demo import load_demo
from inbox.models import Agent
from inbox.settings import load_settings
from inbox.signing import SecretBox
from tests.support.fixtures import MailboxUser
from tests.support.processes import Deployment, wait_for
from tests.support.smtp_peer import SmtpPeer

SUPPORT = "support@example.test"
PASSPHRASE = "a long enough passphrase"
WAIT = 60.0


@contextmanager
def desk_database(desk: Deployment) -> Iterator[Session]:
    """A unit of work on the served desk's database, from the test process."""
    db = Database(desk.env["INBOX_DATABASE_URL"])
    try:
        with db.unit_of_work() as session:
            yield session
    finally:
        db.dispose()


def desk_box(desk: Deployment) -> SecretBox:
    """What seals the served desk's channel secrets."""
    return SecretBox(load_settings(desk.env).secret_key)


# The set-up below goes through what ``inbox demo``, ``inbox agent create``, ``inbox token
# create`` and ``inbox channel add-email`` call (the commands themselves are tested in
# tests/integration/test_cli.py): a command is a process of its own that costs a second or
# more of CPU, and the suite sets up hundreds of desks.


def load_demo_desk(desk: Deployment) -> None:
    """What ``inbox demo`` loads (its output is tested in test_cli and test_portal)."""
    with desk_database(desk) as session:
        load_demo(session, load_settings(desk.env))


def create_agent(desk: Deployment, email: str, name: str, role: str = "agent") -> None:
    with desk_database(desk) as session:
        agents.create_agent(session, email=email, name=name, role=role, password=PASSPHRASE)


def api_token(desk: Deployment, email: str) -> str:
    with desk_database(desk) as session:
        agent = session.exec(select(Agent).where(Agent.email == email)).one()
        return create_api_token(session, agent, actor_label="tests")


def add_channel(
    desk: Deployment, mailbox: MailboxUser, smtp_url: str = "smtp://127.0.0.1:9"
) -> None:
    """The support mailbox as an email channel, watched every 5 s; mail out to ``smtp_url``
    (by default to a port where nothing listens)."""
    imap = parse_mail_url(mailbox.imap_url, protocol="imap")
    smtp = parse_mail_url(smtp_url, protocol="smtp")
    with desk_database(desk) as session:
        add_email_channel(
            session,
            desk_box(desk),
            name="Support",
            address=SUPPORT,
            imap_url=mailbox.imap_url,
            smtp_url=smtp_url,
            imap_redacted=imap.redacted(),
            smtp_redacted=smtp.redacted(),
            folder=imap.folder,
            poll_seconds=5,
        )


def setup_desk(desk: Deployment, mailbox: MailboxUser, smtp_peer: SmtpPeer) -> dict[str, str]:
    """An agent, a token and an email channel; auth headers."""
    create_agent(desk, "agent@example.test", "Alex Agent")
    token = api_token(desk, "agent@example.test")
    add_channel(desk, mailbox, smtp_peer.smtp_url())
    return {"Authorization": f"Bearer {token}"}


def customer_mail(subject: str, body: str, **headers: str) -> EmailMessage:
    """Maria's mail to support; ``In_Reply_To="<id>"`` becomes an ``In-Reply-To`` header."""
    msg = EmailMessage()
    msg["From"] = "Maria Lopez <maria@example.org>"
    msg["To"] = headers.pop("To", SUPPORT)
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="mail.example.org")
    for key, value in headers.items():
        msg[key.replace("_", "-")] = value
    msg.set_content(body)
    return msg


def api(desk: Deployment, headers: dict[str, str], method: str, path: str, **kw: Any) -> Any:
    response = httpx.request(
        method, f"{desk.base_url}/api/v1{path}", headers=headers, timeout=10, **kw
    )
    assert response.status_code < 300, response.text
    return response.json()


def wait_for_ticket(desk: Deployment, token: str, subject: str) -> str:
    """The reference of the ticket with this subject, once the desk has filed it."""

    def reference() -> str | None:
        items = api(desk, {"Authorization": f"Bearer {token}"}, "GET", "/tickets")["items"]
        return next((str(i["reference"]) for i in items if i["subject"] == subject), None)

    return wait_for(reference, timeout=WAIT, what=f"a ticket {subject!r}")
