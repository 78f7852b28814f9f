"""A mailbox full of big mail is read, stored and filed a few mails at a time: ``inbox poll``
over 100 mails of 20 MiB keeps its memory flat, far below the 2 GiB the mail adds up to.

Needs several GiB of disk (the mailbox, and the desk keeps every mail raw) and about a minute,
so it runs only where that fits (``-m big`` selects it, ``-m "not big"`` leaves it out).
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import func, select

from inbox.db import Database
from inbox.models import Attachment, InboundItem, Ticket
from tests.support.dovecot import DovecotServer
from tests.support.processes import INBOX, run_cli
from tests.support.services import require

MIB = 1024 * 1024
MAILS = 100
MAIL_BYTES = 20 * MIB
# What the whole mailbox adds up to is 2,000 MiB; one mail at a time, with the process's own
# code and a batch being read while two are filed, stays within a fraction of that.
PEAK_RSS_LIMIT = 600 * MIB
# The mailbox and the desk's raw copies, twice over for the database's own files.
DISK_NEEDED = 3 * MAILS * MAIL_BYTES

pytestmark = [pytest.mark.big, pytest.mark.services, pytest.mark.timeout(600)]

# Runs a command and prints the peak resident memory of the largest process under it
# (``inbox poll`` or one of its parser processes).
_PEAK_RSS = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:]).returncode\n"
    "print('peak-rss-kib', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    "sys.exit(code)\n"
)


def _room_for_the_test(directory: Path) -> str | None:
    free = shutil.disk_usage(directory).free
    if free < DISK_NEEDED:
        return f"needs {DISK_NEEDED // MIB} MiB free in {directory}, has {free // MIB}"
    available = _available_memory()
    if available is not None and available < 4 * PEAK_RSS_LIMIT:
        return f"needs {4 * PEAK_RSS_LIMIT // MIB} MiB of available memory, has {available // MIB}"
    return None


def _available_memory() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


@pytest.fixture
def big_mailbox() -> Iterator[tuple[str, DovecotServer]]:
    """A Dovecot of its own, on disk: the shared one keeps its mail in memory. (Under a short
    path: Dovecot's sockets live there, and a socket's path may not be long.)"""
    require(DovecotServer.available(), "Dovecot")
    reason = _room_for_the_test(Path(tempfile.gettempdir()))
    if reason:
        pytest.skip(reason)
    with tempfile.TemporaryDirectory(prefix="big-") as parent:
        Path(parent).chmod(0o755)  # Dovecot's mail processes may run as another user
        with DovecotServer(parent=Path(parent)) as server:
            server.add_user("big@example.test", "big-mailbox")
            _fill(server, "big@example.test", "big-mailbox")
            yield server.imap_url("big@example.test", "big-mailbox"), server


def _fill(server: DovecotServer, user: str, password: str) -> None:
    """Append the same 20 MiB attachment under a hundred different headers: cheap to make
    (about 0.2 s a mail), and each mail its own ticket."""
    scan = base64.encodebytes(os.urandom(MAIL_BYTES * 3 // 4 - 4096)).replace(b"\n", b"\r\n")
    body = (
        b'Content-Type: multipart/mixed; boundary="b"\r\nMIME-Version: 1.0\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nThe scan you asked for.\r\n"
        b'--b\r\nContent-Type: application/pdf; name="scan.pdf"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + scan + b"--b--\r\n"
    )
    with server.client(user, password) as client:
        for n in range(MAILS):
            head = (
                f"From: Customer {n} <c{n}@example.org>\r\nTo: support@example.test\r\n"
                f"Subject: Scan {n}\r\nMessage-ID: <scan-{n}@example.org>\r\n"
            ).encode()
            client.append("INBOX", head + body)


def test_polling_a_mailbox_of_big_mail_keeps_memory_flat(
    env: dict[str, str], db: Database, big_mailbox: tuple[str, DovecotServer]
) -> None:
    imap_url, _server = big_mailbox
    # fmt: off
    run_cli(
        env, "channel", "add-email", "--name", "Support", "--address", "support@example.test",
        "--imap", imap_url, "--smtp", "smtp://127.0.0.1:1",
    )
    # fmt: on

    polled = subprocess.run(
        [sys.executable, "-c", _PEAK_RSS, *INBOX, "poll"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )

    assert polled.returncode == 0, polled.stderr[-3000:]
    assert f"Support: {MAILS} new mails fetched; {MAILS} new tickets" in polled.stdout
    peak = int(polled.stdout.rsplit("peak-rss-kib", 1)[1].split()[0]) * 1024
    assert peak < PEAK_RSS_LIMIT, f"peak RSS {peak // MIB} MiB for {MAILS * MAIL_BYTES // MIB} MiB"
    with db.reading() as session:
        assert session.exec(select(func.count()).select_from(Ticket)).one() == MAILS
        assert session.exec(select(func.count()).select_from(Attachment)).one() == MAILS
        states = set(session.exec(select(InboundItem.state)).all())
    assert states == {"done"}
