"""The portal's pure rules: what a customer may attach and what it is called, the topics
of the new-ticket form, and statuses as customers read them."""

from __future__ import annotations

import pytest

from inbox.rules.portal import (
    MAX_FILE_BYTES,
    MAX_NAME_CHARS,
    RefusedFile,
    TopicSetting,
    accept_file,
    customer_status,
    parse_topics,
    safe_filename,
    sniff_type,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def test_files_are_recognised_by_their_bytes_not_their_names() -> None:
    assert sniff_type(PNG) == ("image/png", "png")
    assert sniff_type(b"\xff\xd8\xff\xe0rest") == ("image/jpeg", "jpg")
    assert sniff_type(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == ("image/webp", "webp")
    assert sniff_type(b"%PDF-1.7") == ("application/pdf", "pdf")
    assert sniff_type(b"<svg xmlns='http://www.w3.org/2000/svg'/>") is None
    assert sniff_type(b"<html><script>") is None


@pytest.mark.parametrize(
    ("given", "extension", "stored"),
    [
        ("../../etc/passwd", "png", "passwd.png"),
        ("C:\\Users\\maria\\Screen shot.PNG", "png", "Screen shot.png"),
        ("invoice.pdf", "pdf", "invoice.pdf"),
        ("photo.jpeg", "jpg", "photo.jpg"),
        ("evil.html", "png", "evil.html.png"),
        ("a\x00b\r\nc<script>.png", "png", "abc_script.png"),
        ("...", "pdf", "attachment.pdf"),
        ("", "png", "attachment.png"),
        (".htaccess", "png", "htaccess.png"),
    ],
)
def test_file_names_are_display_text_ending_in_what_the_file_is(
    given: str, extension: str, stored: str
) -> None:
    assert safe_filename(given, extension) == stored


def test_long_names_are_cut_and_keep_their_extension() -> None:
    name = safe_filename("x" * 500 + ".png", "png")
    assert len(name) <= MAX_NAME_CHARS and name.endswith(".png")


def test_empty_unknown_and_oversized_files_are_refused() -> None:
    for data in (b"", b"MZ\x90\x00 a program", b"%PDF-" + b"0" * MAX_FILE_BYTES):
        with pytest.raises(RefusedFile):
            accept_file("file.pdf", data)
    accepted = accept_file("shot.png", PNG)
    assert (accepted.filename, accepted.content_type) == ("shot.png", "image/png")


def test_topics_are_read_from_their_setting() -> None:
    assert parse_topics("") == ()
    assert parse_topics(" Cards = Card team ; Refunds=Payments;Something else;; cards=x") == (
        TopicSetting("Cards", "Card team"),
        TopicSetting("Refunds", "Payments"),
        TopicSetting("Something else", ""),
    )
    with pytest.raises(ValueError, match="at most 100"):
        parse_topics("x" * 101)


def test_customers_read_the_category_of_a_status_not_its_name() -> None:
    assert customer_status("waiting_on_customer") == "Waiting for your reply"
    assert customer_status("resolved") == "Solved"
    assert customer_status("a desk's own category") == "In progress"
