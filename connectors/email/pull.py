"""An IMAP folder read as a pulled channel: the cursor is (UIDVALIDITY, last UID).

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
from connectors.email.imap import ImapMailbox

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
        self, cursor: Mapping[str, Any], *, batch_size: int, max_bytes: int
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
            batch = uids[start : start + batch_size]
            fetched = self.mailbox.fetch(batch, max_bytes=max_bytes)
            yield Pulled(
                items=[
                    RawInbound(f"{uidvalidity}:{f.uid}", f.raw, f.size, f.truncated)
                    for f in fetched
                ],
                cursor={"uidvalidity": uidvalidity, "last_uid": batch[-1]},
                receipt=tuple(f.uid for f in fetched),
            )
        if not uids and cursor.get("uidvalidity") != uidvalidity:
            yield Pulled(items=[], cursor={"uidvalidity": uidvalidity, "last_uid": 0})

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
