"""An IMAP folder read as a pulled channel: the cursor is (UIDVALIDITY, last UID).

Batches are bounded in mails and in bytes: the sizes (RFC822.SIZE) are read first, and a batch
ends before the mail that would take it over ``batch_bytes``, so a folder of big mails is read
a few at a time, never a hundred 25 MB mails at once.

A new UIDVALIDITY invalidates every UID the desk knows, so the folder is read again from the
start; the desk stores each mail once by its key, ``"<uidvalidity>:<uid>"``, and recognises a
mail it filed before by its Message-ID, so a re-read duplicates nothing.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator, Mapping
from contextlib import suppress
from typing import Any

from connectors.base import Pulled, RawInbound
from connectors.email.imap import ImapMailbox, by_bytes

log = logging.getLogger(__name__)


class ImapPull:
    """One IMAP session on the channel's folder, opened on ``__enter__``."""

    def __init__(self, mailbox: ImapMailbox) -> None:
        self.mailbox = mailbox
        # wake() writes a byte that the waits select on and nobody reads: a wake that comes
        # before a wait still ends it.
        self._woken, self._waker = socket.socketpair()
        self._woken.setblocking(False)

    def __enter__(self) -> ImapPull:
        self.mailbox.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def read_since(
        self, cursor: Mapping[str, Any], *, batch_size: int, max_bytes: int, batch_bytes: int
    ) -> Iterator[Pulled]:
        uidvalidity = self.mailbox.uidvalidity
        if cursor.get("uidvalidity") == uidvalidity:
            last_uid = int(cursor.get("last_uid", 0))
        else:
            if cursor:
                log.warning("IMAP UIDVALIDITY changed; reading the folder again")
            last_uid = 0
        uids = self.mailbox.uids_after(last_uid)
        for start in range(0, len(uids), batch_size):
            # Sizes first (RFC822.SIZE), so that a batch is cut before it is downloaded.
            window = uids[start : start + batch_size]
            sizes = self.mailbox.sizes(window)
            for run in by_bytes(window, sizes, max_bytes, batch_bytes):
                yield self._read(uidvalidity, run, sizes, max_bytes)
        if not uids and cursor.get("uidvalidity") != uidvalidity:
            yield Pulled(items=[], cursor={"uidvalidity": uidvalidity, "last_uid": 0})

    def _read(
        self, uidvalidity: int, uids: list[int], sizes: Mapping[int, int], max_bytes: int
    ) -> Pulled:
        """One batch; a function of its own, so that nothing here holds its bytes once the
        caller is done with them."""
        fetched = self.mailbox.fetch(uids, max_bytes=max_bytes, sizes=sizes)
        return Pulled(
            items=[
                RawInbound(f"{uidvalidity}:{f.uid}", f.raw, f.size, f.truncated) for f in fetched
            ],
            cursor={"uidvalidity": uidvalidity, "last_uid": uids[-1]},
            receipt=tuple(f.uid for f in fetched),
        )

    def confirm(self, pulled: Pulled) -> None:
        if pulled.receipt:
            self.mailbox.mark_seen(pulled.receipt)

    def wait_for_changes(self, timeout: float) -> bool:
        return self.mailbox.wait_for_changes(timeout, self._woken)

    def wake(self) -> None:
        with suppress(OSError):  # closed already: nothing waits
            self._waker.send(b"!")

    @property
    def pushes_changes(self) -> bool:
        """Whether the server announces new mail (IDLE), so waiting can be long."""
        return self.mailbox.supports_idle

    def close(self) -> None:
        self.mailbox.close()
        self._woken.close()
        self._waker.close()
