"""EmailSender and the email connector against a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import pytest

import connectors
from connectors import Outbound
from connectors.email import EmailSender, parse_mail_url
from connectors.errors import PermanentConnectorError, TransientConnectorError
from tests.support.smtp_peer import SmtpPeer

pytestmark = pytest.mark.services

MESSAGE = (
    b"From: Help Desk <help@example.test>\r\n"
    b"To: Customer <customer@example.org>\r\n"
    b"Subject: [#K7Q2-M9X4] Your card payment\r\n"
    b"Message-ID: <reply-1@example.test>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n"
    b"\r\n"
    b"Hello,\r\n"
    b".leading dot survives dot-stuffing\r\n"
    b"Gr\xc3\xbc\xc3\x9fe, the help desk\r\n"
)


def outbound(recipients: tuple[str, ...] = ("customer@example.org",)) -> Outbound:
    return Outbound(sender="bounces@example.test", recipients=recipients, payload=MESSAGE)


def sender_for(url: str) -> EmailSender:
    return EmailSender(parse_mail_url(url, protocol="smtp"), timeout=5)


def test_delivered_message_reaches_the_server_byte_for_byte(smtp_peer: SmtpPeer) -> None:
    report = connectors.get("email").deliver(
        {"smtp_url": smtp_peer.smtp_url()},
        outbound(("customer@example.org", "cc@example.org")),
    )

    [received] = smtp_peer.wait_for(1, timeout=5)
    assert received.raw == MESSAGE
    assert received.mail_from == "bounces@example.test"
    assert received.rcpt_tos == ("customer@example.org", "cc@example.org")
    assert received.message["Subject"] == "[#K7Q2-M9X4] Your card payment"
    assert received.message["Message-ID"] == "<reply-1@example.test>"
    assert report.state == "sent"
    assert "queued" in report.detail


def test_temporary_refusal_is_transient_with_its_code_and_a_retry_succeeds(
    smtp_peer: SmtpPeer,
) -> None:
    smtp_peer.respond_with(["451 4.3.0 try later"])
    sender = sender_for(smtp_peer.smtp_url())

    with pytest.raises(TransientConnectorError) as caught:
        sender.send(MESSAGE, mail_from="bounces@example.test", recipients=["a@example.org"])
    assert caught.value.code == 451
    assert caught.value.server_text == "4.3.0 try later"

    sender.send(MESSAGE, mail_from="bounces@example.test", recipients=["a@example.org"])
    assert smtp_peer.attempts == 2
    assert len(smtp_peer.wait_for(1)) == 1


def test_permanent_refusal_is_permanent_with_its_code(smtp_peer: SmtpPeer) -> None:
    smtp_peer.always("550 5.1.1 no such user")
    with pytest.raises(PermanentConnectorError) as caught:
        connectors.get("email").deliver({"smtp_url": smtp_peer.smtp_url()}, outbound())
    assert caught.value.code == 550
    assert "5.1.1 no such user" in str(caught.value)
    assert smtp_peer.received == []


def test_refused_connection_is_transient() -> None:
    with pytest.raises(TransientConnectorError) as caught:
        sender_for("smtp://127.0.0.1:1").send(
            MESSAGE, mail_from="bounces@example.test", recipients=["a@example.org"]
        )
    assert caught.value.code is None


def test_login_is_used_when_the_url_names_a_user() -> None:
    with SmtpPeer(users={"desk@example.test": "s3cret:/@%"}) as peer:
        sender = sender_for(peer.smtp_url("desk@example.test", "s3cret:/@%"))
        sender.send(MESSAGE, mail_from="bounces@example.test", recipients=["a@example.org"])
        assert len(peer.wait_for(1)) == 1


def test_rejected_credentials_are_permanent_and_never_show_the_password() -> None:
    with SmtpPeer(users={"desk@example.test": "right-password"}) as peer:
        sender = sender_for(peer.smtp_url("desk@example.test", "wrong-password"))
        with pytest.raises(PermanentConnectorError) as caught:
            sender.send(MESSAGE, mail_from="bounces@example.test", recipients=["a@example.org"])
    assert caught.value.code == 535
    assert "wrong-password" not in str(caught.value)
    assert "credentials rejected" in str(caught.value)


def test_login_against_a_server_without_auth_is_permanent(smtp_peer: SmtpPeer) -> None:
    sender = sender_for(smtp_peer.smtp_url("desk@example.test", "secret-pw"))
    with pytest.raises(PermanentConnectorError) as caught:
        sender.send(MESSAGE, mail_from="bounces@example.test", recipients=["a@example.org"])
    assert "secret-pw" not in str(caught.value)


@pytest.mark.parametrize(
    ("config", "complaint"),
    [
        ({}, "no smtp_url"),
        ({"smtp_url": "imap://u:hunter2@h"}, "smtp_url is invalid"),
    ],
)
def test_unusable_configuration_is_permanent(config: dict[str, str], complaint: str) -> None:
    with pytest.raises(PermanentConnectorError, match=complaint) as caught:
        connectors.get("email").deliver(config, outbound())
    assert "hunter2" not in str(caught.value)
