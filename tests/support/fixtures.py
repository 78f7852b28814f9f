"""Pytest fixtures for the real mail servers; registered from conftest as a plugin
(``pytest_plugins = ["tests.support.fixtures"]``).

- ``dovecot``: one Dovecot for the whole session (starting one costs about a second). Tests
  that restart or break a server should start their own ``DovecotServer`` instead.
- ``mailbox_user``: a fresh user with an empty INBOX on that server, per test, so tests never
  see each other's mail. Passwords contain URL-special characters on purpose.
- ``smtp_peer``: a fresh recording SMTP server per test.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterator
from typing import NamedTuple

import pytest

from tests.support.dovecot import DovecotServer
from tests.support.services import require
from tests.support.smtp_peer import SmtpPeer

_user_numbers = itertools.count(1)


class MailboxUser(NamedTuple):
    user: str
    password: str
    imap_url: str


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    require(DovecotServer.available(), "Dovecot")
    with DovecotServer() as server:
        yield server


@pytest.fixture
def mailbox_user(dovecot: DovecotServer) -> MailboxUser:
    user = f"support{next(_user_numbers)}@example.test"
    password = f"p@ss:w/rd%{secrets.token_hex(4)}"
    dovecot.add_user(user, password)
    return MailboxUser(user, password, dovecot.imap_url(user, password))


@pytest.fixture
def smtp_peer() -> Iterator[SmtpPeer]:
    with SmtpPeer() as peer:
        yield peer
