"""The whole email story against real servers: Dovecot in, aiosmtpd out, the real CLI and API."""

from __future__ import annotations

import signal
from typing import Any

from tests.support.dovecot import DovecotServer
from tests.support.fixtures import MailboxUser
from tests.support.processes import STOP_GRACE, Deployment, wait_for
from tests.support.served import SUPPORT, api, customer_mail, setup_desk
from tests.support.smtp_peer import Received, SmtpPeer


def wait_for_messages(
    server: Deployment, headers: dict[str, str], reference: str, count: int
) -> Any:
    def check() -> Any:
        ticket = api(server, headers, "GET", f"/tickets/{reference}")
        return ticket if len(ticket["messages"]) >= count else None

    return wait_for(check, timeout=30, what=f"{count} messages on {reference}")


def test_mail_in_acknowledgement_out_and_replies_thread_both_ways(
    server: Deployment, dovecot: DovecotServer, mailbox_user: MailboxUser, smtp_peer: SmtpPeer
) -> None:
    headers = setup_desk(server, mailbox_user, smtp_peer)  # the channel is added while serve runs

    first = customer_mail("Locked out of my account", "I typed my password wrong three times.")
    dovecot.append(mailbox_user.user, mailbox_user.password, first.as_bytes())

    items = wait_for(
        lambda: api(server, headers, "GET", "/tickets")["items"], timeout=30, what="the ticket"
    )
    reference = items[0]["reference"]
    assert items[0]["subject"] == "Locked out of my account"

    ack: Received = smtp_peer.wait_for(1, timeout=30)[0]
    assert ack.rcpt_tos == ("maria@example.org",)
    assert ack.message["Subject"] == f"[{reference}] Locked out of my account"
    assert reference in ack.message.get_content()
    assert ack.message["Auto-Submitted"] == "auto-replied"
    assert SUPPORT in str(ack.message["From"])

    # The customer answers the acknowledgement from their mail client.
    reply = customer_mail(
        f"Re: {ack.message['Subject']}",
        "Any news?\n\n> Thank you for contacting Support.",
        To=str(ack.message["Reply-To"]),
        In_Reply_To=str(ack.message["Message-ID"]),
        References=str(ack.message["Message-ID"]),
    )
    dovecot.append(mailbox_user.user, mailbox_user.password, reply.as_bytes())
    ticket = wait_for_messages(server, headers, reference, 3)
    assert len(api(server, headers, "GET", "/tickets")["items"]) == 1
    assert ticket["messages"][2]["thread_reason"] == "reply_token"
    assert ticket["messages"][2]["display_text"].strip() == "Any news?"

    # The agent answers through the API; the mail threads in the customer's client.
    sent = api(
        server, headers, "POST", f"/tickets/{reference}/replies", json={"body": "Unlocked it."}
    )
    assert sent["delivery"] == "queued"
    answer = smtp_peer.wait_for(2, timeout=30)[1]
    assert answer.message["In-Reply-To"] == str(reply["Message-ID"])
    assert str(reply["Message-ID"]) in str(answer.message["References"])
    assert str(ack.message["Message-ID"]) in str(answer.message["References"])
    assert answer.message["Subject"] == f"Re: [{reference}] Locked out of my account"
    assert "+t" in str(answer.message["Reply-To"])
    assert answer.message["Auto-Submitted"] is None
    assert "Unlocked it." in answer.message.get_content()
    wait_for(
        lambda: (
            api(server, headers, "GET", f"/tickets/{reference}")["messages"][-1]["delivery"]
            == "sent"
        ),
        timeout=15,
        what="the reply to show as sent",
    )

    # A reply to the agent's answer from another client that only keeps In-Reply-To.
    again = customer_mail(
        "Re: your answer", "Works now, thanks!", In_Reply_To=str(answer.message["Message-ID"])
    )
    dovecot.append(mailbox_user.user, mailbox_user.password, again.as_bytes())
    ticket = wait_for_messages(server, headers, reference, 5)
    assert ticket["messages"][4]["thread_reason"] == "message_id"
    assert len(smtp_peer.received) == 2  # no acknowledgement for replies


def test_a_desk_watching_a_mailbox_stops_at_once_when_told_to(
    server: Deployment, dovecot: DovecotServer, mailbox_user: MailboxUser, smtp_peer: SmtpPeer
) -> None:
    """SIGTERM ends the mailbox watcher's IDLE: the process exits by itself, not killed."""
    headers = setup_desk(server, mailbox_user, smtp_peer)
    mail = customer_mail("Card declined", "My card was declined twice.")
    dovecot.append(mailbox_user.user, mailbox_user.password, mail.as_bytes())
    wait_for(lambda: api(server, headers, "GET", "/tickets")["items"], timeout=30, what="a ticket")

    watching = server.ingesting
    assert watching.process is not None
    watching.terminate()
    # uvicorn raises the signal again once it has shut down; a kill would be -SIGKILL.
    assert watching.process.wait(timeout=STOP_GRACE) in (0, -signal.SIGTERM)
