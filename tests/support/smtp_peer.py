"""A real SMTP server (aiosmtpd) on loopback that records what it accepts and can be told to
refuse: the far end of every outbound-mail test.

Replies to DATA are scriptable so tests can drive the retry logic with genuine protocol
responses instead of mocks::

    with SmtpPeer() as peer:
        peer.respond_with(["451 4.3.0 try later"])  # next message refused, then 250 again
        ...
        [received] = peer.wait_for(1, timeout=5)
"""

from __future__ import annotations

import errno
import socket
import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, cast
from urllib.parse import quote

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

HOST = "127.0.0.1"
ACCEPT = "250 2.0.0 OK queued"


@dataclass(frozen=True)
class Received:
    """One message the peer accepted, exactly as it came over the wire."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    message: EmailMessage


class SmtpPeer:
    """An aiosmtpd ``Controller`` on a free port of 127.0.0.1, started by ``start()`` or
    ``with``. Thread-safe: aiosmtpd runs in its own thread, tests read from theirs."""

    def __init__(self, *, users: Mapping[str, str] | None = None) -> None:
        """With ``users`` (name -> password) the peer offers AUTH PLAIN/LOGIN over plain text
        and answers wrong credentials with 535, like a submission server."""
        self.port = _free_port()
        self._received: list[Received] = []
        self._attempts = 0
        self._script: deque[str] = deque()
        self._default = ACCEPT
        self._changed = threading.Condition()
        self._auth: dict[str, Any] = {}
        if users is not None:
            self._auth = {"authenticator": _Authenticator(users), "auth_require_tls": False}
        self._controller: Controller | None = None
        self._running = False

    def __enter__(self) -> SmtpPeer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        """Listen, moving to another free port if this one was taken since it was picked
        (tests running in parallel); ``smtp_url()`` always names the port in use."""
        if self._running:
            return
        for attempt in range(3):
            self._controller = Controller(
                _Handler(self), hostname=HOST, port=self.port, **self._auth
            )
            try:
                self._controller.start()
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE or attempt == 2:
                    raise
                self.port = _free_port()
            else:
                self._running = True
                return

    def stop(self) -> None:
        if self._running and self._controller is not None:
            self._controller.stop()
            self._running = False

    def smtp_url(self, user: str = "", password: str = "") -> str:
        """An ``smtp://`` URL (no TLS) for channel configuration, with credentials if given."""
        userinfo = f"{quote(user, safe='')}:{quote(password, safe='')}@" if user else ""
        return f"smtp://{userinfo}{HOST}:{self.port}"

    def respond_with(self, replies: Iterable[str]) -> None:
        """Answer the next DATA commands with these replies, in order, then the default."""
        with self._changed:
            self._script.extend(replies)

    def always(self, reply: str) -> None:
        """Answer every DATA with ``reply`` (once the scripted replies are used up)."""
        with self._changed:
            self._default = reply

    @property
    def received(self) -> list[Received]:
        """Messages accepted so far, oldest first."""
        with self._changed:
            return list(self._received)

    @property
    def attempts(self) -> int:
        """DATA commands seen, accepted or not: how many times a sender tried."""
        with self._changed:
            return self._attempts

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Block until at least ``count`` messages were accepted; fail loudly otherwise."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self._received) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"expected {count} message(s) within {timeout}s, "
                        f"got {len(self._received)} after {self._attempts} attempt(s)"
                    )
                self._changed.wait(remaining)
            return list(self._received)

    def _reply_to_data(self, envelope: Envelope) -> str:
        with self._changed:
            self._attempts += 1
            reply = self._script.popleft() if self._script else self._default
            if reply.startswith("2"):
                raw = envelope.original_content or b""
                self._received.append(
                    Received(
                        mail_from=envelope.mail_from or "",
                        rcpt_tos=tuple(envelope.rcpt_tos),
                        raw=raw,
                        message=cast(EmailMessage, message_from_bytes(raw, policy=policy.default)),
                    )
                )
            self._changed.notify_all()
            return reply


class _Handler:
    """aiosmtpd calls ``handle_DATA`` once per message; everything else keeps its defaults."""

    def __init__(self, peer: SmtpPeer) -> None:
        self._peer = peer

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return self._peer._reply_to_data(envelope)


class _Authenticator:
    def __init__(self, users: Mapping[str, str]) -> None:
        self._users = dict(users)

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword):
            user, password = data.login.decode(), data.password.decode()
            if user in self._users and self._users[user] == password:
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(cast(Any, sock.getsockname())[1])
