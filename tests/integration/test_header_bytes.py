"""Header fields as they arrive from the open internet, 8-bit bytes and NULs included: every
one is stored as text both databases take, so the mail becomes a ticket like any other."""

from __future__ import annotations

import pytest
from sqlmodel import select

from inbox.db import Database
from inbox.models import Attachment, InboundItem, Message
from inbox.settings import Settings
from tests.support.desk import ingest, ingest_batch, make_channel
from workers.parsing import InboundParser


def _raw(message_id: bytes, content_id: bytes, *, sender: bytes = b"maria@example.org") -> bytes:
    return (
        b"From: Maria <" + sender + b">\r\n"
        b"To: support@example.com\r\n"
        b"Subject: Broken headers\r\n"
        b"Message-ID: " + message_id + b"\r\n"
        b"X-Mailer: Caf\xe9 \x00Mailer\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b1"\r\n'
        b"\r\n"
        b"--b1\r\n"
        b"Content-Type: text/plain\r\n\r\n"
        b"My card does not work.\r\n"
        b"--b1\r\n"
        b"Content-Type: image/p\xe9ng\x00; name=scan.png\r\n"
        b"Content-ID: " + content_id + b"\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n"
        b"iVBORw0KGgo=\r\n"
        b"--b1--\r\n"
    )


HOSTILE = [
    pytest.param(b"<caf\xe9-1@example.org>", b"<img\xff1@example.org>", id="latin-1 bytes"),
    pytest.param(b"<nul\x00-2@example.org>", b"<img\x00-2@example.org>", id="NUL"),
    pytest.param(b"<utf8-\xc3\xa9-3@example.org>", b"<\xc3\xa9\x00\xe9@x>", id="mixed"),
]


def _stored(db: Database) -> tuple[Message, Attachment]:
    with db.reading() as session:
        message = session.exec(select(Message).where(Message.direction == "inbound")).one()
        attachment = session.exec(select(Attachment)).one()
    return message, attachment


@pytest.mark.parametrize(("message_id", "content_id"), HOSTILE)
def test_mail_with_8bit_or_nul_header_bytes_becomes_a_ticket(
    db: Database, settings: Settings, message_id: bytes, content_id: bytes
) -> None:
    channel = make_channel(db, settings)
    outcome = ingest(db, settings, channel, _raw(message_id, content_id))

    assert outcome.state == "done" and outcome.new_ticket
    message, attachment = _stored(db)
    assert message.subject == "Broken headers"
    assert message.external_id and "\x00" not in message.external_id
    assert attachment.content_id and "\x00" not in attachment.content_id
    assert "\x00" not in attachment.content_type


@pytest.mark.parametrize(("message_id", "content_id"), HOSTILE)
def test_a_batch_files_mail_with_8bit_or_nul_header_bytes_too(
    db: Database, settings: Settings, message_id: bytes, content_id: bytes
) -> None:
    channel = make_channel(db, settings)
    parser = InboundParser(0)
    try:
        ids, result = ingest_batch(db, settings, channel, [_raw(message_id, content_id)], parser)
    finally:
        parser.close()

    assert not result.failures and result.outcomes[ids[0]].new_ticket
    with db.reading() as session:
        assert session.exec(select(InboundItem.state)).one() == "done"


def test_the_same_odd_message_id_read_twice_is_filed_once(db: Database, settings: Settings) -> None:
    channel = make_channel(db, settings)
    raw = _raw(b"<caf\xe9\x00-4@example.org>", b"<i@x>")
    assert ingest(db, settings, channel, raw).new_ticket
    assert ingest(db, settings, channel, raw).state == "duplicate"
