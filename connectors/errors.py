"""The one exception tree every connector raises.

Callers (the outbox worker, the mail poller) decide between "retry later" and "give up and tell
an agent" by catching exactly two classes. That decision only works if no third-party exception
(imaplib, imapclient, aiosmtplib, socket, ssl) ever escapes a connector, so each transport
translates at the point where it calls the library and raises one of these instead.

Messages are written for logs and for the channel health panel, so they must never contain a
password: connectors build them from redacted URLs and pass server text through
:func:`without_secret` before raising.
"""

from __future__ import annotations


class ConnectorError(Exception):
    """A transport failed. ``code`` is the protocol status code when the server sent one
    (SMTP reply code), ``server_text`` the server's own words, both for display and triage."""

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        server_text: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.server_text = server_text
        # Seconds the platform asked us to wait before the next try (a 429's Retry-After,
        # Telegram's ``parameters.retry_after``, X's ``x-rate-limit-reset``), when it said.
        self.retry_after = retry_after


class TransientConnectorError(ConnectorError):
    """Retrying later may succeed: 4xx replies, timeouts, refused or dropped connections,
    a server restarting."""


class PermanentConnectorError(ConnectorError):
    """Retrying will not help until someone changes something: 5xx replies, rejected
    credentials, a folder that does not exist, an unusable configuration."""


class CredentialsRefused(PermanentConnectorError):
    """The platform refused the channel's token or secret: nothing will get through until an
    administrator gives the channel a new one, so the channel shows red with the reason."""


def without_secret(text: str, secret: str) -> str:
    """Return ``text`` with every occurrence of ``secret`` replaced by ``***``.

    A belt-and-braces pass over library and server messages: servers do not normally echo
    credentials, but one that does must not get them into our logs.
    """
    if not secret:
        return text
    return text.replace(secret, "***")
