"""The pull side of an email channel: one IMAP session on one folder.

The poller's position in a folder is (UIDVALIDITY, last UID), never dates or sequence numbers,
so this class offers exactly what that needs: the UIDVALIDITY on open, the UIDs after a given
one, raw bytes for a bounded list of UIDs without touching ``\\Seen``, marking what was stored,
and waiting for the server to say something changed. Parsing is someone else's job; this is
the edge where imapclient, imaplib, socket and ssl errors become
:class:`~connectors.errors.TransientConnectorError` or
:class:`~connectors.errors.PermanentConnectorError`.

Not thread-safe: one ImapMailbox is one connection, used by one poller at a time.
"""

from __future__ import annotations

import re
import select
import socket
import ssl
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from types import TracebackType

from imapclient import IMAPClient
from imapclient.exceptions import (
    CapabilityError,
    IMAPClientAbortError,
    IMAPClientError,
    IMAPClientReadOnlyError,
    LoginError,
    ProtocolError,
)

from connectors.email._idle import idle_until_change
from connectors.email.urls import MailServerURL
from connectors.errors import (
    ConnectorError,
    PermanentConnectorError,
    TransientConnectorError,
    without_secret,
)

# Largest number of UIDs per FETCH or STORE: keeps every command line and every response
# bounded even when a caller hands over thousands of UIDs.
BATCH_SIZE = 100
# What a message over the caller's limit costs a batch: only its header block is fetched.
HEADER_BYTES = 64 * 1024

# RFC 5530 response codes that mean "try again later" rather than "this cannot work".
_TRANSIENT_CODES = ("[UNAVAILABLE]", "[INUSE]", "[LIMIT]", "[SERVERBUG]", "[EXPUNGEISSUED]")
_BYTES_REPR = re.compile(r"""^b(['"])(.*)\1$""", re.DOTALL)


@dataclass(frozen=True)
class FetchedMail:
    """The raw bytes of one message as the server stores them.

    ``truncated`` means the message was larger than the caller's limit, so ``raw`` holds only
    the header block: enough to thread it and tell an agent that a big message arrived,
    without pulling megabytes into memory.
    """

    uid: int
    size: int
    raw: bytes
    truncated: bool


