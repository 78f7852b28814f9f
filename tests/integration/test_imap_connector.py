"""ImapMailbox against a real Dovecot on loopback: what the mail poller relies on."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

import connectors
from connectors.email import EmailConnector, ImapMailbox, _idle, parse_mail_url
from connectors.errors import PermanentConnectorError, TransientConnectorError
from tests.support.dovecot import DovecotServer
from tests.support.fixtures import MailboxUser
from tests.support.services import require

pytestmark = pytest.mark.services


def mail(number: int, body: bytes = b"Hello, my card was declined.") -> bytes:
    return (
        b"From: Customer <customer@example.org>\r\n"
        b"To: help@example.test\r\n"
        b"Subject: Question %d\r\n"
        b"Message-ID: <q%d@example.org>\r\n"
        b"\r\n%b\r\n" % (number, number, body)
    )


def mailbox_for(account: MailboxUser) -> ImapMailbox:
    return ImapMailbox(parse_mail_url(account.imap_url, protocol="imap"))


@pytest.fixture
def own_dovecot() -> Iterator[DovecotServer]:
    """A private server for tests that restart it, so the shared one stays undisturbed."""
    require(DovecotServer.available(), "Dovecot")
    with DovecotServer() as server:
        yield server


def test_open_returns_uidvalidity_that_stays_the_same_across_sessions(
    mailbox_user: MailboxUser,
) -> None:
    with mailbox_for(mailbox_user) as first:
        uidvalidity = first.uidvalidity
    with mailbox_for(mailbox_user) as second:
        assert second.uidvalidity == uidvalidity > 0


def test_uids_after_lists_only_newer_uids_in_ascending_order(
    dovecot: DovecotServer, mailbox_user: MailboxUser
) -> None:
    uids = dovecot.append_many(
        mailbox_user.user, mailbox_user.password, [mail(n) for n in range(5)]
    )
    with mailbox_for(mailbox_user) as mailbox:
        assert mailbox.uids_after(0) == uids
        assert mailbox.uids_after(uids[1]) == uids[2:]


def test_uids_after_the_highest_uid_is_empty_although_star_matches_it(
    dovecot: DovecotServer, mailbox_user: MailboxUser
) -> None:
    uids = dovecot.append_many(
        mailbox_user.user, mailbox_user.password, [mail(n) for n in range(3)]
    )
    with mailbox_for(mailbox_user) as mailbox:
        assert mailbox.uids_after(uids[-1]) == []
        assert mailbox.uids_after(uids[-1] + 1000) == []


def test_fetch_returns_exact_bytes_without_setting_seen_until_marked(
    dovecot: DovecotServer, mailbox_user: MailboxUser
) -> None:
    user, password = mailbox_user.user, mailbox_user.password
    uid = dovecot.append(user, password, mail(1), flags=["\\Flagged"])
    with mailbox_for(mailbox_user) as mailbox:
        [fetched] = mailbox.fetch([uid], max_bytes=1_000_000)
        assert (fetched.uid, fetched.raw, fetched.truncated) == (uid, mail(1), False)
        assert fetched.size == len(mail(1))
        assert "\\Seen" not in dovecot.flags(user, password)[uid]

        mailbox.mark_seen([uid])
    assert {"\\Seen", "\\Flagged"} <= dovecot.flags(user, password)[uid]


def test_oversize_mail_is_fetched_as_header_block_only(
    dovecot: DovecotServer, mailbox_user: MailboxUser
) -> None:
    big = mail(1, body=b"x" * 50_000)
    small = mail(2)
    uids = dovecot.append_many(mailbox_user.user, mailbox_user.password, [big, small])
    with mailbox_for(mailbox_user) as mailbox:
        fetched = mailbox.fetch(uids, max_bytes=10_000)
    assert [(f.uid, f.truncated, f.size) for f in fetched] == [
        (uids[0], True, len(big)),
        (uids[1], False, len(small)),
    ]
    assert fetched[0].raw == big.split(b"\r\n\r\n")[0] + b"\r\n\r\n"
    assert b"x" * 100 not in fetched[0].raw


def test_fetch_skips_uids_that_were_expunged_or_never_existed(
    dovecot: DovecotServer, mailbox_user: MailboxUser
) -> None:
    user, password = mailbox_user.user, mailbox_user.password
    uids = dovecot.append_many(user, password, [mail(n) for n in range(3)])
    with mailbox_for(mailbox_user) as mailbox:
        assert mailbox.uids_after(0) == uids
        with dovecot.client(user, password) as other:
            other.select_folder("INBOX")
            other.delete_messages([uids[1]])
            other.expunge()
        fetched = mailbox.fetch([*uids, uids[-1] + 50], max_bytes=1_000_000)
    assert [f.uid for f in fetched] == [uids[0], uids[2]]


def test_fetch_of_many_uids_returns_all_of_them_in_uid_order(
    dovecot: DovecotServer, mailbox_user: MailboxUser
) -> None:
    uids = dovecot.append_many(
        mailbox_user.user, mailbox_user.password, [mail(n) for n in range(250)]
    )
    with mailbox_for(mailbox_user) as mailbox:
        fetched = mailbox.fetch(list(reversed(uids)), max_bytes=1_000_000)
    assert [f.uid for f in fetched] == uids
    assert fetched[-1].raw == mail(249)


def test_mailbox_opens_the_folder_named_in_the_url(
    dovecot: DovecotServer, mailbox_user: MailboxUser
) -> None:
    user, password = mailbox_user.user, mailbox_user.password
    dovecot.create_folder(user, password, "Support Queue")
    uid = dovecot.append(user, password, mail(7), folder="Support Queue")
    url = parse_mail_url(dovecot.imap_url(user, password, "Support Queue"), protocol="imap")
    with ImapMailbox(url) as mailbox:
        assert [f.raw for f in mailbox.fetch(mailbox.uids_after(0), max_bytes=10_000)] == [mail(7)]
        assert mailbox.uids_after(0) == [uid]


def test_idle_wakes_up_when_mail_arrives_from_another_connection(
    dovecot: DovecotServer, mailbox_user: MailboxUser
) -> None:
    user, password = mailbox_user.user, mailbox_user.password
    with mailbox_for(mailbox_user) as mailbox:
        assert mailbox.supports_idle
        deliver = threading.Timer(0.5, dovecot.append, (user, password, mail(1)))
        deliver.start()
        started = time.monotonic()
        try:
            assert mailbox.wait_for_changes(30) is True
        finally:
            deliver.join()
        assert time.monotonic() - started < 3
        assert len(mailbox.uids_after(0)) == 1


def test_idle_reports_mail_that_arrived_just_before_waiting(
    dovecot: DovecotServer, mailbox_user: MailboxUser
) -> None:
    with mailbox_for(mailbox_user) as mailbox:
        assert mailbox.uids_after(0) == []
        dovecot.append(mailbox_user.user, mailbox_user.password, mail(1))
        started = time.monotonic()
        assert mailbox.wait_for_changes(30) is True
        assert time.monotonic() - started < 3


def test_idle_times_out_with_false_and_leaves_the_connection_usable(
    dovecot: DovecotServer, mailbox_user: MailboxUser
) -> None:
    with mailbox_for(mailbox_user) as mailbox:
        started = time.monotonic()
        assert mailbox.wait_for_changes(1.0) is False
        assert 0.9 < time.monotonic() - started < 3
        uid = dovecot.append(mailbox_user.user, mailbox_user.password, mail(1))
        assert mailbox.uids_after(0) == [uid]


def test_waking_a_pull_session_ends_its_wait_now_and_every_later_one(
    dovecot: DovecotServer, mailbox_user: MailboxUser
) -> None:
    """What lets a stopping desk close its IMAP sessions without waiting out IDLE."""
    from connectors.email.pull import ImapPull

    with ImapPull(mailbox_for(mailbox_user)) as session:
        assert session.pushes_changes
        wake = threading.Timer(0.5, session.wake)
        wake.start()
        started = time.monotonic()
        try:
            assert session.wait_for_changes(30) is False
        finally:
            wake.join()
        assert time.monotonic() - started < 5
        started = time.monotonic()
        assert session.wait_for_changes(30) is False
        assert time.monotonic() - started < 5
        uid = dovecot.append(mailbox_user.user, mailbox_user.password, mail(1))
        assert session.mailbox.uids_after(0) == [uid]  # IDLE was ended cleanly


def test_long_waits_renew_idle_and_still_notice_new_mail(
    dovecot: DovecotServer, mailbox_user: MailboxUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_idle, "IDLE_RENEW_SECONDS", 0.3)  # stands in for 25 minutes
    user, password = mailbox_user.user, mailbox_user.password
    with mailbox_for(mailbox_user) as mailbox:
        assert mailbox.wait_for_changes(1.0) is False
        deliver = threading.Timer(1.0, dovecot.append, (user, password, mail(1)))
        deliver.start()
        try:
            assert mailbox.wait_for_changes(30) is True
        finally:
            deliver.join()
        assert len(mailbox.uids_after(0)) == 1


def test_server_restart_is_transient_and_a_fresh_session_works(own_dovecot: DovecotServer) -> None:
    own_dovecot.add_user("desk@example.test", "secret")
    url = parse_mail_url(own_dovecot.imap_url("desk@example.test", "secret"), protocol="imap")
    mailbox = ImapMailbox(url, timeout=10)
    uidvalidity = mailbox.open()

    own_dovecot.restart()

    with pytest.raises(TransientConnectorError):
        mailbox.uids_after(0)
    with pytest.raises(TransientConnectorError):
        mailbox.fetch([1], max_bytes=1000)
    with ImapMailbox(url) as fresh:
        assert fresh.uidvalidity == uidvalidity
        assert fresh.uids_after(0) == []
    assert mailbox.open() == uidvalidity  # reopening the broken one works as well
    mailbox.close()


def test_server_restart_while_idling_is_transient_at_once(own_dovecot: DovecotServer) -> None:
    own_dovecot.add_user("desk@example.test", "secret")
    url = parse_mail_url(own_dovecot.imap_url("desk@example.test", "secret"), protocol="imap")
    with ImapMailbox(url, timeout=10) as mailbox:
        restart = threading.Timer(0.5, own_dovecot.restart)
        restart.start()
        started = time.monotonic()
        try:
            with pytest.raises(TransientConnectorError):
                mailbox.wait_for_changes(30)
        finally:
            restart.join()
        assert time.monotonic() - started < 10


def test_wrong_password_is_permanent_and_the_message_hides_it(
    dovecot: DovecotServer, mailbox_user: MailboxUser
) -> None:
    wrong = "not-the-Passw0rd"
    url = parse_mail_url(dovecot.imap_url(mailbox_user.user, wrong), protocol="imap")
    with pytest.raises(PermanentConnectorError) as caught:
        ImapMailbox(url).open()
    assert wrong not in str(caught.value)
    assert "credentials rejected" in str(caught.value)
    assert ":***@127.0.0.1" in str(caught.value)


def test_missing_folder_is_permanent(dovecot: DovecotServer, mailbox_user: MailboxUser) -> None:
    user, password = mailbox_user.user, mailbox_user.password
    url = parse_mail_url(dovecot.imap_url(user, password, "No Such Folder"), protocol="imap")
    with pytest.raises(PermanentConnectorError) as caught:
        ImapMailbox(url).open()
    assert password not in str(caught.value)


def test_nothing_listening_is_transient() -> None:
    url = parse_mail_url("imap://desk:secret@127.0.0.1:1", protocol="imap")
    with pytest.raises(TransientConnectorError):
        ImapMailbox(url, timeout=5).open()


def test_reset_uidvalidity_renumbers_uids_under_a_new_uidvalidity(
    dovecot: DovecotServer, mailbox_user: MailboxUser
) -> None:
    user, password = mailbox_user.user, mailbox_user.password
    uids = dovecot.append_many(user, password, [mail(n) for n in range(3)])
    with dovecot.client(user, password) as other:
        other.select_folder("INBOX")
        other.delete_messages(uids[:2])
        other.expunge()
    with mailbox_for(mailbox_user) as mailbox:
        before = mailbox.uidvalidity
        assert mailbox.uids_after(0) == [uids[2]]

    after = dovecot.reset_uidvalidity(user)

    assert after != before
    with mailbox_for(mailbox_user) as mailbox:
        assert mailbox.uidvalidity == after
        assert mailbox.uids_after(0) == [1]
        assert [f.raw for f in mailbox.fetch([1], max_bytes=10_000)] == [mail(2)]


def test_email_connector_from_the_registry_opens_the_channel_mailbox(
    dovecot: DovecotServer, mailbox_user: MailboxUser
) -> None:
    connector = connectors.get("email")
    assert isinstance(connector, EmailConnector)
    uid = dovecot.append(mailbox_user.user, mailbox_user.password, mail(1))
    with connector.mailbox({"imap_url": mailbox_user.imap_url}) as mailbox:
        assert mailbox.uids_after(0) == [uid]


def test_unknown_channel_kind_is_a_lookup_error() -> None:
    with pytest.raises(LookupError, match="no connector for channel kind 'carrier-pigeon'"):
        connectors.get("carrier-pigeon")
