"""Files an agent attaches in the ticket page's composer: a reply's go to the customer as mail
attachments (to a real SMTP server), a note's stay with the agents, a file that is not what its
name says is refused with the text kept, a social ticket takes none, and a double submit sends
one reply with one set of files. Runs unchanged on SQLite and on PostgreSQL
(``INBOX_TEST_DATABASE=postgres``)."""

from __future__ import annotations

import hashlib
import html
import re
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from inbox.actions.customers import resolve_customer
from inbox.actions.tickets import open_ticket
from inbox.db import Database
from inbox.models import Attachment, Message, Outbox
from inbox.models.kinds import IdentityKind
from inbox.settings import Settings
from tests.support.chat_files import EXE, PDF, png
from tests.support.desk import (
    ingest,
    mail,
    make_agent,
    make_channel,
    new_ticket,
)
from tests.support.smtp_peer import SmtpPeer
from tests.support.social_desk import add_channel
from tests.support.web import Client, csrf_token, sign_in
from workers.actors import deliver_outbox_items

HX = {"HX-Request": "true"}
MARIA = "maria@example.org"


def _login(client: Client, email: str = "agent@example.com") -> str:
    sign_in(client, email)
    return csrf_token(client.get("/tickets").text)


def _form(page: str, body: str, token: str) -> dict[str, str]:
    """What the reply form sends besides its files: the text, the newest message it showed,
    its idempotency key and the CSRF token."""
    seen = re.search(r'name="seen_message_id" value="(\d+)"', page)
    key = re.search(
        r'<form class="composer reply".*?name="idempotency_key" value="([^"]+)"', page, re.S
    )
    assert seen and key
    return {
        "body": body,
        "seen_message_id": seen.group(1),
        "idempotency_key": key.group(1),
        "_csrf_token": token,
    }


def _files(*named: tuple[str, bytes, str]) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("files", item) for item in named]


def _replies(db: Database) -> list[Outbox]:
    with db.reading() as session:
        return list(session.exec(select(Outbox).where(Outbox.kind == "reply")).all())


def _attachments(db: Database) -> list[tuple[int, str, str, int]]:
    with db.reading() as session:
        return [
            (a.message_id, a.filename, a.content_type, a.size)
            for a in session.exec(select(Attachment).order_by(col(Attachment.id)))
        ]


def _outbound(db: Database) -> list[Message]:
    with db.reading() as session:
        return list(
            session.exec(
                select(Message)
                .where(Message.direction != "inbound", col(Message.is_automatic).is_(False))
                .order_by(col(Message.id))
            ).all()
        )


def _blob_count(settings: Settings) -> int:
    root = Path(settings.blob_dir)
    return sum(1 for p in root.rglob("*") if p.is_file()) if root.exists() else 0


def test_a_reply_with_a_png_and_a_pdf_is_mailed_with_both_as_attachments(
    client: Client, db: Database, settings: Settings, smtp_peer: SmtpPeer
) -> None:
    make_agent(db)
    channel = make_channel(db, settings, smtp_url=smtp_peer.smtp_url())
    reference = new_ticket(db, settings, channel, sender=f"Maria Lopez <{MARIA}>")
    token = _login(client)
    page = client.get(f"/tickets/{reference}").text
    assert 'enctype="multipart/form-data"' in page and 'id="reply-files"' in page
    assert "Up to 3 files of at most 5 MB each: PNG, JPEG, GIF or WebP" in page
    image = png()

    answer = client.post(
        f"/tickets/{reference}/replies",
        data=_form(page, "Here is what we see on our side.", token),
        files=_files(("Screen Shot 12:04.png", image, "image/png"), ("fees.pdf", PDF, "x/y")),
        headers=HX,
    )

    assert answer.status_code == 200, answer.text
    assert 'class="error"' not in answer.text.split('<div class="dock"')[0]
    [reply] = _outbound(db)
    assert _attachments(db) == [
        (reply.id, "Screen Shot 12_04.png", "image/png", len(image)),
        (reply.id, "fees.pdf", "application/pdf", len(PDF)),
    ]
    # The timeline shows them as it shows a customer's files.
    timeline = answer.text.split(f'id="message-{reply.id}"')[1].split("</ul>")[0]
    assert "Screen Shot 12_04.png" in timeline and "fees.pdf" in timeline
    [row] = _replies(db)
    assert image not in row.payload and PDF not in row.payload  # the row keeps the text alone

    deliver_outbox_items([row.id or 0])

    [received] = smtp_peer.wait_for(1)
    assert received.rcpt_tos == (MARIA,)
    message = received.message
    assert message.get_content_type() == "multipart/mixed"
    body = message.get_body(("plain",))
    assert body is not None and "Here is what we see on our side." in body.get_content()
    parts = [
        (p.get_filename(), p.get_content_type(), p.get_content())
        for p in message.iter_attachments()
    ]
    assert parts == [
        ("Screen Shot 12_04.png", "image/png", image),
        ("fees.pdf", "application/pdf", PDF),
    ]
    with db.reading() as session:
        sent = session.get(Message, reply.id)
        assert sent is not None and sent.delivery == "sent"
        assert message["Message-ID"] == f"<{sent.external_id}>"


