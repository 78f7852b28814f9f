"""A mailbox full of big mail is read, stored and filed a few mails at a time: ``inbox poll``
keeps its memory flat however much mail waits. Its peak over 20 mails of 20 MiB is no higher
than over the 5 before them (reading the mailbox in batches of 100 mails, as the desk did,
made the peak grow with the mail: 6.6 GiB for a hundred of them).

Needs a GiB or two of disk (the mailbox, and the desk keeps every mail raw) and a minute, so it
runs only where that fits, and ``-m "not big"`` leaves it out.
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
MAILS = 25
FIRST = 5
MAIL_BYTES = 20 * MIB
USER, PASSWORD = "big@example.test", "big-mailbox"
# The peak of the second poll may exceed the first's by this much (allocator noise, caches).
FLAT = 1.25
# And neither may reach this: what a few mails in flight take, with the code around them.
PEAK_RSS_LIMIT = 800 * MIB
# The mailbox and the desk's raw copies, with room for the database's own files.
DISK_NEEDED = 3 * MAILS * MAIL_BYTES

pytestmark = [
    pytest.mark.big,
    pytest.mark.services,
    pytest.mark.timeout(600),
    # What a batch holds is the connector's and the filing's doing, whatever the database:
    # the few minutes this takes are spent once, on the embedded default.
    pytest.mark.skipif(
        os.environ.get("INBOX_TEST_DATABASE") == "postgres",
        reason="runs on the embedded default only",
    ),
]

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
def big_mailbox() -> Iterator[DovecotServer]:
    """A Dovecot of its own, on disk: the shared one keeps its mail in memory. (Under a short
    path: Dovecot's sockets live there, and a socket's path may not be long.)"""
    require(DovecotServer.available(), "Dovecot")
    reason = _room_for_the_test(Path(tempfile.gettempdir()))
    if reason:
        pytest.skip(reason)
    with tempfile.TemporaryDirectory(prefix="big-") as parent:
        Path(parent).chmod(0o755)  # Dovecot's mail processes may run as another user
        with DovecotServer(parent=Path(parent)) as server:
            server.add_user(USER, PASSWORD)
            yield server


def _fill(server: DovecotServer, numbers: range) -> None:
    """Append the same 20 MiB attachment under different headers: cheap to make (about
    0.2 s a mail), and each mail its own ticket. Its base64 comes in lines of 996 characters
    (RFC 5322 allows 998), a thirteenth as many lines to parse as in 76-character ones."""
    encoded = base64.b64encode(os.urandom(MAIL_BYTES * 3 // 4 - 4096))
    scan = b"".join(encoded[i : i + 996] + b"\r\n" for i in range(0, len(encoded), 996))
    body = (
        b'Content-Type: multipart/mixed; boundary="b"\r\nMIME-Version: 1.0\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nThe scan you asked for.\r\n"
        b'--b\r\nContent-Type: application/pdf; name="scan.pdf"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + scan + b"--b--\r\n"
    )
    with server.client(USER, PASSWORD) as client:
        for n in numbers:
            head = (
                f"From: Customer {n} <c{n}@example.org>\r\nTo: support@example.test\r\n"
                f"Subject: Scan {n}\r\nMessage-ID: <scan-{n}@example.org>\r\n"
            ).encode()
            client.append("INBOX", head + body)


def _poll(env: dict[str, str], mails: int) -> int:
    """Run ``inbox poll``; the peak resident memory of it or its parser process, in bytes."""
    polled = subprocess.run(
        [sys.executable, "-c", _PEAK_RSS, *INBOX, "poll"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=480,
        check=False,
    )
    assert polled.returncode == 0, polled.stderr[-3000:]
    assert f"Support: {mails} new mails fetched; {mails} new tickets" in polled.stdout
    return int(polled.stdout.rsplit("peak-rss-kib", 1)[1].split()[0]) * 1024


@pytest.mark.slow
def test_polling_a_mailbox_of_big_mail_keeps_memory_flat(
    env: dict[str, str], db: Database, big_mailbox: DovecotServer
) -> None:
    # fmt: off
    run_cli(
        env, "channel", "add-email", "--name", "Support", "--address", "support@example.test",
        "--imap", big_mailbox.imap_url(USER, PASSWORD), "--smtp", "smtp://127.0.0.1:1",
    )
    # fmt: on
    _fill(big_mailbox, range(FIRST))
    few = _poll(env, FIRST)
    _fill(big_mailbox, range(FIRST, MAILS))

    many = _poll(env, MAILS - FIRST)

    sizes = f"{FIRST} mails: {few // MIB} MiB, {MAILS - FIRST} mails: {many // MIB} MiB"
    assert many <= few * FLAT, f"memory grew with the mailbox: {sizes}"
    assert many < PEAK_RSS_LIMIT, f"{sizes}, for {MAILS * MAIL_BYTES // MIB} MiB of mail"
    with db.reading() as session:
        assert session.exec(select(func.count()).select_from(Ticket)).one() == MAILS
        assert session.exec(select(func.count()).select_from(Attachment)).one() == MAILS
        states = set(session.exec(select(InboundItem.state)).all())
    assert states == {"done"}
