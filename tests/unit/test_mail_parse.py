"""Parsing real-world and hostile mail: every fixture parses, nothing crashes, nothing leaks."""

from __future__ import annotations

from pathlib import Path

import pytest

from inbox.mail.parse import ParsedMail, UnparseableMail, parse_mail
from inbox.mail.quotes import strip_quoted
from inbox.mail.sanitize import html_to_text, sanitize_html

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "eml"
ALL = sorted(FIXTURES.glob("*.eml"))
NOT_MAIL = {"not_a_mail.bin.eml"}


def parse(name: str) -> ParsedMail:
    return parse_mail((FIXTURES / name).read_bytes())


def test_there_are_enough_fixtures() -> None:
    assert len(ALL) >= 30


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_every_fixture_parses_or_is_refused_as_not_a_mail(path: Path) -> None:
    raw = path.read_bytes()
    if path.name in NOT_MAIL:
        with pytest.raises(UnparseableMail):
            parse_mail(raw)
        return
    parsed = parse_mail(raw)
    assert "\x00" not in parsed.text and "\x00" not in parsed.subject
    assert "\n" not in parsed.subject and len(parsed.subject) <= 998
    assert parsed.new_text or not parsed.text
    for attachment in parsed.attachments:
        assert "/" not in attachment.filename and "\\" not in attachment.filename
        assert not any(ord(c) < 32 for c in attachment.filename)


def test_plain_text_mail() -> None:
    parsed = parse("plain_text.eml")
    assert parsed.subject == "Locked out of my account"
    assert (parsed.from_name, parsed.from_address) == ("Maria Lopez", "maria.lopez@example.org")
    assert parsed.to == ("support@example.com",)
    assert parsed.message_id == "lockedoutofmyaccount@mail.example.org"
    assert parsed.date is not None and parsed.date.utcoffset() is not None
    assert "account is locked" in parsed.text and parsed.html is None


def test_html_only_mail_gets_text_for_display_and_search() -> None:
    parsed = parse("html_only.eml")
    assert parsed.text.startswith("Hello team,")
    assert "color:red" not in parsed.text
    assert parsed.html is not None and "<b>team</b>" in parsed.html and "<style" not in parsed.html


def test_alternative_parts_keep_text_and_sanitized_html() -> None:
    parsed = parse("multipart_alternative.eml")
    assert parsed.text == "Plain version: I forgot my password."
    assert parsed.html == "<p>HTML version: I <i>forgot</i> my password.</p>"


def test_attachments_and_inline_images() -> None:
    [pdf] = parse("attachment_pdf.eml").attachments
    assert (pdf.filename, pdf.content_type, pdf.inline) == (
        "statement-march.pdf",
        "application/pdf",
        False,
    )
    assert pdf.data.startswith(b"%PDF")
    inline = parse("inline_cid_image.eml")
    [image] = inline.attachments
    assert image.inline and image.content_id == "shot1@example.org"
    assert inline.html is not None and 'src="cid:shot1@example.org"' in inline.html


def test_forwarded_message_is_parsed_and_kept() -> None:
    parsed = parse("forwarded_message.eml")
    [inner] = parsed.forwarded
    assert inner.subject == "Your payment failed"
    assert "---------- Forwarded message ----------" in parsed.text
    assert "49.00 EUR" in parsed.text
    assert parsed.attachments[0].content_type == "message/rfc822"


@pytest.mark.parametrize(
    ("name", "new_text"),
    [
        ("reply_gmail_quoted.eml", "Thanks, it works now!"),
        ("reply_outlook_quoted.eml", "Still not working, sorry."),
        ("reply_german_quoted.eml", "Danke, jetzt klappt es."),
        ("reply_apple_mail.eml", "Got it, thank you."),
    ],
)
def test_new_text_is_separated_from_quoted_history(name: str, new_text: str) -> None:
    parsed = parse(name)
    assert parsed.new_text == new_text
    assert len(parsed.text) > len(parsed.new_text)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("charset_iso_8859_1.eml", "Grüße aus München"),
        ("charset_windows_1252.eml", "\u201cit\u2019s fine\u201d \u2013 but"),
        ("charset_shift_jis.eml", "パスワードを忘れました"),
        ("charset_koi8_r.eml", "Я не могу войти"),
        ("missing_charset_8bit.eml", "Café \u2013 naïve"),
    ],
)
def test_charsets_decode(name: str, expected: str) -> None:
    assert expected in parse(name).text


@pytest.mark.parametrize("name", ["charset_lying_utf8.eml", "charset_unknown.eml"])
def test_lying_or_unknown_charsets_decode_with_replacement_characters(name: str) -> None:
    parsed = parse(name)
    assert "\ufffd" in parsed.text
    assert parsed.defects


def test_encoded_words_and_rfc2231_filenames() -> None:
    parsed = parse("rfc2047_subjects.eml")
    assert parsed.subject == "Zahlung für März gescheitert"
    assert parsed.from_name == "Jürgen Müller"
    assert parse("rfc2231_filename.eml").attachments[0].filename == "Kontoauszug März 2024.pdf"
    assert parse("rfc2047_broken.eml").from_address == "broken@example.org"


