"""The pure parts of agents' files: which replies take them, the composer's words for the
limits, the token that holds a reply's files, and the mail that carries them."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import cast

import pytest

from inbox.mail.compose import MailFile, OutboundMail, build_message, with_attachments
from inbox.rules.chat_files import ChatFile
from inbox.rules.reply_files import composer_files, held_file, held_token, reply_takes_files

SECRET = b"k" * 32
FILE = ChatFile("ab" * 32, "receipt.png", "image/png", 1234)


def _mail(body: str = "Hello Maria,\n\nthe receipt is attached.\n") -> bytes:
    return build_message(
        OutboundMail(
            from_name="Support",
            from_address="support@example.com",
            to_name="Maria Lopez",
            to_address="maria@example.org",
            reply_to="support+t@example.com",
            subject="Re: [HD-1] Card blocked",
            body_text=body,
            message_id="abc@example.com",
            date=datetime(2026, 3, 1, 12, tzinfo=UTC),
        )
    )


def _parsed(raw: bytes) -> EmailMessage:
    return cast(EmailMessage, message_from_bytes(raw, policy=policy.default))


@pytest.mark.parametrize("kind", ["email", "chat", "phone", ""])
def test_replies_by_mail_and_live_chat_take_files(kind: str) -> None:
    assert reply_takes_files(kind) and composer_files(kind).on_reply


@pytest.mark.parametrize("kind", ["telegram", "messenger", "instagram", "whatsapp", "x", "new"])
def test_replies_on_social_platforms_and_unknown_channels_take_none(kind: str) -> None:
    assert not reply_takes_files(kind)
    assert composer_files(kind).not_on_channel == "Files cannot be sent on this channel yet"


def test_the_composer_says_the_portals_limits_in_words() -> None:
    assert composer_files("email").limits == (
        "Up to 3 files of at most 5 MB each: PNG, JPEG, GIF or WebP screenshots and PDF documents."
    )


def test_a_held_file_is_its_agents_alone_signed_and_for_a_day() -> None:
    token = held_token(SECRET, 7, FILE, expires=2000)
    assert held_file(SECRET, token, 7, now=1000) == FILE
    assert held_file(SECRET, token, 8, now=1000) is None  # another agent
    assert held_file(SECRET, token, 7, now=2001) is None  # expired
    assert held_file(b"x" * 32, token, 7, now=1000) is None  # another desk
    changed = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    assert held_file(SECRET, changed, 7, now=1000) is None
    assert held_file(SECRET, "x" * 5000, 7, now=1000) is None


def test_a_mail_with_files_is_multipart_with_the_text_first_then_each_file() -> None:
    text = _mail()
    image, pdf = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40, b"%PDF-1.4\n%%EOF\n"
    files = [
        MailFile("receipt.png", "image/png", image),
        MailFile("fees.pdf", "application/pdf", pdf),
    ]

    raw = with_attachments(text, files)

    mail = _parsed(raw)
    assert mail.get_content_type() == "multipart/mixed" and not mail.defects
    assert (
        mail["Message-ID"] == "<abc@example.com>" and mail["Subject"] == "Re: [HD-1] Card blocked"
    )
    body = mail.get_body(("plain",))
    assert body is not None and body.get_content() == _parsed(text).get_content()  # unchanged
    parts = [
        (p.get_filename(), p.get_content_type(), p.get_content()) for p in mail.iter_attachments()
    ]
    assert parts == [("receipt.png", "image/png", image), ("fees.pdf", "application/pdf", pdf)]
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF line ends throughout
    assert with_attachments(text, files) == raw  # a resend is the same mail
    assert with_attachments(text, []) == text


def test_a_files_name_cannot_add_a_header_and_may_be_any_language() -> None:
    files = [
        MailFile('x.png"\r\nBcc: victim@example.net', "image/png", b"\x89PNG"),
        MailFile("Überweisung März.pdf", "application/pdf", b"%PDF-"),
        MailFile("odd.bin", "text/html\r\nX-Evil: 1", b"data"),
    ]
    mail = _parsed(with_attachments(_mail(), files))
    assert mail["Bcc"] is None
    names = [p.get_filename() for p in mail.iter_attachments()]
    assert names == ["x.png_ Bcc: victim@example.net", "Überweisung März.pdf", "odd.bin"]
    types = [p.get_content_type() for p in mail.iter_attachments()]
    assert types == ["image/png", "application/pdf", "application/octet-stream"]
    assert all(p["X-Evil"] is None for p in mail.walk())
