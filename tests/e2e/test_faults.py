"""Faults an operator will meet: SMTP refusing mail, a process killed mid-ingest, and the
broker down while agents reply."""

from __future__ import annotations

import re
import subprocess
from collections import defaultdict
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, update
from sqlmodel import col, select

from inbox.db import Database
from inbox.models import InboundItem, Message, Ticket, utcnow
from tests.support.desks import SERVED
from tests.support.dovecot import DovecotServer
from tests.support.fixtures import MailboxUser
from tests.support.processes import Deployment, running, wait_for
from tests.support.redis_server import RedisServer
from tests.support.served import PASSPHRASE, WAIT, api, customer_mail, setup_desk, wait_for_ticket
from tests.support.services import require
from tests.support.smtp_peer import SmtpPeer
from tests.support.web import csrf_token, sign_in

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


@pytest.mark.slow
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
        # What it had stored but not filed waits out its lease (a minute), then the scheduler's
        # sweep files it: the minute is skipped here, the sweep is not.
        with db.unit_of_work() as session:
            session.execute(
                update(InboundItem)
                .where(col(InboundItem.state) == "pending")
                .values(lease_until=utcnow() - timedelta(seconds=1))
            )
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


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis of this test alone, to stop: the machine's shared one stays up."""
    require(RedisServer.available(), "Redis")
    with RedisServer(tmp_path / "redis") as server:
        yield server


@pytest.mark.services
def test_a_reply_while_the_broker_is_down_is_queued_sent_once_it_is_back_and_only_once(
    env: dict[str, str],
    tmp_path: Path,
    broker: RedisServer,
    dovecot: DovecotServer,
    mailbox_user: MailboxUser,
    smtp_peer: SmtpPeer,
) -> None:
    on_redis = {"INBOX_BROKER_URL": broker.url, "INBOX_REALTIME_URL": broker.url}
    deployment = Deployment({**env, **SERVED, **on_redis}, tmp_path / "desk", separate_workers=True)
    with running(deployment) as desk:
        headers = setup_desk(desk, mailbox_user, smtp_peer)
        dovecot.append(
            mailbox_user.user,
            mailbox_user.password,
            customer_mail("Refund for order 1182", "Where is my refund?").as_bytes(),
        )
        reference = wait_for_ticket(desk, headers["Authorization"][7:], "Refund for order 1182")
        smtp_peer.wait_for(1, timeout=WAIT)  # the acknowledgement

        broker.stop()
        # A client of the API retries after a lost answer, with the same idempotency key.
        reply = {"body": "Your refund left today."}
        answers = [
            httpx.post(
                f"{desk.base_url}/api/v1/tickets/{reference}/replies",
                json=reply,
                headers={**headers, "Idempotency-Key": "refund-1182-reply"},
                timeout=30,
            )
            for _ in range(2)
        ]
        assert [a.status_code for a in answers] == [201, 201], answers[0].text
        assert answers[0].json()["delivery"] == "queued"
        assert answers[1].json()["id"] == answers[0].json()["id"]
        # An agent clicks "Send reply" twice on the ticket page.
        with httpx.Client(base_url=desk.base_url, timeout=30) as browser:
            sign_in(browser, "agent@example.test", PASSPHRASE, next=None)  # type: ignore[arg-type]
            page = browser.get(f"/tickets/{reference}").text
            key = re.search(r'name="idempotency_key" value="([^"]+)"', page)
            assert key, "the reply form carries an idempotency key"
            form = {
                "_csrf_token": csrf_token(page),
                "body": "And the credit note is attached to your account.",
                "idempotency_key": key.group(1),
            }
            clicks = [
                browser.post(
                    f"/tickets/{reference}/replies", data=form, headers={"HX-Request": "true"}
                )
                for _ in range(2)
            ]
        assert [c.status_code for c in clicks] == [200, 200]
        assert clicks[1].text.count("And the credit note") == 1
        assert 'class="delivery delivery-queued">queued' in clicks[1].text
        assert len(smtp_peer.received) == 1  # nothing could be sent meanwhile

        broker.start()  # back, and empty: what was queued is in the tables
        smtp_peer.wait_for(3, timeout=WAIT)

        def delivered() -> list[dict[str, str]] | None:
            messages = api(desk, headers, "GET", f"/tickets/{reference}")["messages"]
            replies = [m for m in messages if m["direction"] == "outbound"][1:]
            return replies if all(m["delivery"] == "sent" for m in replies) else None

        replies = wait_for(delivered, timeout=WAIT, what="both replies to show as sent")
    assert [r["body_text"] for r in replies] == [reply["body"], form["body"]]
    bodies = [r.message.get_content().strip() for r in smtp_peer.received[1:]]
    assert sorted(bodies) == sorted((reply["body"], form["body"]))
