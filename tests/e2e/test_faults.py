"""Faults an operator will meet: SMTP refusing mail, and a process killed mid-ingest."""

from __future__ import annotations

import subprocess
from collections import defaultdict
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from sqlalchemy import func
from sqlmodel import col, select

from inbox.db import Database
from inbox.models import InboundItem, Message, Ticket
from tests.support.dovecot import DovecotServer
from tests.support.fixtures import MailboxUser
from tests.support.processes import Deployment, running, wait_for
from tests.support.served import api, customer_mail, setup_desk
from tests.support.smtp_peer import SmtpPeer

MAILS = 500


def _ack_delivery(server: Deployment, headers: dict[str, str], state: str) -> dict[str, str]:
    def check() -> dict[str, str] | None:
        items = api(server, headers, "GET", "/tickets")["items"]
        if not items:
            return None
        messages = api(server, headers, "GET", f"/tickets/{items[0]['reference']}")["messages"]
        ack = [m for m in messages if m["direction"] == "outbound"]
        return ack[0] if ack and ack[0]["delivery"] == state else None

    return wait_for(check, timeout=90, what=f"the acknowledgement to be {state}")


def test_smtp_451_is_retried_and_then_sent(
    server: Deployment, dovecot: DovecotServer, mailbox_user: MailboxUser, smtp_peer: SmtpPeer
) -> None:
    smtp_peer.respond_with(["451 4.3.0 Try again later"])
    headers = setup_desk(server, mailbox_user, smtp_peer)
    dovecot.append(mailbox_user.user, mailbox_user.password, customer_mail("Hi", "x").as_bytes())

    _ack_delivery(server, headers, "sent")
    assert smtp_peer.attempts == 2
    assert len(smtp_peer.received) == 1


def test_smtp_550_marks_the_message_failed_on_the_ticket(
    server: Deployment, dovecot: DovecotServer, mailbox_user: MailboxUser, smtp_peer: SmtpPeer
) -> None:
    smtp_peer.always("550 5.1.1 No such user")
    headers = setup_desk(server, mailbox_user, smtp_peer)
    dovecot.append(mailbox_user.user, mailbox_user.password, customer_mail("Hi", "x").as_bytes())

    ack = _ack_delivery(server, headers, "failed")
    assert "550" in ack["delivery_error"]
    assert smtp_peer.attempts == 1


def _many_customers(count: int) -> list[bytes]:
    raws = []
    for number in range(count):
        msg = EmailMessage()
        msg["From"] = f"Customer {number} <customer{number}@example.org>"
        msg["To"] = "support@example.test"
        msg["Subject"] = f"Question number {number}"
        msg["Message-ID"] = make_msgid(domain="example.org")
        msg.set_content(f"Hello, this is question {number}.\n" * 20)
        raws.append(msg.as_bytes())
    return raws


def _children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(line) for line in found.stdout.split()]


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status  # a zombie has exited; only its entry is left


def test_ingesting_process_killed_mid_batch_loses_and_duplicates_nothing(
    deployment: Deployment, dovecot: DovecotServer, mailbox_user: MailboxUser, smtp_peer: SmtpPeer
) -> None:
    db = Database(deployment.env["INBOX_DATABASE_URL"])
    dovecot.append_many(mailbox_user.user, mailbox_user.password, _many_customers(MAILS))

    def tickets() -> int:
        with db.reading() as session:
            return session.exec(select(func.count()).select_from(Ticket)).one()

    with running(deployment) as desk:
        setup_desk(desk, mailbox_user, smtp_peer)
        wait_for(lambda: tickets() >= 40, timeout=180, what="ingestion to be under way", every=0.02)
        helpers = _children(desk.ingesting.process.pid if desk.ingesting.process else 0)
        assert helpers, "mail is parsed in processes of its own"
        desk.ingesting.kill()
        at_kill = tickets()
        # The parser processes go with it, rather than lingering as orphans.
        wait_for(lambda: not any(map(_alive, helpers)), timeout=15, what="parser processes to exit")
        desk.ingesting.start()
        desk.wait_healthy()
        wait_for(lambda: tickets() == MAILS or None, timeout=240, what=f"{MAILS} tickets")
        smtp_peer.wait_for(MAILS, timeout=240)

    assert at_kill < MAILS, "the kill came too late to test anything"
    with db.reading() as session:
        inbound = session.exec(
            select(Message.external_id).where(Message.direction == "inbound")
        ).all()
        states = dict(
            session.exec(
                select(InboundItem.state, func.count()).group_by(col(InboundItem.state))
            ).all()
        )
    db.dispose()
    assert len(inbound) == MAILS and len(set(inbound)) == MAILS
    assert states == {"done": MAILS}

    message_ids_per_ticket: dict[str, set[str]] = defaultdict(set)
    for received in smtp_peer.received:
        reference = str(received.message["Subject"]).split("]")[0].lstrip("[")
        message_ids_per_ticket[reference].add(str(received.message["Message-ID"]))
    assert len(message_ids_per_ticket) == MAILS
    assert all(len(ids) == 1 for ids in message_ids_per_ticket.values())
    assert len(smtp_peer.received) == MAILS
