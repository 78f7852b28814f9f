"""Mail server URLs: how admins configure an email channel in one string."""

from __future__ import annotations

import pytest

from connectors.email.urls import MailServerURL, parse_mail_url


@pytest.mark.parametrize(
    ("url", "security", "port"),
    [
        ("imap://u:p@mail.example.com", "plain", 143),
        ("imaps://u:p@mail.example.com", "ssl", 993),
        ("imap+starttls://u:p@mail.example.com", "starttls", 143),
        ("IMAPS://u:p@mail.example.com", "ssl", 993),
    ],
)
def test_imap_schemes_choose_security_and_default_port(url: str, security: str, port: int) -> None:
    parsed = parse_mail_url(url, protocol="imap")
    assert (parsed.protocol, parsed.security, parsed.port) == ("imap", security, port)


@pytest.mark.parametrize(
    ("url", "security", "port"),
    [
        ("smtp://relay.example.com", "plain", 25),
        ("smtps://relay.example.com", "ssl", 465),
        ("smtp+starttls://relay.example.com", "starttls", 587),
    ],
)
def test_smtp_schemes_choose_security_and_default_port(url: str, security: str, port: int) -> None:
    parsed = parse_mail_url(url, protocol="smtp")
    assert (parsed.protocol, parsed.security, parsed.port) == ("smtp", security, port)


def test_full_imap_url_is_split_into_its_parts() -> None:
    parsed = parse_mail_url("imaps://help:s3cret@imap.example.com:1993/Support", protocol="imap")
    assert parsed == MailServerURL(
        protocol="imap",
        security="ssl",
        host="imap.example.com",
        port=1993,
        username="help",
        password="s3cret",
        folder="Support",
    )


def test_user_and_password_are_percent_decoded() -> None:
    parsed = parse_mail_url("imap://help%40example.com:p%40ss%3Aw%2Frd%25@h", protocol="imap")
    assert parsed.username == "help@example.com"
    assert parsed.password == "p@ss:w/rd%"


def test_folder_is_percent_decoded_and_may_be_nested() -> None:
    parsed = parse_mail_url("imap://u:p@h/Support%20Queue/Incoming", protocol="imap")
    assert parsed.folder == "Support Queue/Incoming"


@pytest.mark.parametrize("url", ["imap://u:p@h", "imap://u:p@h/"])
def test_imap_folder_defaults_to_inbox(url: str) -> None:
    assert parse_mail_url(url, protocol="imap").folder == "INBOX"


def test_smtp_without_user_means_no_login_and_no_folder() -> None:
    parsed = parse_mail_url("smtp://127.0.0.1:2525", protocol="smtp")
    assert (parsed.username, parsed.password, parsed.folder) == ("", "", "")


def test_ipv6_host_is_unbracketed_and_redacted_back_with_brackets() -> None:
    parsed = parse_mail_url("imap://u:p@[::1]:1143", protocol="imap")
    assert parsed.host == "::1"
    assert parsed.redacted() == "imap://u:***@[::1]:1143/INBOX"


def test_redacted_hides_only_the_password() -> None:
    parsed = parse_mail_url(
        "imap+starttls://help%40example.com:hunter2@h:143/A%20B", protocol="imap"
    )
    assert parsed.redacted() == "imap+starttls://help%40example.com:***@h:143/A%20B"


def test_repr_never_shows_the_password() -> None:
    parsed = parse_mail_url("smtps://u:hunter2@h", protocol="smtp")
    assert "hunter2" not in repr(parsed)
    assert "hunter2" not in parsed.redacted()


@pytest.mark.parametrize(
    ("url", "protocol", "complaint"),
    [
        ("smtp://u:p@h", "imap", "expected an imap server URL"),
        ("imaps://u:p@h", "smtp", "got scheme 'imaps'"),
        ("http://u:p@h", "imap", "got scheme 'http'"),
        ("u:p@h", "imap", "got no scheme"),
        ("imap://u:p@", "imap", "no host"),
        ("imap://u:p@h:abc", "imap", "invalid port"),
        ("imap://u:p@h:0", "imap", "invalid port"),
        ("imap://u:p@h:70000", "imap", "invalid port"),
        ("imap://h", "imap", "no user name"),
        ("smtp://:secret@h", "smtp", "password but no user name"),
        ("imap://u:p@h/INBOX?x=1", "imap", "query or fragment"),
        ("smtp://u:p@h/INBOX", "smtp", "must not have a path"),
        ("imap://u:p@[::1", "imap", "malformed"),
    ],
)
def test_bad_urls_are_rejected_with_a_reason(url: str, protocol: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint.replace("?", r"\?")):
        parse_mail_url(url, protocol=protocol)  # type: ignore[arg-type]


def test_error_messages_never_repeat_the_password() -> None:
    with pytest.raises(ValueError) as caught:
        parse_mail_url("imap://u:hunter2@h:notaport", protocol="imap")
    assert "hunter2" not in str(caught.value)
