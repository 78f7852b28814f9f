"""Mail server URLs: one string per server in channel configuration.

``scheme://user:password@host:port/FOLDER`` with the user and password percent-encoded, so a
whole connection (protocol, transport security, credentials, folder) is one encrypted config
value that admins can paste. Parsing is strict because a silently ignored typo here means mail
that is never fetched or sent; error messages never repeat the URL, which may hold a password.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import quote, unquote, urlsplit

MailProtocol = Literal["imap", "smtp"]
Security = Literal["ssl", "starttls", "plain"]

# scheme -> (protocol, security, default port)
_SCHEMES: dict[str, tuple[MailProtocol, Security, int]] = {
    "imap": ("imap", "plain", 143),
    "imaps": ("imap", "ssl", 993),
    "imap+starttls": ("imap", "starttls", 143),
    "smtp": ("smtp", "plain", 25),
    "smtps": ("smtp", "ssl", 465),
    "smtp+starttls": ("smtp", "starttls", 587),
}
_SCHEME_OF = {(protocol, security): scheme for scheme, (protocol, security, _) in _SCHEMES.items()}
DEFAULT_FOLDER = "INBOX"


@dataclass(frozen=True)
class MailServerURL:
    """A parsed mail server URL. The password is left out of ``repr`` so that logging the
    object (or a dataclass holding it) cannot leak it; use :meth:`redacted` for display."""

    protocol: MailProtocol
    security: Security
    host: str
    port: int
    username: str
    password: str = field(repr=False)
    folder: str

    def redacted(self) -> str:
        """The URL with the password replaced by ``***``: safe for logs and error messages."""
        scheme = _SCHEME_OF[(self.protocol, self.security)]
        host = f"[{self.host}]" if ":" in self.host else self.host
        userinfo = ""
        if self.username:
            userinfo = quote(self.username, safe="")
            userinfo += ":***@" if self.password else "@"
        path = f"/{quote(self.folder, safe='')}" if self.folder else ""
        return f"{scheme}://{userinfo}{host}:{self.port}{path}"


def parse_mail_url(url: str, *, protocol: MailProtocol) -> MailServerURL:
    """Parse ``url`` as a server for ``protocol``; raise ``ValueError`` saying what is wrong.

    IMAP URLs must name a user (there is no anonymous IMAP for a help desk) and default to the
    ``INBOX`` folder; SMTP URLs may omit the user (no AUTH) and must not have a folder.
    """
    scheme, _, rest = url.strip().partition("://")
    scheme = scheme.lower()
    expected = ", ".join(f"{name}://" for name, spec in _SCHEMES.items() if spec[0] == protocol)
    if not rest or scheme not in _SCHEMES or _SCHEMES[scheme][0] != protocol:
        shown = f"scheme {scheme!r}" if rest else "no scheme"
        raise ValueError(f"expected an {protocol} server URL ({expected}), got {shown}")
    _, security, default_port = _SCHEMES[scheme]

    try:
        parts = urlsplit(f"{scheme}://{rest}")
    except ValueError:
        raise ValueError(f"{protocol} server URL is malformed") from None
    if parts.query or parts.fragment:
        raise ValueError(
            f"{protocol} server URL must not have a query or fragment "
            "(percent-encode '?', '#' and '/' inside the user or password)"
        )
    host = parts.hostname or ""
    if not host:
        raise ValueError(f"{protocol} server URL has no host")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"{protocol} server URL has an invalid port") from None
    if port is None:
        port = default_port
    if not 0 < port < 65536:
        raise ValueError(f"{protocol} server URL has an invalid port")

    username = unquote(parts.username or "")
    password = unquote(parts.password or "")
    folder = unquote(parts.path[1:]) if parts.path.startswith("/") else ""
    if password and not username:
        raise ValueError(f"{protocol} server URL has a password but no user name")
    if protocol == "imap":
        if not username:
            raise ValueError("imap server URL has no user name")
        folder = folder or DEFAULT_FOLDER
    elif folder:
        raise ValueError("smtp server URL must not have a path")

    return MailServerURL(
        protocol=protocol,
        security=security,
        host=host,
        port=port,
        username=username,
        password=password,
        folder=folder,
    )
