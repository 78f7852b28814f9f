"""The push side of an email channel: hand one finished message to an SMTP server.

Outbox workers are synchronous, so :meth:`EmailSender.send` is too; it runs aiosmtplib (the
project's SMTP client) on an event loop private to the calling thread, kept between calls.
This is the edge where aiosmtplib, socket and ssl errors become connector errors, classified
by what a retry could achieve: 4xx replies, timeouts and connection trouble are transient;
5xx replies, rejected credentials and missing server features are permanent.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import threading
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

import aiosmtplib

from connectors.email.urls import MailServerURL
from connectors.errors import (
    ConnectorError,
    PermanentConnectorError,
    TransientConnectorError,
    without_secret,
)

logger = logging.getLogger(__name__)
T = TypeVar("T")
_loops = threading.local()


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run on this thread's own event loop: creating and tearing one down per message (and
    its executor thread) costs more than the SMTP conversation on a local network."""
    runner: asyncio.Runner | None = getattr(_loops, "runner", None)
    if runner is None:
        runner = _loops.runner = asyncio.Runner()
    return runner.run(coroutine)


@cache
def _local_hostname() -> str:
    """The name we give in EHLO; looked up once, not once per message."""
    return socket.getfqdn()


@dataclass(frozen=True)
class EmailSender:
    """Sends messages through the SMTP server in ``url``."""

    url: MailServerURL
    timeout: float = 30.0
    ssl_context: ssl.SSLContext | None = None

    def send(self, message: bytes, *, mail_from: str, recipients: Sequence[str]) -> str:
        """Deliver one message on a connection of its own; see :meth:`SmtpSession.send`."""
        with self.session() as session:
            return session.send(message, mail_from=mail_from, recipients=recipients)

    def session(self) -> SmtpSession:
        """A connection kept open across messages, opened at the first one."""
        if self.url.protocol != "smtp":
            raise ValueError(f"EmailSender needs an smtp URL, got {self.url.redacted()}")
        return SmtpSession(self)

    def _client(self) -> aiosmtplib.SMTP:
        url = self.url
        return aiosmtplib.SMTP(
            hostname=url.host,
            port=url.port,
            use_tls=url.security == "ssl",
            start_tls=url.security == "starttls",
            tls_context=self.ssl_context,
            timeout=self.timeout,
            username=url.username or None,
            password=url.password if url.username else None,
            local_hostname=_local_hostname(),
        )

    def _translate(self, exc: BaseException) -> ConnectorError:
        where = f"SMTP: could not deliver via {self.url.redacted()}"
        if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
            return self._refused(where, exc)
        if isinstance(exc, aiosmtplib.SMTPResponseException):
            text = without_secret(exc.message, self.url.password)
            permanent = exc.code // 100 == 5
            error_class = PermanentConnectorError if permanent else TransientConnectorError
            if permanent and isinstance(exc, aiosmtplib.SMTPAuthenticationError):
                where += " (credentials rejected)"
            return error_class(f"{where}: {exc.code} {text}", code=exc.code, server_text=text)
        detail = without_secret(str(exc) or type(exc).__name__, self.url.password)
        if isinstance(exc, OSError) and not _cert_rejected(exc):
            # Refused, dropped or timed-out connections (aiosmtplib's connect, disconnect and
            # timeout errors are OSErrors too): the server may well be back later.
            return TransientConnectorError(f"{where}: {detail}")
        # No AUTH or STARTTLS on offer, an unusable address, an untrusted certificate: only a
        # configuration change can fix these.
        return PermanentConnectorError(f"{where}: {detail}")

    def _refused(self, where: str, exc: aiosmtplib.SMTPRecipientsRefused) -> ConnectorError:
        """Every recipient was refused. A retry can help if any refusal was temporary."""
        refusals = exc.recipients
        temporary = [r for r in refusals if r.code // 100 != 5]
        first = (temporary or refusals)[0]
        error_class = TransientConnectorError if temporary else PermanentConnectorError
        details = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in refusals)
        text = without_secret(first.message, self.url.password)
        return error_class(
            f"{where}: all recipients refused ({details})", code=first.code, server_text=text
        )


class SmtpSession:
    """One SMTP connection for a run of messages: a backlog of acknowledgements costs one
    connect, greeting and login, not one per mail. After a refused message the envelope is
    reset and the connection goes on; after a connection failure the next message opens a
    new one. Must not be used from a running event loop (it is for synchronous workers)."""

    def __init__(self, sender: EmailSender) -> None:
        self.sender = sender
        self._smtp: aiosmtplib.SMTP | None = None

    def __enter__(self) -> SmtpSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def send(self, message: bytes, *, mail_from: str, recipients: Sequence[str]) -> str:
        """Deliver ``message`` unchanged to ``recipients``; return the server's final reply.

        Succeeds when the server accepted the message for at least one recipient: retrying
        then would duplicate it for the others, so refused recipients are only logged.
        """
        if not recipients:
            raise ValueError("at least one recipient is required")
        try:
            return _run(self._send(message, mail_from, list(recipients)))
        except (aiosmtplib.SMTPException, OSError, ValueError) as exc:
            if not isinstance(exc, aiosmtplib.SMTPResponseException):
                self.close()  # the connection is in an unknown state: start afresh
            raise self.sender._translate(exc) from exc

    async def _send(self, message: bytes, mail_from: str, recipients: list[str]) -> str:
        if self._smtp is None or not self._smtp.is_connected:
            self._smtp = self.sender._client()
            await self._smtp.connect()  # also logs in when the URL names a user
        refused, reply = await self._smtp.sendmail(mail_from, recipients, message)
        for recipient, response in refused.items():
            logger.warning(
                "SMTP server %s refused recipient %s: %s %s",
                self.sender.url.redacted(),
                recipient,
                response.code,
                response.message,
            )
        return reply

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            _run(_quit_quietly(smtp))


async def _quit_quietly(smtp: aiosmtplib.SMTP) -> None:
    """End the session. Failing to say goodbye after the server took the message must not
    turn a delivered message into an error (and a duplicate on retry)."""
    if not smtp.is_connected:
        return
    try:
        await smtp.quit()
    except (aiosmtplib.SMTPException, OSError):
        smtp.close()


def _cert_rejected(exc: BaseException) -> bool:
    """aiosmtplib wraps TLS failures in its own connect errors; look down the chain."""
    link: BaseException | None = exc
    for _ in range(10):  # exception chains are short; the bound guards against cycles
        if link is None:
            return False
        if isinstance(link, ssl.SSLCertVerificationError):
            return True
        link = link.__cause__ or link.__context__
    return False
