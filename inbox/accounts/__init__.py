"""The account directory: where the company's customer accounts live, seen from the desk.

Two implementations answer the same :class:`AccountDirectory` interface: the embedded
directory (a table, for the default set-up and the demo; :mod:`inbox.actions.directory`) and
the company's account service over HTTP (``connectors.accounts``, adapted at the edge in
``workers.accounts``). Callers handle exactly two errors: :class:`DirectoryUnavailable`
(try again later) and :class:`DirectoryRefused` (the directory said no; retrying won't help).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

ACCOUNT_STATUSES = ("active", "locked", "disabled")


@dataclass(frozen=True)
class Account:
    account_id: str
    name: str
    status: str
    email: str | None
    phone: str | None
    locked_reason: str = ""


@dataclass(frozen=True)
class CodeSent:
    """A one-time code went out; ``destination`` is the contact on file, masked for display."""

    destination: str
    expires_at: datetime


class DirectoryError(Exception):
    pass


class DirectoryUnavailable(DirectoryError):
    """Timeouts, refused connections, 5xx answers: retrying later may succeed."""


class DirectoryRefused(DirectoryError):
    """The directory answered no (unknown account, disabled account, bad request)."""


@runtime_checkable
class AccountDirectory(Protocol):
    def find(self, *, email: str | None = None, phone: str | None = None) -> Account | None:
        """The account with this email address or E.164 phone number on file, if any."""
        ...

    def get(self, account_id: str) -> Account | None: ...

    def unlock(self, account_id: str, *, idempotency_key: str, reason: str) -> Account:
        """Unlock; the same ``idempotency_key`` twice unlocks once and answers alike."""
        ...

    def send_code(self, account_id: str) -> CodeSent:
        """Send a one-time code to the contact on file (never to an address we name)."""
        ...

    def verify_code(self, account_id: str, code: str) -> bool:
        """Whether ``code`` is the live code of this account; a right code works once."""
        ...


def mask_email(address: str) -> str:
    """``maria.lopez@example.org`` -> ``m***@example.org``: enough to recognise, no more."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def mask_phone(number: str) -> str:
    return f"{number[:3]}•••{number[-2:]}" if len(number) > 6 else "•••"
