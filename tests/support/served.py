"""A served desk (the ``server`` fixture) set up and driven from outside, as its operator and
its customers do: the command line, the API and mail."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import httpx

from tests.support.fixtures import MailboxUser
from tests.support.processes import Deployment, run_cli, wait_for
from tests.support.smtp_peer import SmtpPeer

SUPPORT = "support@example.test"
PASSPHRASE = "a long enough passphrase"
WAIT = 60.0


def create_agent(desk: Deployment, email: str, name: str, role: str = "agent") -> None:
    run_cli(
        desk.env,
        *("agent", "create", "--email", email, "--name", name, "--role", role),
        "--password-stdin",
        stdin=PASSPHRASE + "\n",
    )


def api_token(desk: Deployment, email: str) -> str:
    return run_cli(desk.env, "token", "create", "--agent", email).strip().splitlines()[-1]


def add_channel(
    desk: Deployment, mailbox: MailboxUser, smtp_url: str = "smtp://127.0.0.1:9"
) -> None:
    """The support mailbox as an email channel; mail out to ``smtp_url`` (by default to a
    port where nothing listens)."""
    run_cli(
        desk.env,
        *("channel", "add-email", "--name", "Support", "--address", SUPPORT),
        *("--imap", mailbox.imap_url, "--smtp", smtp_url, "--poll-seconds", "5"),
    )


def setup_desk(desk: Deployment, mailbox: MailboxUser, smtp_peer: SmtpPeer) -> dict[str, str]:
    """An agent, a token and an email channel, all through the command line; auth headers."""
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