class ImapMailbox:
    """A connection to the folder named in ``url``, selected read-write.

    Every method either succeeds or raises a connector error. After a transport failure
    (dropped connection, timeout, server restart) the instance stays broken and every later
    call raises :class:`TransientConnectorError`; the caller opens a new session on its next
    round, which is also what it does after any other transient error.
    """

    def __init__(
        self,
        url: MailServerURL,
        *,
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if url.protocol != "imap":
            raise ValueError(f"ImapMailbox needs an imap URL, got {url.redacted()}")
        self._url = url
        self._timeout = timeout
        self._ssl_context = ssl_context
        self._client: IMAPClient | None = None
        self._uidvalidity: int | None = None
        self._lost: str | None = None

    def __enter__(self) -> ImapMailbox:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def open(self) -> int:
        """Connect, log in and SELECT the folder; return its UIDVALIDITY.

        Calling it again reconnects, which is how a long-lived poller recovers after a
        transient error without building a new object.
        """
        self.close()
        self._lost = None
        url = self._url
        try:
            with self._translate("connect to"):
                self._client = IMAPClient(
                    url.host,
                    url.port,
                    ssl=url.security == "ssl",
                    ssl_context=self._ssl_context,
                    timeout=self._timeout,
                )
            with self._translate("log in to"):
                if url.security == "starttls":
                    self._client.starttls(self._ssl_context or ssl.create_default_context())
                self._client.login(url.username, url.password)
            with self._translate("select the folder on"):
                status = self._client.select_folder(url.folder, readonly=False)
        except ConnectorError:
            self.close()
            raise
        if b"UIDVALIDITY" not in status:  # required by RFC 3501; without it UIDs mean nothing
            self.close()
            raise PermanentConnectorError(
                f"IMAP: {url.redacted()} did not report a UIDVALIDITY for the folder"
            )
        self._uidvalidity = int(status[b"UIDVALIDITY"])
        return self._uidvalidity

    @property
    def uidvalidity(self) -> int:
        """The UIDVALIDITY reported when the folder was selected."""
        if self._uidvalidity is None:
            raise RuntimeError("ImapMailbox.open() has not been called")
        return self._uidvalidity

    def uids_after(self, last_uid: int) -> list[int]:
        """UIDs greater than ``last_uid``, ascending.

        A NOOP comes first because servers search the folder as of the session's last sync
        (Dovecot does not pick up new mail for SEARCH), and ``UID SEARCH UID n:*`` always
        matches the highest message, even when its UID is below ``n`` (``*`` is "the largest
        UID in use" and ranges are unordered), so the server's answer is filtered.
        """
        if last_uid < 0:
            raise ValueError("last_uid must be >= 0")
        client = self._connected()
        with self._translate("search"):
            client.noop()
            found = client.search(["UID", f"{last_uid + 1}:*"])
        return sorted(uid for uid in found if uid > last_uid)

    def sizes(self, uids: Sequence[int]) -> dict[int, int]:
        """``RFC822.SIZE`` of each message, by UID: what fetching it whole would download.
        A UID that no longer exists is left out."""
        client = self._connected()
        wanted = sorted(set(uids))
        found: dict[int, int] = {}
        for start in range(0, len(wanted), BATCH_SIZE):
            batch = wanted[start : start + BATCH_SIZE]
            with self._translate("read message sizes from"):
                found.update(_sizes(client, batch))
        return found

    def fetch(
        self,
        uids: Sequence[int],
        *,
        max_bytes: int,
        batch_bytes: int | None = None,
        sizes: Mapping[int, int] | None = None,
    ) -> list[FetchedMail]:
        """Fetch the given messages in UID order without setting ``\\Seen``.

        Sizes are asked first (unless the caller read them with :meth:`sizes`) so that a
        message over ``max_bytes`` is never downloaded: only its header block is fetched and
        the result is marked ``truncated``. Each FETCH asks for at most ``BATCH_SIZE``
        messages and, given ``batch_bytes``, about that many bytes (one bigger message goes
        alone). A UID that no longer exists (expunged meanwhile) is left out of the result.
        """
        client = self._connected()
        wanted = sorted(set(uids))
        fetched: list[FetchedMail] = []
        for start in range(0, len(wanted), BATCH_SIZE):
            batch = wanted[start : start + BATCH_SIZE]
            with self._translate("fetch from"):
                known = (
                    {uid: sizes[uid] for uid in batch if uid in sizes}
                    if sizes is not None
                    else _sizes(client, batch)
                )
                for part in by_bytes(batch, known, max_bytes, batch_bytes):
                    fetched.extend(_fetch_batch(client, part, known, max_bytes))
        return fetched

    def mark_seen(self, uids: Sequence[int]) -> None:
        """Set ``\\Seen`` on the given messages, so people reading the same mailbox in a mail
        client can tell what the help desk has already taken in."""
        client = self._connected()
        wanted = sorted(set(uids))
        for start in range(0, len(wanted), BATCH_SIZE):
            with self._translate("mark messages seen on"):
                client.add_flags(wanted[start : start + BATCH_SIZE], [b"\\Seen"], silent=True)

    @property
    def supports_idle(self) -> bool:
        """Whether the server announced IDLE, i.e. whether waiting is push or plain sleep."""
        client = self._connected()
        with self._translate("read capabilities of"):
            return bool(client.has_capability("IDLE"))

    def wait_for_changes(self, timeout: float, wake: socket.socket | None = None) -> bool:
        """Block until the folder changes, ``timeout`` seconds pass or ``wake`` (the reading
        end of a socket pair) becomes readable.

        With IDLE, returns True as soon as the server reports new, recent or expunged
        messages and False on timeout or waking. Without IDLE there is nothing to listen to,
        so it sleeps and returns True to make the caller look. Either way the connection is
        ready for the next command afterwards.
        """
        if not self.supports_idle:
            if wake is None:
                time.sleep(timeout)
            else:
                select.select([wake], [], [], timeout)
            return True
        client = self._connected()
        with self._translate("wait for changes on"):
            return idle_until_change(client, timeout, self._timeout, wake)

    def close(self) -> None:
        """Log out and drop the connection. Never raises: it runs in cleanup paths, where
        the connection may already be gone."""
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.logout()
        except Exception:
            self._client = client
            self._drop()

    def _connected(self) -> IMAPClient:
        if self._lost is not None:
            raise TransientConnectorError(f"IMAP connection was lost earlier: {self._lost}")
        if self._client is None:
            raise RuntimeError("ImapMailbox.open() has not been called")
        return self._client

    @contextmanager
    def _translate(self, action: str) -> Iterator[None]:
        """Turn whatever the IMAP stack raises into a connector error, without the password."""
        try:
            yield
        except ConnectorError:
            raise
        except (IMAPClientAbortError, ProtocolError, OSError) as exc:
            # The connection is unusable (or its state unknown): drop it without a LOGOUT,
            # which could wait a whole timeout on a server that stopped answering.
            error_class: type[ConnectorError] = TransientConnectorError
            if isinstance(exc, ssl.SSLCertVerificationError):
                error_class = PermanentConnectorError
            message = self._message(action, exc)
            self._lost = message
            self._drop()
            raise error_class(message) from exc
        except IMAPClientError as exc:
            text = self._server_text(exc)
            busy = any(code in text.upper() for code in _TRANSIENT_CODES)
            transient = busy and not isinstance(exc, CapabilityError | IMAPClientReadOnlyError)
            error_class = TransientConnectorError if transient else PermanentConnectorError
            if isinstance(exc, LoginError) and not transient:
                action = "log in (credentials rejected) to"
            raise error_class(self._message(action, exc), server_text=text) from exc

    def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with suppress(Exception):  # already broken: closing is best effort
                client.shutdown()

    def _message(self, action: str, exc: BaseException) -> str:
        detail = self._server_text(exc) or type(exc).__name__
        return f"IMAP: could not {action} {self._url.redacted()}: {detail}"

    def _server_text(self, exc: BaseException) -> str:
        """The server's (or socket's) words, without the ``b'...'`` wrapper imaplib leaves
        around them, and never the password."""
        text = str(exc).strip()
        match = _BYTES_REPR.match(text)
        if match:
            text = match.group(2)
        return without_secret(text, self._url.password)


def by_bytes(
    uids: Sequence[int], sizes: Mapping[int, int], max_bytes: int, batch_bytes: int | None
) -> Iterator[list[int]]:
    """``uids`` in order, cut into runs that download about ``batch_bytes`` at most: a message
    counts its size, or only its header block when it is over ``max_bytes``; one message
    bigger than ``batch_bytes`` makes a run of its own. Unknown (expunged) UIDs cost nothing."""
    run: list[int] = []
    total = 0
    for uid in uids:
        size = sizes.get(uid, 0)
        cost = size if size <= max_bytes else min(size, HEADER_BYTES)
        if run and batch_bytes is not None and total + cost > batch_bytes:
            yield run
            run, total = [], 0
        run.append(uid)
        total += cost
    if run:
        yield run


def _sizes(client: IMAPClient, batch: list[int]) -> dict[int, int]:
    wanted = set(batch)
    return {
        uid: int(data[b"RFC822.SIZE"])
        for uid, data in client.fetch(batch, ["RFC822.SIZE"]).items()
        if uid in wanted and b"RFC822.SIZE" in data
    }


def _fetch_batch(
    client: IMAPClient, batch: list[int], sizes: Mapping[int, int], max_bytes: int
) -> Iterator[FetchedMail]:
    whole = [uid for uid in batch if uid in sizes and sizes[uid] <= max_bytes]
    heads = [uid for uid in batch if uid in sizes and sizes[uid] > max_bytes]
    bodies = _fetch_part(client, whole, "BODY.PEEK[]", b"BODY[]")
    headers = _fetch_part(client, heads, "BODY.PEEK[HEADER]", b"BODY[HEADER]")
    for uid in batch:
        if uid in bodies:
            yield FetchedMail(uid=uid, size=sizes[uid], raw=bodies[uid], truncated=False)
        elif uid in headers:
            yield FetchedMail(uid=uid, size=sizes[uid], raw=headers[uid], truncated=True)


def _fetch_part(client: IMAPClient, uids: list[int], item: str, key: bytes) -> dict[int, bytes]:
    """Fetch one body item; an expunged message comes back as NIL (or not at all): skip it."""
    if not uids:
        return {}
    wanted = set(uids)
    return {
        uid: bytes(data[key])
        for uid, data in client.fetch(uids, [item]).items()
        if uid in wanted and data.get(key) is not None
    }
