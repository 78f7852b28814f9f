"""Waiting in IMAP IDLE (RFC 2177) until the selected folder changes.

Why not ``IMAPClient.idle_check``: it polls only the socket, so a line that imaplib has already
pulled into its read buffer (Dovecot often sends ``+ idling`` and a pending ``* 3 EXISTS`` in one
packet) stays unseen until the next keepalive, minutes later; and it reports a closed
connection as "no responses", which would make a server restart look like a quiet mailbox.
So this module reads the IDLE responses itself, from imaplib's own buffered reader, and lets a
dropped connection raise like any other command would. It relies on imaplib internals
(``file``, ``_get_line``) that imapclient itself uses; everything else goes through imapclient.
"""

from __future__ import annotations

import re
import selectors
import socket
import ssl
import time
from typing import Any, Literal

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError

# RFC 2177: servers may log out a client idle for 30 minutes, so renew well before that.
IDLE_RENEW_SECONDS = 25 * 60

_CHANGE = re.compile(rb"^\* \d+ (?:EXISTS|RECENT|EXPUNGE)\b", re.IGNORECASE)
_BYE = re.compile(rb"^\* BYE\b", re.IGNORECASE)


def idle_until_change(
    client: IMAPClient, timeout: float, read_timeout: float, wake: socket.socket | None = None
) -> bool:
    """IDLE on the selected folder for at most ``timeout`` seconds, or until ``wake`` (the
    reading end of a socket pair another thread writes to) becomes readable.

    Returns True as soon as the server reports a new, recent or expunged message, False when
    the time runs out or on waking. The IDLE command is always finished with DONE before
    returning, so the connection is ready for the next command; a dropped connection raises
    imapclient's ``AbortError`` for the caller to translate.
    """
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        client.idle()
        outcome = _wait_in_idle(client, min(remaining, IDLE_RENEW_SECONDS), read_timeout, wake)
        _text, late_responses = client.idle_done()
        if outcome == "changed" or any(_is_change_response(r) for r in late_responses):
            return True
        if outcome == "woken":
            return False


def _wait_in_idle(
    client: IMAPClient, seconds: float, read_timeout: float, wake: socket.socket | None
) -> Literal["changed", "quiet", "woken"]:
    imap = client._imap
    end = time.monotonic() + seconds
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return "quiet"
        ready = _readable(imap, client.socket(), left, read_timeout, wake)
        if ready != "server":
            return ready
        line: bytes = imap._get_line()  # blocks only until the rest of a line that has begun
        if _BYE.match(line):
            raise IMAPClientAbortError(line.decode("ascii", "replace"))
        if _CHANGE.match(line):
            return "changed"


def _readable(
    imap: Any, sock: Any, timeout: float, read_timeout: float, wake: socket.socket | None
) -> Literal["server", "quiet", "woken"]:
    """What ends the wait: "server" when a response line is buffered (by imaplib or by TLS)
    or arrives within ``timeout`` (end of file counts too, so the following read raises);
    "woken" when ``wake`` is readable first; "quiet" when the time runs out."""
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return "server"
    sock.setblocking(False)
    try:
        buffered = bool(imap.file.peek(1))
    except (BlockingIOError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
        buffered = False
    finally:
        sock.settimeout(read_timeout)
    if buffered:
        return "server"
    with selectors.DefaultSelector() as selector:
        selector.register(sock, selectors.EVENT_READ)
        if wake is not None:
            selector.register(wake, selectors.EVENT_READ)
        ready = {key.fileobj for key, _events in selector.select(timeout)}
    if sock in ready:
        return "server"
    return "woken" if wake in ready else "quiet"


def _is_change_response(response: Any) -> bool:
    """imapclient parses untagged responses as tuples like ``(3, b"EXISTS")``."""
    return (
        isinstance(response, tuple)
        and len(response) >= 2
        and isinstance(response[1], bytes)
        and response[1].upper() in {b"EXISTS", b"RECENT", b"EXPUNGE"}
    )
