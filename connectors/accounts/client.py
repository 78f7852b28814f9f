"""HTTP client for the account service: look up, read status, unlock, send and check codes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from connectors.errors import PermanentConnectorError, TransientConnectorError, without_secret

MAX_RESPONSE_BYTES = 256 * 1024
# Worth another try later: the request timed out, or the service is busy or restarting.
TRANSIENT_STATUSES = {408, 425, 429}


@dataclass(frozen=True)
class AccountRecord:
    account_id: str
    name: str
    status: str
    email: str | None
    phone: str | None
    locked_reason: str


@dataclass(frozen=True)
class CodeDispatch:
    destination: str
    expires_at: datetime


def _record(data: Any) -> AccountRecord:
    try:
        return AccountRecord(
            account_id=str(data["id"]),
            name=str(data.get("name") or ""),
            status=str(data["status"]),
            email=data.get("email") or None,
            phone=data.get("phone") or None,
            locked_reason=str(data.get("locked_reason") or ""),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise PermanentConnectorError(f"account service sent an unexpected account: {exc}") from exc


class AccountServiceClient:
    """One client per configuration; safe to share between threads (a new connection per call)."""

    def __init__(self, base_url: str, token: str, *, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.timeout = timeout

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        missing_ok: bool = False,
    ) -> Any:
        # Imported on first use: a tenth of a second that every process would otherwise pay
        # at start, and most never call the service.
        import httpx

        url = f"{self.base_url}{path}"
        try:
            with (
                httpx.Client(timeout=self.timeout, follow_redirects=False) as client,
                client.stream(
                    method,
                    url,
                    params=params,
                    json=body,
                    headers={
                        "Authorization": f"Bearer {self._token}",
                        "Accept": "application/json",
                        **(headers or {}),
                    },
                ) as response,
            ):
                raw = b""
                for chunk in response.iter_bytes():
                    raw += chunk
                    if len(raw) > MAX_RESPONSE_BYTES:
                        raise PermanentConnectorError(
                            f"account service answer to {method} {path} is too large"
                        )
        except httpx.TimeoutException as exc:
            raise TransientConnectorError(f"account service timed out on {method} {path}") from exc
        except httpx.HTTPError as exc:
            raise TransientConnectorError(
                without_secret(
                    f"account service unreachable ({type(exc).__name__}: {exc})", self._token
                )
            ) from exc
        status = response.status_code
        if status == 404 and missing_ok:
            return None
        if status >= 400:
            detail = _error_detail(raw)
            message = f"account service answered {status} to {method} {path}: {detail}"
            message = without_secret(message, self._token)
            if status >= 500 or status in TRANSIENT_STATUSES:
                raise TransientConnectorError(message, code=status, server_text=detail)
            raise PermanentConnectorError(message, code=status, server_text=detail)
        if not 200 <= status < 300:
            raise PermanentConnectorError(f"account service answered {status} to {method} {path}")
        try:
            return json.loads(raw) if raw else None
        except ValueError as exc:
            raise PermanentConnectorError(
                f"account service sent something other than JSON to {method} {path}"
            ) from exc

    def find(self, *, email: str | None = None, phone: str | None = None) -> AccountRecord | None:
        params = {"email": email} if email else {"phone": phone or ""}
        data = self._call("GET", "/accounts", params=params)
        items = data.get("items") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise PermanentConnectorError("account service sent a lookup without items")
        return _record(items[0]) if items else None

    def get(self, account_id: str) -> AccountRecord | None:
        data = self._call("GET", f"/accounts/{quote(account_id, safe='')}", missing_ok=True)
        return _record(data) if data is not None else None

    def unlock(self, account_id: str, *, idempotency_key: str, reason: str) -> AccountRecord:
        data = self._call(
            "POST",
            f"/accounts/{quote(account_id, safe='')}/unlock",
            body={"reason": reason},
            headers={"Idempotency-Key": idempotency_key},
        )
        return _record(data)

    def send_code(self, account_id: str) -> CodeDispatch:
        data = self._call(
            "POST", f"/accounts/{quote(account_id, safe='')}/verification-codes", body={}
        )
        try:
            expires = datetime.fromisoformat(str(data["expires_at"]))
            if expires.tzinfo is None:
                raise ValueError("expires_at without a time zone")
            return CodeDispatch(destination=str(data["destination"]), expires_at=expires)
        except (KeyError, TypeError, ValueError) as exc:
            raise PermanentConnectorError(
                f"account service sent an unexpected code dispatch: {exc}"
            ) from exc

    def verify_code(self, account_id: str, code: str) -> bool:
        data = self._call(
            "POST",
            f"/accounts/{quote(account_id, safe='')}/verification-codes/verify",
            body={"code": code},
        )
        valid = data.get("valid") if isinstance(data, dict) else None
        if not isinstance(valid, bool):
            raise PermanentConnectorError("account service sent a code check without 'valid'")
        return valid


def _error_detail(raw: bytes) -> str:
    try:
        data = json.loads(raw)
    except ValueError:
        return raw[:200].decode("utf-8", "replace")
    if isinstance(data, dict):
        return str(data.get("detail") or data.get("error") or "")[:500]
    return ""
