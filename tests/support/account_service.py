"""A small account service on loopback speaking the shapes of docs/accounts-api.md: the far
end of the HTTP account directory in tests. Scriptable to fail or stall, like the SMTP peer::

    with AccountService(token="t") as service:
        service.add("acc-1", email="maria@example.org", status="locked")
        service.fail_next(503, times=2)    # then answers normally again
        service.stall_next(seconds=2)      # longer than the client's timeout
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit


class AccountService:
    def __init__(self, *, token: str) -> None:
        self.token = token
        self.accounts: dict[str, dict[str, Any]] = {}
        self.codes: dict[str, str] = {}
        self.unlocks: dict[str, dict[str, Any]] = {}  # idempotency key -> answer
        self.requests: list[tuple[str, str, dict[str, str], Any]] = []
        self._script: deque[tuple[str, Any]] = deque()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> AccountService:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add(
        self,
        account_id: str,
        *,
        name: str = "",
        email: str | None = None,
        phone: str | None = None,
        status: str = "active",
    ) -> None:
        self.accounts[account_id] = {
            "id": account_id,
            "name": name,
            "status": status,
            "email": email,
            "phone": phone,
            "locked_reason": "too many wrong passwords" if status == "locked" else "",
        }

    def fail_next(self, status: int, *, times: int = 1) -> None:
        with self._lock:
            self._script.extend(("fail", status) for _ in range(times))

    def stall_next(self, *, seconds: float) -> None:
        with self._lock:
            self._script.append(("stall", seconds))

    def unlock_calls(self) -> list[tuple[str, dict[str, str], Any]]:
        return [
            (path, headers, body)
            for method, path, headers, body in self.requests
            if method == "POST" and path.endswith("/unlock")
        ]

    # -- serving ----------------------------------------------------------------------

    def answer(
        self, method: str, target: str, headers: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        with self._lock:
            self.requests.append((method, urlsplit(target).path, headers, body))
            step = self._script.popleft() if self._script else None
        if step is not None and step[0] == "stall":
            time.sleep(step[1])
        if step is not None and step[0] == "fail":
            return step[1], {"error": "scripted", "detail": f"scripted failure {step[1]}"}
        if headers.get("authorization") != f"Bearer {self.token}":
            return 401, {"error": "unauthorized", "detail": "bad token"}
        parts = urlsplit(target)
        segments = [unquote(s) for s in parts.path.strip("/").split("/")]
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if method == "GET" and segments == ["accounts"]:
            items = [
                a
                for a in self.accounts.values()
                if ("email" in query and a["email"] == query["email"])
                or ("phone" in query and a["phone"] == query["phone"])
            ]
            return 200, {"items": items}
        if len(segments) < 2 or segments[0] != "accounts" or segments[1] not in self.accounts:
            return 404, {"error": "not_found", "detail": "no such account"}
        account = self.accounts[segments[1]]
        rest = segments[2:]
        if method == "GET" and not rest:
            return 200, account
        if method == "POST" and rest == ["unlock"]:
            key = headers.get("idempotency-key", "")
            if not key:
                return 400, {"error": "bad_request", "detail": "Idempotency-Key is required"}
            if key in self.unlocks:
                return 200, self.unlocks[key]
            if account["status"] == "disabled":
                return 409, {"error": "conflict", "detail": "account is disabled"}
            account.update(status="active", locked_reason="")
            self.unlocks[key] = dict(account)
            return 200, account
        if method == "POST" and rest == ["verification-codes"]:
            self.codes[account["id"]] = "424242"
            expires = datetime.now(UTC) + timedelta(minutes=10)
            return 202, {"destination": "m***@example.org", "expires_at": expires.isoformat()}
        if method == "POST" and rest == ["verification-codes", "verify"]:
            valid = self.codes.get(account["id"]) == (body or {}).get("code")
            if valid:
                del self.codes[account["id"]]
            return 200, {"valid": valid}
        return 404, {"error": "not_found", "detail": "no such route"}


def _handler(service: AccountService) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, answer = service.answer(self.command, self.path, headers, body)
            data = json.dumps(answer).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (a timeout test)

        do_GET = _serve
        do_POST = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