def test_attachment_names_are_display_text_only() -> None:
    names = [a.filename for a in parse("attachment_path_traversal.eml").attachments]
    assert names == ["passwd", "evil.exe"]
    assert [a.filename for a in parse("attachment_control_chars.eml").attachments] == [
        "invoice.pdf"
    ]


def test_missing_headers_are_tolerated() -> None:
    assert parse("no_message_id.eml").message_id is None
    assert parse("no_date.eml").date is None
    no_from = parse("no_from.eml")
    assert no_from.from_address is None and no_from.text.startswith("There is no From")
    duplicated = parse("duplicate_headers.eml")
    assert duplicated.from_address == "first@example.org"
    assert duplicated.message_id == "dup1@example.org"


def test_broken_mime_keeps_the_text() -> None:
    assert "closing boundary never comes" in parse("broken_mime_no_end_boundary.eml").text
    missing = parse("broken_mime_boundary_missing.eml")
    assert "never contains the announced boundary" in missing.text
    assert missing.defects


def test_nul_bytes_are_removed() -> None:
    assert parse("nul_bytes.eml").text.strip() == "beforeafterend"


def test_pathological_input_is_bounded() -> None:
    huge = parse("huge_header_line.eml")
    assert len(huge.subject) <= 998
    nested = parse("deeply_nested.eml")
    assert any("nesting" in d for d in nested.defects)
    stuffed = parse("link_stuffed.eml")
    assert stuffed.html is not None and "spam19999.example" in stuffed.html
    capped = parse_mail((FIXTURES / "plain_text.eml").read_bytes(), max_text_chars=20)
    assert len(capped.text) <= 20 and "text truncated" in capped.defects


def test_script_and_event_handlers_never_survive_sanitizing() -> None:
    html = parse("hostile_html.eml").html
    assert html is not None
    lowered = html.lower()
    for forbidden in (
        "<script", "onload", "onerror", "javascript:", "data:", "<svg", "<form", "<iframe",
        "<object", "<meta", "expression(", "style=", "tracker.example", "evil.example",
    ):  # fmt: skip
        assert forbidden not in lowered, forbidden
    assert 'href="https://example.com/help"' in html
    assert 'rel="noopener noreferrer nofollow"' in html


def test_remote_images_and_tracking_pixels_are_dropped() -> None:
    html = parse("tracking_pixel.eml").html
    assert html is not None and "track.example.net" not in html
    assert "quick question about fees" in html


@pytest.mark.parametrize(
    ("name", "auto", "bulk"),
    [
        ("auto_reply.eml", True, False),
        ("out_of_office_x_autoreply.eml", True, False),
        ("bulk_list_mail.eml", False, True),
        ("plain_text.eml", False, False),
    ],
)
def test_automatic_and_bulk_mail_is_recognised(name: str, auto: bool, bulk: bool) -> None:
    parsed = parse(name)
    assert (parsed.is_auto_reply, parsed.is_bulk) == (auto, bulk)


def test_dsn_bounce_names_failed_recipient_and_original_message_id() -> None:
    parsed = parse("dsn_bounce.eml")
    assert parsed.is_bounce
    assert parsed.bounce_recipients == ("gone@example.org",)
    assert parsed.bounce_original_message_id == "1.abc.def@example.com"


def test_mailer_daemon_bounce_without_dsn_structure_is_still_a_bounce() -> None:
    parsed = parse("mailer_daemon_plain_bounce.eml")
    assert parsed.is_bounce and parsed.return_path == ""


def test_authentication_results_and_delivered_to_are_read() -> None:
    parsed = parse("authentication_results.eml")
    assert ("mx.example.com", "dmarc", "pass") in {
        (r.authserv_id, r.method, r.result) for r in parsed.auth_results
    }
    assert parsed.delivered_to == ("support+t12.abcd@example.com", "support@example.com")


def test_calendar_invite_is_an_attachment() -> None:
    parsed = parse("calendar_invite.eml")
    assert [a.content_type for a in parsed.attachments] == ["text/calendar"]
    assert parsed.text.strip() == "Can we talk on Tuesday?"


def test_headers_only_parse_for_oversized_mail() -> None:
    raw = (FIXTURES / "attachment_pdf.eml").read_bytes().split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
    parsed = parse_mail(raw, headers_only=True)
    assert parsed.headers_only and parsed.subject == "Statement attached"
    assert parsed.text == "" and parsed.attachments == ()


def test_strip_quoted_never_returns_nothing() -> None:
    assert strip_quoted("> only quoted\n> lines") == "> only quoted\n> lines"
    assert strip_quoted("Hi\n-- \nMaria\nsignature") == "Hi"


def test_html_to_text_drops_scripts_and_styles() -> None:
    text = html_to_text("<style>x{}</style><script>alert(1)</script><p>A&amp;B</p><p>C</p>")
    assert text == "A&B\n\nC"


def test_sanitize_keeps_tables_and_links_but_not_handlers() -> None:
    html = sanitize_html(
        '<table><tr><td onclick="x()">1</td></tr></table><a href="mailto:a@b">m</a>'
    )
    assert "<td>1</td>" in html and "onclick" not in html and 'href="mailto:a@b"' in html