def test_an_internal_note_with_a_file_stays_with_the_agents(
    client: Client, db: Database, settings: Settings
) -> None:
    make_agent(db)
    make_agent(db, email="max@example.com", name="Max Manager", role="manager")
    channel = make_channel(db, settings)
    reference = new_ticket(db, settings, channel)
    token = _login(client)
    assert 'id="note-files"' in client.get(f"/tickets/{reference}").text
    with db.reading() as session:
        queued_before = len(session.exec(select(Outbox)).all())

    answer = client.post(
        f"/tickets/{reference}/notes",
        data={"body": "@max the statement she sent, annotated", "_csrf_token": token},
        files=_files(("statement.pdf", PDF, "application/pdf")),
        headers=HX,
    )

    assert answer.status_code == 200 and "Notified Max Manager." in answer.text
    [note] = _outbound(db)
    assert note.kind == "internal_note"
    assert _attachments(db) == [(note.id, "statement.pdf", "application/pdf", len(PDF))]
    with db.reading() as session:
        queued = session.exec(select(Outbox).order_by(col(Outbox.id))).all()
    # One mail more: the mention to Max, which carries no file; nothing to the customer.
    assert [(o.kind, o.recipients) for o in queued[queued_before:]] == [
        ("mention", ["max@example.com"])
    ]
    assert PDF not in queued[-1].payload
    assert not [o for o in queued if MARIA in o.recipients and o.kind != "acknowledgement"]


def test_a_program_renamed_png_is_refused_with_the_text_kept_and_nothing_sent(
    client: Client, db: Database, settings: Settings
) -> None:
    make_agent(db)
    channel = make_channel(db, settings)
    reference = new_ticket(db, settings, channel)
    token = _login(client)
    page = client.get(f"/tickets/{reference}").text
    blobs_before = _blob_count(settings)

    answer = client.post(
        f"/tickets/{reference}/replies",
        data=_form(page, "Please run the attached tool.", token),
        files=_files(("fine.png", png(), "image/png"), ("holiday.png", EXE, "image/png")),
        headers=HX,
    )

    assert answer.status_code == 200  # htmx swaps the timeline with the refusal in it
    error = re.search(r'<p class="error" role="alert">([^<]*)</p>', answer.text)
    assert error, answer.text
    assert html.unescape(error.group(1)) == (
        "holiday.png: only PNG, JPEG, GIF or WebP screenshots and PDF documents can be "
        "attached. Nothing was sent."
    )
    assert ">Please run the attached tool.</textarea>" in answer.text
    assert _outbound(db) == [] and _replies(db) == [] and _attachments(db) == []
    assert _blob_count(settings) == blobs_before  # not even the good file was kept

    without_script = client.post(
        f"/tickets/{reference}/replies",
        data=_form(page, "Please run the attached tool.", token),
        files=_files(("holiday.png", EXE, "image/png")),
    )
    assert without_script.status_code == 422
    assert "holiday.png: only PNG" in without_script.text
    four = [(f"shot-{n}.png", png(8, 8), "image/png") for n in range(4)]
    too_many = client.post(
        f"/tickets/{reference}/replies",
        data=_form(page, "Four of them.", token),
        files=_files(*four),
        headers=HX,
    )
    assert "Attach at most 3 files to a message. Nothing was sent." in too_many.text
    assert _outbound(db) == [] and _attachments(db) == []


def _social_ticket(db: Database, settings: Settings) -> str:
    channel_id = add_channel(
        db,
        settings,
        "telegram",
        secrets={"token": "123456:AAE-test-token"},
        values={"api_url": "http://127.0.0.1:9"},
    )
    with db.unit_of_work() as session:
        customer, identity = resolve_customer(
            session, kind=IdentityKind.TELEGRAM_ID, value="4242", name="Ana"
        )
        ticket = open_ticket(
            session,
            prefix=settings.reference_prefix,
            subject="My transfer has not arrived",
            customer_id=customer.id or 0,
            contact_identity_id=identity.id,
            channel_id=channel_id,
            channel_kind="telegram",
        )
        return ticket.reference


