"""The account directory for this process: the account service over HTTP when configured,
else the embedded directory. The HTTP adapter translates the connector's records and errors
into the desk's own (``inbox.accounts``) where they enter."""

from __future__ import annotations

import weakref

from connectors.accounts import AccountRecord, AccountServiceClient
from connectors.errors import PermanentConnectorError, TransientConnectorError
from inbox.accounts import (
    Account,
    AccountDirectory,
    CodeSent,
    DirectoryRefused,
    DirectoryUnavailable,
)
from inbox.actions.directory import EmbeddedDirectory
from workers.runtime import Runtime


def _account(record: AccountRecord) -> Account:
    return Account(
        account_id=record.account_id,
        name=record.name,
        status=record.status,
        email=record.email,
        phone=record.phone,
        locked_reason=record.locked_reason,
    )


class HttpDirectory:
    def __init__(self, client: AccountServiceClient) -> None:
        self.client = client

    def find(self, *, email: str | None = None, phone: str | None = None) -> Account | None:
        try:
            record = self.client.find(email=email, phone=phone)
        except TransientConnectorError as exc:
            raise DirectoryUnavailable(str(exc)) from exc
        except PermanentConnectorError as exc:
            raise DirectoryRefused(str(exc)) from exc
        return _account(record) if record else None

    def get(self, account_id: str) -> Account | None:
        try:
            record = self.client.get(account_id)
        except TransientConnectorError as exc:
            raise DirectoryUnavailable(str(exc)) from exc
        except PermanentConnectorError as exc:
            raise DirectoryRefused(str(exc)) from exc
        return _account(record) if record else None

    def unlock(self, account_id: str, *, idempotency_key: str, reason: str) -> Account:
        try:
            record = self.client.unlock(account_id, idempotency_key=idempotency_key, reason=reason)
        except TransientConnectorError as exc:
            raise DirectoryUnavailable(str(exc)) from exc
        except PermanentConnectorError as exc:
            raise DirectoryRefused(str(exc)) from exc
        return _account(record)

    def send_code(self, account_id: str) -> CodeSent:
        try:
            sent = self.client.send_code(account_id)
        except TransientConnectorError as exc:
            raise DirectoryUnavailable(str(exc)) from exc
        except PermanentConnectorError as exc:
            raise DirectoryRefused(str(exc)) from exc
        return CodeSent(destination=sent.destination, expires_at=sent.expires_at)

    def verify_code(self, account_id: str, code: str) -> bool:
        try:
            return self.client.verify_code(account_id, code)
        except TransientConnectorError as exc:
            raise DirectoryUnavailable(str(exc)) from exc
        except PermanentConnectorError as exc:
            raise DirectoryRefused(str(exc)) from exc


def build_directory(rt: Runtime) -> AccountDirectory:
    settings = rt.settings
    if settings.accounts_url:
        return HttpDirectory(
            AccountServiceClient(
                settings.accounts_url,
                settings.accounts_token,
                timeout=settings.accounts_timeout_seconds,
            )
        )
    return EmbeddedDirectory(rt.db, settings)


_directories: dict[int, tuple[weakref.ref[Runtime], AccountDirectory]] = {}


def account_directory(rt: Runtime) -> AccountDirectory:
    """One directory per runtime, built on first use."""
    cached = _directories.get(id(rt))
    if cached is not None and cached[0]() is rt:
        return cached[1]
    directory = build_directory(rt)
    _directories[id(rt)] = (weakref.ref(rt), directory)
    return directory
