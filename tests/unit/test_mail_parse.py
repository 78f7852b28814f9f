"""Parsing real-world and hostile mail: every fixture parses, nothing crashes, nothing leaks."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inbox.mail.parse import FORWARD_LINE, ParsedMail, UnparseableMail, parse_mail

FIXTURES = Path(__file__).parent.parent / "fixtures" / "eml"
ALL = sorted(FIXTURES.glob("*.eml"))
NOT_A_MAIL = "not_a_mail.bin.eml"


def parse(name: str, *, max_text_chars: int = 1_000_000) -> ParsedMail:
    return parse_mail((FIXTURES / name).read_bytes(), max_text_chars=max_text_chars)


def header_block(name: str) -> bytes:
    return (FIXTURES / name).read_bytes().split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"


def test_there_are_enough_realistic_fixtures() -> None:
    assert len(ALL) >= 32


@pytest.mark.parametrize("path", ALL, ids=lambda path: path.name)
def test_every_fixture_parses_or_is_refused_as_not_a_mail(path: Path) -> None:
    raw = path.read_bytes()
    if path.name == NOT_A_MAIL:
        with pytest.raises(UnparseableMail):
            parse_mail(raw)
        return
    parsed = parse_mail(raw)
    for text in (parsed.text, parsed.new_text, parsed.subject, parsed.from_name):
        assert "\x00" not in text
    for line in (parsed.subject, parsed.from_name):
        assert "\r" not in line and "\n" not in line and len(line) <= 998
    assert parsed.new_text or not parsed.text
    assert parsed.date is None or parsed.date.tzinfo == UTC
    for address in (*parsed.to, *parsed.cc, *parsed.delivered_to, parsed.from_address or ""):
        assert address == address.lower()
    for attachment in parsed.attachments:
        assert not {"/", "\\"} & set(attachment.filename)
        assert attachment.filename and attachment.filename.isprintable()
        assert len(attachment.filename) <= 255


def test_plain_text_mail_yields_sender_recipients_and_body() -> None:
    parsed = parse("plain_text.eml")
    assert parsed.subject == "Locked out of my account"
    assert (parsed.from_name, parsed.from_address) == ("Maria Lopez", "maria.lopez@example.org")
    assert parsed.to == ("support@example.com",)
    assert parsed.message_id == "CAF=lockedout.1@mail.example.org"
    assert parsed.date == datetime(2024, 3, 4, 8, 15, tzinfo=UTC)
    assert parsed.return_path == "maria.lopez@example.org"
    assert "account is locked" in parsed.text and parsed.html is None
    assert parsed.defects == () and not parsed.headers_only


def test_mbox_envelope_line_does_not_stop_parsing() -> None:
    parsed = parse("mbox_from_line.eml")
    assert parsed.subject == "Exported from an mbox file"
    assert parsed.from_address == "maria.lopez@example.org"


def test_html_only_mail_gets_text_for_display_and_search() -> None:
    parsed = parse("html_only.eml")
    assert parsed.text == (
        "Hello team,\n\nMy card was declined at checkout \u2013 twice.\n\n"
        "- Card ending 4242\n- Order #1001\n\nThanks\nMaria"
    )
    assert parsed.html is not None and "<b>team</b>" in parsed.html
    assert "<style" not in parsed.html and "color: red" not in parsed.text


def test_alternative_parts_keep_plain_text_and_sanitized_html() -> None:
    parsed = parse("multipart_alternative.eml")
    assert parsed.text == "Plain version: I forgot my password."
    assert parsed.html == '<div dir="ltr"><p>HTML version: I <i>forgot</i> my password.</p></div>\n'


def test_pdf_and_image_attachments_keep_their_bytes() -> None:
    pdf, image = parse("attachment_pdf.eml").attachments
    assert (pdf.filename, pdf.content_type, pdf.inline) == (
        "statement-march.pdf",
        "application/pdf",
        False,
    )
    assert pdf.data.startswith(b"%PDF-1.4")
    assert (image.filename, image.content_type) == ("error.png", "image/png")
    assert image.data.startswith(b"\x89PNG")


def test_inline_image_is_marked_inline_and_keeps_its_cid() -> None:
    parsed = parse("inline_cid_image.eml")
    shot, unused = parsed.attachments
    assert (shot.content_id, shot.inline) == ("shot1@example.org", True)
    assert (unused.content_id, unused.inline) == ("unused@example.org", False)
    assert parsed.html is not None and 'src="cid:shot1@example.org"' in parsed.html


def test_forwarded_message_is_parsed_appended_and_kept_as_attachment() -> None:
    parsed = parse("forwarded_message.eml")
    [inner] = parsed.forwarded
    assert (inner.subject, inner.message_id) == (
        "Your payment failed",
        "orig-123@payments.example.net",
    )
    assert [a.filename for a in inner.attachments] == ["invoice.pdf"]
    own, forwarded = parsed.text.split(FORWARD_LINE)
    assert own.strip() == parsed.new_text == "I got this mail, is it really from you?"
    assert "From: Payments <no-reply@payments.example.net>" in forwarded
    assert "49.00 EUR" in forwarded
    [original] = parsed.attachments
    assert (original.content_type, original.filename) == ("message/rfc822", "forwarded.eml")
    assert parse_mail(original.data).message_id == "orig-123@payments.example.net"
    assert not parsed.is_bounce and parsed.bounce_original_message_id is None


@pytest.mark.parametrize(
    ("name", "new_text"),
    [
        ("reply_gmail_quoted.eml", "Thanks, it works now!"),
        ("reply_outlook_quoted.eml", "Still not working, sorry."),
        (
            "reply_outlook_header_block.eml",
            "I still have not received the refund.\n\nKind regards\nMaria",
        ),
        ("reply_german_quoted.eml", "Danke, jetzt klappt es."),
        ("reply_french_quoted.eml", "Merci, cela fonctionne."),
        ("reply_apple_mail.eml", "Got it, thank you."),
    ],
)
def test_reply_shows_only_the_new_text(name: str, new_text: str) -> None:
    parsed = parse(name)
    assert parsed.new_text == new_text
    assert parsed.text.startswith(new_text) and len(parsed.text) > len(new_text)


def test_gmail_reply_keeps_its_thread_references() -> None:
    parsed = parse("reply_gmail_quoted.eml")
    assert parsed.in_reply_to == ("desk.1.abc@example.com",)
    assert parsed.references == ("CAF=lockedout.1@mail.example.org", "desk.1.abc@example.com")


@pytest.mark.parametrize(
    ("name", "subject", "text"),
    [
        ("charset_iso_8859_1.eml", "Grüße", "Grüße aus München"),
        (
            "charset_windows_1252.eml",
            "Quotes",
            "\u201cit\u2019s fine\u201d \u2013 but it costs 20 \u20ac",
        ),
        ("charset_shift_jis.eml", "パスワード", "パスワードを忘れました"),
        ("charset_koi8_r.eml", "Не могу войти", "Я не могу войти"),  # noqa: RUF001
        ("ascii_declared_utf8_body.eml", "Declared ASCII", "Café \u2013 naïve"),
    ],
)
def test_declared_charsets_decode_without_loss(name: str, subject: str, text: str) -> None:
    parsed = parse(name)
    assert parsed.subject == subject
    assert text in parsed.text and "\ufffd" not in parsed.text
    assert parsed.defects == ()


def test_lying_charset_decodes_with_replacement_characters() -> None:
    parsed = parse("charset_lying_utf8.eml")
    assert parsed.text == "Zahlung f\ufffdr M\ufffdrz fehlgeschlagen"
    assert any("does not match its declared charset" in d for d in parsed.defects)


def test_unknown_charset_decodes_with_replacement_characters() -> None:
    parsed = parse("charset_unknown.eml")
    assert parsed.text.startswith("Caf\ufffd cr\ufffdme")
    assert "unknown charset 'foo-bar'; decoded as UTF-8" in parsed.defects


def test_missing_charset_with_8bit_data_decodes_with_replacement_characters() -> None:
    parsed = parse("missing_charset_8bit.eml")
    assert parsed.text.startswith("Caf\ufffd and na\ufffdve")
    assert any("without a declared charset" in d for d in parsed.defects)


def test_encoded_word_subjects_and_names_are_decoded() -> None:
    parsed = parse("rfc2047_subjects.eml")
    assert parsed.subject == "Zahlung für März gescheitert"  # "ä" was split over two words
    assert (parsed.from_name, parsed.from_address) == (
        "Jürgen Müller",
        "juergen.mueller@example.de",
    )
    assert parse("reply_french_quoted.eml").from_name == "Renée Dupont"


def test_broken_encoded_words_are_kept_and_noted() -> None:
    parsed = parse("rfc2047_broken.eml")
    assert parsed.subject.startswith("Hello world =?utf-8?B?YWJjZ?= caf\ufffd")
    assert parsed.subject.endswith("\ufffd done")
    assert (parsed.from_name, parsed.from_address) == (
        "=?utf-8?Q?Broken_Name",
        "broken@example.org",
    )
    assert "broken encoded word in a header; kept as written" in parsed.defects


def test_rfc2231_filenames_are_decoded() -> None:
    names = [a.filename for a in parse("rfc2231_filename.eml").attachments]
    assert names == ["Kontoauszug März 2024.pdf", "Rechnung für Änderungen.pdf"]


def test_attachment_name_with_path_traversal_is_display_text_only() -> None:
    names = [a.filename for a in parse("attachment_path_traversal.eml").attachments]
    assert names == ["passwd", "evil.exe", "attachment"]


def test_attachment_name_with_control_and_bidi_characters_is_cleaned() -> None:
    invoice, report = parse("attachment_control_chars.eml").attachments
    assert invoice.filename == "invoice.pdf"
    assert report.filename == "reportBcc: x@evil.examplefdp.exe"  # no CR/LF, tab or U+202E


def test_mail_without_message_id_parses_with_none() -> None:
    parsed = parse("no_message_id.eml")
    assert parsed.message_id is None and parsed.subject == "No Message-ID here"


def test_mail_without_date_has_no_date() -> None:
    assert parse("no_date.eml").date is None


def test_mail_without_from_has_no_sender() -> None:
    parsed = parse("no_from.eml")
    assert (parsed.from_name, parsed.from_address) == ("", None)
    assert parsed.text == "There is no From header in this mail."


def test_duplicated_headers_use_the_first_and_are_noted() -> None:
    parsed = parse("duplicate_headers.eml")
    assert (parsed.from_address, parsed.subject, parsed.message_id) == (
        "first@example.org",
        "First subject",
        "dup1@example.org",
    )
    assert "From header appears 2 times; the first is used" in parsed.defects


def test_missing_closing_boundary_keeps_the_text_and_notes_it() -> None:
    parsed = parse("broken_mime_no_end_boundary.eml")
    assert parsed.text == "The closing boundary never comes, but this text must survive."
    assert [a.filename for a in parsed.attachments] == ["half.pdf"]
    assert any("closing boundary is missing" in d for d in parsed.defects)


def test_boundary_that_never_appears_keeps_the_body_as_text() -> None:
    parsed = parse("broken_mime_boundary_missing.eml")
    assert "never contains the announced boundary" in parsed.text
    assert any("boundary never appears" in d for d in parsed.defects)


def test_nul_bytes_are_removed_from_the_text() -> None:
    assert parse("nul_bytes.eml").text == "beforeafter end"


def test_huge_header_lines_are_capped() -> None:
    parsed = parse("huge_header_line.eml")
    assert parsed.subject.startswith("Very long subject") and len(parsed.subject) == 998
    assert len(parsed.references) == 100
    assert parsed.references[0] == "ref0@example.org"  # the thread root survives the cap
    assert parsed.text == "The headers above are enormous."


def test_deep_mime_nesting_is_cut_off_with_a_note() -> None:
    parsed = parse("deeply_nested.eml")
    assert parsed.text == "The text at the top."
    assert "MIME nesting deeper than 10; inner parts skipped" in parsed.defects


def test_nesting_beyond_the_parsers_recursion_limit_keeps_the_body_as_text() -> None:
    body = b"Content-Type: text/plain\r\n\r\ndeep inside\r\n"
    for level in range(3000):
        body = (
            b'Content-Type: multipart/mixed; boundary="n%d"\r\n\r\n--n%d\r\n%s\r\n--n%d--\r\n'
            % (level, level, body, level)
        )
    parsed = parse_mail(b"From: deep@example.org\r\nSubject: deep\r\n" + body)
    assert parsed.subject == "deep" and "deep inside" in parsed.text
    assert any("nested too deeply" in d for d in parsed.defects)


def test_too_many_parts_are_skipped_with_a_note() -> None:
    parts = b"".join(
        b"--p\r\nContent-Type: text/plain\r\n\r\npart %d\r\n" % number for number in range(500)
    )
    raw = b'From: a@example.org\r\nContent-Type: multipart/mixed; boundary="p"\r\n\r\n'
    parsed = parse_mail(raw + parts + b"--p--\r\n")
    assert "part 198" in parsed.text and "part 199" not in parsed.text
    assert "more than 200 MIME parts; the rest was skipped" in parsed.defects


def test_long_text_is_truncated_with_a_note() -> None:
    parsed = parse("plain_text.eml", max_text_chars=20)
    assert parsed.text == "Hello,\n\nI typed my p"
    assert "text longer than 20 characters; truncated" in parsed.defects


def test_oversized_html_is_truncated_before_sanitizing() -> None:
    html = b"<p>" + b"word " * 500_000 + b"</p><p>THE END</p>"
    raw = b"From: a@example.org\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + html
    parsed = parse_mail(raw)
    assert parsed.html is not None and "THE END" not in parsed.html
    assert any("HTML body longer than" in d for d in parsed.defects)


def test_hostile_html_mail_keeps_only_inert_markup() -> None:
    parsed = parse("hostile_html.eml")
    assert parsed.html is not None
    lowered = parsed.html.lower()
    for forbidden in ("<script", "onload", "onerror", "onclick", "javascript:", "data:", "<svg"):
        assert forbidden not in lowered
    assert 'href="https://example.com/help"' in parsed.html
    assert "alert" not in parsed.text


def test_tracking_pixel_and_remote_images_are_removed() -> None:
    parsed = parse("tracking_pixel.eml")
    assert parsed.html is not None and "track.example.net" not in parsed.html
    assert "<b>quick question about fees</b>" in parsed.html
    assert parsed.text == "I have a quick question about fees."


def test_link_stuffed_mail_keeps_its_links_safe() -> None:
    parsed = parse("link_stuffed.eml")
    assert parsed.html is not None
    assert parsed.html.count('rel="noopener noreferrer nofollow"') == 2000
    assert 'href="https://spam1999.example/?ref=1999&amp;u=1"' in parsed.html


def test_auto_submitted_mail_is_an_auto_reply() -> None:
    parsed = parse("auto_reply.eml")
    assert parsed.auto_submitted == "auto-replied" and parsed.is_auto_reply


def test_x_autoreply_out_of_office_is_an_auto_reply() -> None:
    parsed = parse("out_of_office_x_autoreply.eml")
    assert parsed.is_auto_reply and parsed.auto_submitted is None and not parsed.is_bulk


def test_automatic_reply_subject_alone_marks_an_auto_reply() -> None:
    assert parse("auto_reply_subject_only.eml").is_auto_reply


def test_auto_response_suppress_alone_is_not_an_auto_reply() -> None:
    parsed = parse("auto_response_suppress_human.eml")
    assert not parsed.is_auto_reply and not parsed.is_bulk and not parsed.is_bounce


def test_list_mail_is_bulk() -> None:
    parsed = parse("bulk_list_mail.eml")
    assert parsed.is_bulk and not parsed.is_auto_reply


def test_dsn_bounce_names_failed_recipient_and_original_message_id() -> None:
    parsed = parse("dsn_bounce.eml")
    assert parsed.is_bounce and parsed.return_path == ""
    assert parsed.bounce_recipients == ("gone@example.org",)  # the delayed one is no failure
    assert parsed.bounce_original_message_id == "1.abc.def@example.com"
    assert "could not\nbe delivered" in parsed.text


def test_dsn_with_returned_message_names_its_message_id() -> None:
    parsed = parse("dsn_bounce_returned_message.eml")
    assert parsed.is_bounce and parsed.bounce_recipients == ("full@example.net",)
    assert parsed.bounce_original_message_id == "2.xyz.uvw@example.com"


def test_mailer_daemon_bounce_without_dsn_structure_is_a_bounce() -> None:
    parsed = parse("mailer_daemon_plain_bounce.eml")
    assert parsed.is_bounce and parsed.return_path == ""
    assert parsed.bounce_recipients == ()
    assert parsed.bounce_original_message_id == "3.qrs.tuv@example.com"


def test_authentication_results_are_read_with_the_server_that_wrote_them() -> None:
    results = {
        (r.authserv_id, r.method, r.result)
        for r in parse("authentication_results.eml").auth_results
    }
    assert results == {
        ("mx.example.com", "dkim", "pass"),
        ("mx.example.com", "spf", "pass"),
        ("mx.example.com", "dmarc", "pass"),
        ("attacker.example", "dmarc", "pass"),  # forged by the sender; callers check the id
    }


def test_delivered_to_and_recipients_are_collected_lowercased() -> None:
    parsed = parse("delivered_to.eml")
    assert parsed.delivered_to == (
        "support+t77.qwer@example.com",
        "support@example.com",
        "help@example.com",
    )
    assert parsed.to == ("help@example.com",)
    assert parsed.cc == ("someone@example.org", "pedro@example.org")
    assert parsed.reply_to == "maria.private@example.org"


def test_calendar_invite_is_an_attachment_not_body() -> None:
    parsed = parse("calendar_invite.eml")
    assert parsed.text == "Can we talk on Tuesday?"
    assert [a.content_type for a in parsed.attachments] == ["text/calendar", "application/ics"]
    assert b"BEGIN:VEVENT" in parsed.attachments[0].data


def test_headers_only_parse_leaves_the_body_empty() -> None:
    parsed = parse_mail(header_block("attachment_pdf.eml"), headers_only=True)
    assert parsed.headers_only and parsed.subject == "Statement attached"
    assert (parsed.text, parsed.new_text, parsed.html, parsed.attachments) == ("", "", None, ())
    assert parsed.from_address == "maria.lopez@example.org"


def test_headers_only_bounce_is_still_recognised() -> None:
    assert parse_mail(header_block("dsn_bounce.eml"), headers_only=True).is_bounce


def test_encoded_line_breaks_cannot_reach_subject_or_name() -> None:
    raw = (
        b"From: =?utf-8?Q?Eve=0D=0ABcc=3A_victim=40example.org?= <eve@example.org>\r\n"
        b"Subject: =?utf-8?B?SGkNCkJjYzogdmljdGltQGV4YW1wbGUub3Jn?=\r\n\r\nbody\r\n"
    )
    parsed = parse_mail(raw)
    assert parsed.subject == "Hi Bcc: victim@example.org"
    assert parsed.from_name == "Eve Bcc: victim@example.org"


@pytest.mark.parametrize(
    "header",
    [
        b'Content-Type: multipart/mixed; a="' + b";" * 200_000,
        b"Content-Disposition: attachment; filename*0=" + b"; filename*1=x" * 20_000,
        b"To: " + b":" * 60_000,
        b"Cc: " + b"(" * 60_000 + b"a@example.org",
        b"Authentication-Results: mx.example.com; " + b"(" * 60_000,
        b"Subject: " + b"=?utf-8?B?w6k?= " * 20_000,
        b"Date: Mon, 99 Foo 99999 99:99:99 +9999",
    ],
    ids=["semicolons", "continuations", "colons", "comments", "auth-comments", "words", "date"],
)
def test_hostile_header_values_parse_with_bounded_work(header: bytes) -> None:
    parsed = parse_mail(b"From: a@example.org\r\n" + header + b"\r\n\r\nbody\r\n")
    assert parsed.from_address == "a@example.org"
    assert len(parsed.subject) <= 998 and parsed.to == ()


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"  \r\n\r\n",
        b"just some text\nwithout any header\n",
        b"\x00" * 100 + b"From: a@example.org\r\n",
        b"\r\n\r\nSubject: only in the body\r\n",
    ],
)
def test_input_without_a_header_block_is_not_a_mail(raw: bytes) -> None:
    with pytest.raises(UnparseableMail):
        parse_mail(raw)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    name=st.sampled_from([path.name for path in ALL if path.name != NOT_A_MAIL]),
    cut=st.integers(min_value=0, max_value=4000),
    noise=st.binary(max_size=64),
)
def test_damaged_mail_never_crashes_the_parser(name: str, cut: int, noise: bytes) -> None:
    raw = (FIXTURES / name).read_bytes()
    damaged = raw[: cut % (len(raw) + 1)] + noise + raw[cut % (len(raw) + 1) :][:2000]
    try:
        parsed = parse_mail(damaged)
    except UnparseableMail:
        return
    assert "\x00" not in parsed.text and "\n" not in parsed.subject