def test_a_social_ticket_offers_no_file_input_and_refuses_files(
    client: Client, db: Database, settings: Settings
) -> None:
    make_agent(db)
    reference = _social_ticket(db, settings)
    token = _login(client)
    page = client.get(f"/tickets/{reference}").text
    assert 'id="reply-files"' not in page
    assert "Files cannot be sent on this channel yet" in page
    assert 'id="note-files"' in page  # a note stays with the agents: it takes files

    answer = client.post(
        f"/tickets/{reference}/replies",
        data={"body": "Here is the receipt.", "_csrf_token": token},
        files=_files(("receipt.png", png(), "image/png")),
        headers=HX,
    )

    assert "Files cannot be sent on this channel yet: send the reply without them" in answer.text
    assert ">Here is the receipt.</textarea>" in answer.text
    assert _outbound(db) == [] and _replies(db) == [] and _attachments(db) == []


def test_a_double_submit_stores_one_reply_with_one_set_of_files(
    client: Client, db: Database, settings: Settings
) -> None:
    make_agent(db)
    channel = make_channel(db, settings)
    reference = new_ticket(db, settings, channel)
    token = _login(client)
    form = _form(client.get(f"/tickets/{reference}").text, "The receipt, as promised.", token)
    files = _files(("receipt.png", png(), "image/png"))

    first = client.post(f"/tickets/{reference}/replies", data=form, files=files, headers=HX)
    again = client.post(f"/tickets/{reference}/replies", data=form, files=files, headers=HX)

    assert first.status_code == again.status_code == 200
    [reply] = _outbound(db)
    assert len(_replies(db)) == 1
    assert [a[:2] for a in _attachments(db)] == [(reply.id, "receipt.png")]
    assert again.text.count("receipt.png") == 1


def test_a_stale_reply_keeps_its_files_for_send_anyway(
    client: Client, db: Database, settings: Settings
) -> None:
    make_agent(db)
    channel = make_channel(db, settings)
    reference = new_ticket(db, settings, channel, message_id="<s1@example.org>")
    token = _login(client)
    form = _form(client.get(f"/tickets/{reference}").text, "See the receipt.", token)
    ingest(
        db, settings, channel, mail(body="Never mind!", headers={"In-Reply-To": "<s1@example.org>"})
    )
    image = png(20, 20)

    stale = client.post(
        f"/tickets/{reference}/replies",
        data=form,
        files=_files(("receipt.png", image, "image/png")),
        headers=HX,
    )

    assert "Send anyway" in stale.text and "With its files: receipt.png." in stale.text
    assert _outbound(db) == [] and _attachments(db) == []
    section = stale.text.split('<section class="stale-reply"')[1].split("</section>")[0]
    fields: dict[str, Any] = dict(re.findall(r'name="(\w+)" value="([^"]*)"', section))
    fields["body"] = html.unescape(fields["body"])
    fields["_csrf_token"] = token
    sent = client.post(f"/tickets/{reference}/replies", data=fields, headers=HX)
    assert sent.status_code == 200
    [reply] = _outbound(db)
    assert _attachments(db) == [(reply.id, "receipt.png", "image/png", len(image))]

    # A held file is the agent's own, and only as signed.
    make_agent(db, email="olga@example.com", name="Olga")
    client.cookies.clear()
    other = _login(client, "olga@example.com")
    changed = {**fields, "_csrf_token": other, "idempotency_key": "another-key-1"}
    refused = client.post(f"/tickets/{reference}/replies", data=changed, headers=HX)
    assert "a file of this reply is no longer held; attach it again" in refused.text
    assert len(_outbound(db)) == 1


@pytest.mark.parametrize("name", ["../../etc/passwd.png", "C:\\temp\\x.png"])
def test_a_files_name_is_display_text_never_a_path(
    client: Client, db: Database, settings: Settings, name: str
) -> None:
    make_agent(db)
    channel = make_channel(db, settings)
    reference = new_ticket(db, settings, channel)
    token = _login(client)
    image = png(9, 9)
    client.post(
        f"/tickets/{reference}/notes",
        data={"body": "screenshot", "_csrf_token": token},
        files=_files((name, image, "image/png")),
        headers=HX,
    )
    [(_, filename, _, _)] = _attachments(db)
    assert "/" not in filename and "\\" not in filename and filename.endswith(".png")
    stored = Path(settings.blob_dir).rglob(hashlib.sha256(image).hexdigest())
    assert len(list(stored)) == 1
