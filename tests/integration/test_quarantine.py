"""The quarantine: every mail that does not become a message is listed with its reason, on
/quarantine and in the API, and an agent can file it as a ticket after all (audited)."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from sqlmodel import func, select

from inbox.db import Database
from inbox.models import Attachment, AuditEvent, InboundItem, Message, Outbox, Ticket
from inbox.settings import Settings
from tests.support.bounces import delivery_report
from tests.support.desk import ingest, mail, make_agent, make_channel
from tests.support.web import Client, csrf_token, sign_in

GARBAGE = b"\x00\x01\x02 not a mail" * 40


def _own_mail_back(db: Database) -> bytes:
    """The desk's acknowledgement, come back in (a forwarding loop)."""
    with db.reading() as session:
        payload = session.exec(select(Outbox.payload)).first()
    assert payload is not None
    ack = message_from_bytes(payload, policy=default_policy)
    return mail(
        sender="Support <support@example.org>",
        subject=str(ack["Subject"]),
        message_id=str(ack["Message-ID"]),
    )


def _set_aside(db: Database, settings: Settings, channel: int) -> dict[str, int]:
    """One of each kind of mail that does not become a message; their item ids."""
    ingest(db, settings, channel, mail())
    ids = {}
    for name, raw in {
        "unparseable": GARBAGE,
        "unknown bounce": delivery_report(
            recipient="maria@example.org", original_message_id="x@elsewhere"
        ),
        "own mail": _own_mail_back(db),
        "loop": mail(sender="Support <support@example.com>", subject="From ourselves"),
    }.items():
        ingest(db, settings, channel, raw)
        with db.reading() as session:
            ids[name] = session.exec(select(func.max(InboundItem.id))).one()
    return ids


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_every_mail_that_is_no_message_is_listed_with_its_reason(
    db: Database, settings: Settings, client: Client
) -> None:
    channel = make_channel(db, settings)
    _agent, token = make_agent(db)
    ids = _set_aside(db, settings, channel)

    listed = client.get("/api/v1/quarantine", headers=_auth(token)).json()["items"]

    by_id = {item["id"]: item for item in listed}
    assert set(by_id) == set(ids.values())
    assert by_id[ids["unparseable"]]["state"] == "quarantined"
    assert by_id[ids["unparseable"]]["reason"].startswith("cannot be parsed")
    assert by_id[ids["unknown bounce"]]["reason"] == "a bounce that names no mail we sent"
    assert by_id[ids["unknown bounce"]]["sender"].endswith("<mailer-daemon@mx.example.net>")
    assert by_id[ids["own mail"]]["reason"] == "our own mail came back"
    assert by_id[ids["loop"]]["reason"] == "sent from the channel's own address"
    assert by_id[ids["loop"]]["subject"] == "From ourselves"

    sign_in(client)
    page = client.get("/quarantine").text
    for item_id in ids.values():
        assert f'action="/quarantine/{item_id}/ticket"' in page
    assert "a bounce that names no mail we sent" in page and "From ourselves" in page


@pytest.mark.parametrize("kind", ["unknown bounce", "own mail", "loop", "unparseable"])
def test_an_agent_files_a_set_aside_mail_as_a_ticket_and_it_is_audited(
    db: Database, settings: Settings, client: Client, kind: str
) -> None:
    channel = make_channel(db, settings)
    agent_id, _token = make_agent(db)
    item_id = _set_aside(db, settings, channel)[kind]
    acks_before = _acknowledgements(db)
    sign_in(client)
    form = csrf_token(client.get("/quarantine").text)

    filed = client.post(
        f"/quarantine/{item_id}/ticket", data={"_csrf_token": form}, follow_redirects=False
    )

    assert filed.status_code == 303
    reference = filed.headers["location"].rsplit("/", 1)[1]
    with db.reading() as session:
        ticket = session.exec(select(Ticket).where(Ticket.reference == reference)).one()
        messages = session.exec(select(Message).where(Message.ticket_id == ticket.id)).all()
        audit = session.exec(
            select(AuditEvent).where(AuditEvent.action == "inbound.filed_from_quarantine")
        ).one()
        item = session.get(InboundItem, item_id)
    assert [m.inbound_item_id for m in messages if m.kind == "email"] == [item_id]
    assert any("Filed from the quarantine" in m.body_text for m in messages)
    assert audit.actor_agent_id == agent_id and audit.detail["ticket"] == reference
    assert item is not None and item.state == "done"
    assert _acknowledgements(db) == acks_before  # nobody is answered automatically
    listed = client.get("/quarantine").text
    assert f'action="/quarantine/{item_id}/ticket"' not in listed

    again = client.post(f"/quarantine/{item_id}/ticket", data={"_csrf_token": form})
    assert again.status_code == 409


def test_unreadable_input_filed_as_a_ticket_keeps_the_bytes_attached(
    db: Database, settings: Settings, client: Client
) -> None:
    channel = make_channel(db, settings)
    _agent, token = make_agent(db)
    item_id = _set_aside(db, settings, channel)["unparseable"]

    created = client.post(f"/api/v1/quarantine/{item_id}/ticket", headers=_auth(token))

    assert created.status_code == 201, created.text
    ticket = created.json()
    assert ticket["subject"] == "(unreadable mail)"
    with db.reading() as session:
        attachment = session.exec(select(Attachment)).one()
    assert attachment.filename == "original.eml" and attachment.size == len(GARBAGE)
    missing = client.post("/api/v1/quarantine/999999/ticket", headers=_auth(token))
    assert missing.status_code == 404


def _acknowledgements(db: Database) -> int:
    with db.reading() as session:
        return len(session.exec(select(Outbox.id).where(Outbox.kind == "acknowledgement")).all())
