"""Small servers on loopback speaking the social platforms' documented shapes, the far end of
the social connectors in tests. Each is scriptable to fail like the platform does::

    with FakeTelegram(token="123:abc") as telegram:
        telegram.customer_writes(chat_id=42, text="Hello", first_name="Ana")
        telegram.fail_next(429, retry_after=3)      # Telegram's flood control, once
        telegram.revoked = True                     # every call: 401 Unauthorized

    with FakeGraph(token="page-token") as graph:    # Messenger, Instagram, WhatsApp sends
        graph.fail_next(400, code=131047, message="Re-engagement message")

    with FakeX(token="user-token", user_id="900") as x:
        x.customer_writes("77", "Hi", name="Xavier")
        x.remaining = 0                             # the rate limit spent: 429 until reset

And what Meta posts to the webhook, signed as Meta signs it (non-ASCII escaped as \\uXXXX in
the very bytes signed): ``signed_webhook(body, app_secret)``.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client gone mid-answer (a long poll its watcher stopped) is not an error here."""


class _Server:
    """A threaded HTTP server whose requests ``handle`` answers."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str], Any]] = []
        self.lock = threading.Lock()
        self._script: deque[tuple[int, dict[str, Any], dict[str, str]]] = deque()
        self._server = _QuietServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> Any:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def script(
        self, status: int, body: dict[str, Any], headers: dict[str, str], times: int
    ) -> None:
        with self.lock:
            self._script.extend([(status, body, headers)] * times)

    def scripted(self) -> tuple[int, dict[str, Any], dict[str, str]] | None:
        with self.lock:
            return self._script.popleft() if self._script else None

    def handle(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        raise NotImplementedError

    def sent(self, path_part: str) -> list[Any]:
        """Bodies of the POSTs whose path contains ``path_part``."""
        return [b for m, p, _, b in self.requests if m == "POST" and path_part in p]


def _handler(server: _Server) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _serve(self, method: str) -> None:
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw
            headers = {k.lower(): v for k, v in self.headers.items()}
            with server.lock:
                server.requests.append((method, parts.path, headers, body))
            status, answer, extra = server.handle(method, parts.path, query, headers, body)
            payload = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            if not isinstance(answer, bytes):
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

    return Handler


class FakeTelegram(_Server):
    """The Bot API: ``getMe``, ``getUpdates`` (offset confirms, ``timeout`` long-polls),
    ``sendMessage``, ``getFile`` and ``/file/bot<token>/<path>``; ``setWebhook``,
    ``deleteWebhook`` and ``getWebhookInfo``: while a webhook is set, ``getUpdates`` answers
    409 and the updates wait for the test to post them (``take_updates``)."""

    def __init__(self, *, token: str) -> None:
        super().__init__()
        self.token = token
        self.revoked = False
        self.blocked: set[int] = set()
        self.updates: list[dict[str, Any]] = []
        self.files: dict[str, bytes] = {}
        self.file_redirect: str | None = None  # the file URL answers 302 to this
        self.webhook: dict[str, Any] | None = None  # what setWebhook was given
        self._ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._arrived = threading.Condition(self.lock)

    def customer_writes(
        self,
        *,
        chat_id: int,
        text: str = "",
        first_name: str = "Ana",
        photo: bytes | None = None,
        document: tuple[str, bytes] | None = None,
        announced_size: int | None = None,
    ) -> int:
        """A private chat message as an update; returns its message id."""
        message_id = next(self._message_ids)
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": {"id": chat_id, "is_bot": False, "first_name": first_name},
            "chat": {"id": chat_id, "type": "private", "first_name": first_name},
            "date": int(time.time()),
        }
        if text:
            message["caption" if photo or document else "text"] = text
        if photo is not None:
            file_id = f"photo-{message_id}"
            self.files[file_id] = photo
            size = announced_size or len(photo)
            message["photo"] = [
                {"file_id": f"{file_id}-small", "file_unique_id": "s", "width": 90, "height": 90,
                 "file_size": 1},
                {"file_id": file_id, "file_unique_id": "u", "width": 800, "height": 600,
                 "file_size": size},
            ]  # fmt: skip
        if document is not None:
            file_id = f"doc-{message_id}"
            self.files[file_id] = document[1]
            message["document"] = {
                "file_id": file_id,
                "file_unique_id": "d",
                "file_name": document[0],
                "mime_type": "application/pdf",
                "file_size": announced_size or len(document[1]),
            }
        with self._arrived:
            self.updates.append({"update_id": next(self._ids), "message": message})
            self._arrived.notify_all()
        return message_id

    def fail_next(
        self, status: int, *, retry_after: int | None = None, description: str = "", times: int = 1
    ) -> None:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": status,
            "description": description or f"Too Many Requests: retry after {retry_after}",
        }
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        self.script(status, body, {}, times)

    def handle(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        if path.startswith(f"/file/bot{self.token}/"):
            if self.file_redirect:
                return 302, b"", {"Location": self.file_redirect}
            file_id = path.rsplit("/", 1)[-1]
            data = self.files.get(file_id)
            return (200, data, {}) if data is not None else (404, b"", {})
        prefix = f"/bot{self.token}/"
        if self.revoked or not path.startswith(prefix):
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}, {}
        scripted = self.scripted()
        if scripted is not None:
            return scripted
        name = path[len(prefix) :]
        body = body or {}
        if name == "getMe":
            return self._ok({"id": 1, "is_bot": True, "username": "desk_bot"})
        if name == "getUpdates":
            if self.webhook is not None:
                conflict = ("Conflict: can't use getUpdates method while webhook is active; "
                            "use deleteWebhook to delete the webhook first")  # fmt: skip
                return 409, {"ok": False, "error_code": 409, "description": conflict}, {}
            return self._ok(self._get_updates(body))
        if name == "setWebhook":
            if not str(body.get("url", "")).startswith(("https://", "http://")):
                refusal = "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
                return 400, {"ok": False, "error_code": 400, "description": refusal}, {}
            with self._arrived:
                self.webhook = dict(body)
                self._arrived.notify_all()
            return self._ok(True)
        if name == "deleteWebhook":
            with self.lock:
                self.webhook = None
            return self._ok(True)
        if name == "getWebhookInfo":
            url = (self.webhook or {}).get("url", "")
            return self._ok({"url": url, "has_custom_certificate": False,
                             "pending_update_count": len(self.updates)})  # fmt: skip
        if name == "sendMessage":
            if int(body.get("chat_id", 0)) in self.blocked:
                forbidden = "Forbidden: bot was blocked by the user"
                return 403, {"ok": False, "error_code": 403, "description": forbidden}, {}
            message_id = next(self._message_ids)
            return self._ok({"message_id": message_id, "chat": {"id": int(body["chat_id"])},
                             "date": int(time.time()), "text": body.get("text")})  # fmt: skip
        if name == "getFile":
            file_id = str(body.get("file_id"))
            if file_id not in self.files:
                return 400, {"ok": False, "error_code": 400,
                             "description": "Bad Request: invalid file_id"}, {}  # fmt: skip
            return self._ok({"file_id": file_id, "file_path": f"files/{file_id}"})
        return 404, {"ok": False, "error_code": 404, "description": "Not Found"}, {}

    def take_updates(self) -> list[dict[str, Any]]:
        """The updates waiting, as Telegram posts them to a webhook, one per post; taken."""
        with self.lock:
            taken, self.updates = self.updates, []
        return taken

    def _get_updates(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        offset = body.get("offset")
        deadline = time.monotonic() + float(body.get("timeout") or 0)
        with self._arrived:
            if offset is not None:  # confirmed: forgotten, as Telegram forgets them
                self.updates = [u for u in self.updates if u["update_id"] >= int(offset)]
            # A long poll under way ends when a webhook is set (the next call gets 409).
            while not self.updates and self.webhook is None and time.monotonic() < deadline:
                self._arrived.wait(deadline - time.monotonic())
            return self.updates[: int(body.get("limit") or 100)]

    @staticmethod
    def _ok(result: Any) -> tuple[int, Any, dict[str, str]]:
        return 200, {"ok": True, "result": result}, {}


class _GraphReads:
    """``GET /{id}``: a profile (Messenger's ``first_name``/``last_name``), a media object
    (``url``, ``mime_type``, ``file_size``) whose URL serves the file to the token's bearer, or
    the account itself."""

    profiles: dict[str, dict[str, str]]
    media: dict[str, tuple[bytes, str, int | None]]
    media_url_host: str | None
    url: str

    def _get(self, key: str, query: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        if key.startswith("media-file/"):
            found = self.media.get(key.split("/", 1)[1])
            return (200, found[0], {"Content-Type": found[1]}) if found else (404, b"", {})
        if key in self.profiles:
            return 200, {"id": key, **self.profiles[key]}, {}
        if key in self.media:
            data, mime, announced = self.media[key]
            base = self.media_url_host or self.url
            return 200, {"messaging_product": "whatsapp", "id": key, "mime_type": mime,
                         "file_size": announced or len(data), "sha256": "x",
                         "url": f"{base}/media-file/{key}"}, {}  # fmt: skip
        if key.isdigit() and len(key) < 12:
            error = {"message": "Unsupported get request.", "type": "GraphMethodException",
                     "code": 100, "error_subcode": 33}  # fmt: skip
            return 400, {"error": error}, {}
        return 200, {"id": key, "name": "Example Payments"}, {}


class FakeGraph(_Server, _GraphReads):
    """The Graph API's send endpoint ``POST /{id}/messages`` for Messenger, Instagram and
    WhatsApp (told apart by the body: WhatsApp's carries ``messaging_product``)."""

    def __init__(self, *, token: str) -> None:
        super().__init__()
        self.token = token
        self.revoked = False
        self.profiles = {}
        self.media = {}
        self.media_url_host = None  # where media URLs point; None: this server
        self._ids = itertools.count(1)

    def fail_next(
        self,
        status: int,
        *,
        code: int,
        message: str = "",
        headers: dict[str, str] | None = None,
        times: int = 1,
    ) -> None:
        error = {"message": message or f"error {code}", "type": "OAuthException", "code": code,
                 "fbtrace_id": "AbCdEf"}  # fmt: skip
        self.script(status, {"error": error}, headers or {}, times)

    def handle(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        if self.revoked or headers.get("authorization") != f"Bearer {self.token}":
            error = {"message": "Error validating access token: The session has been "
                     "invalidated because the user changed their password.",
                     "type": "OAuthException", "code": 190, "error_subcode": 460}  # fmt: skip
            return 401, {"error": error}, {}
        scripted = self.scripted()
        if scripted is not None:
            return scripted
        if method == "GET":
            return self._get(path.strip("/"), query)
        if not path.endswith("/messages"):
            return 404, {"error": {"message": "Unknown path", "code": 803}}, {}
        n = next(self._ids)
        if isinstance(body, dict) and body.get("messaging_product") == "whatsapp":
            to = body.get("to")
            return 200, {"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}],
                         "messages": [{"id": f"wamid.OUT{n}"}]}, {}  # fmt: skip
        recipient = (body or {}).get("recipient", {}).get("id")
        return 200, {"recipient_id": recipient, "message_id": f"m_out{n}"}, {}


class FakeX(_Server):
    """X API v2 ``GET /2/dm_events`` (newest first, ``next_token`` paging, rate-limit
    headers) and ``POST /2/dm_conversations/with/{id}/messages``."""

    def __init__(self, *, token: str, user_id: str, page_size: int = 100) -> None:
        super().__init__()
        self.token = token
        self.user_id = user_id
        self.page_size = page_size
        self.revoked = False
        self.remaining = 15
        self.reset_in = 2  # seconds until the rate-limit window resets
        self.events: list[dict[str, Any]] = []  # oldest first
        self.users: dict[str, dict[str, str]] = {}
        self._ids = itertools.count(1_700_000_000_000_000_000, 7)

    def customer_writes(self, user_id: str, text: str, *, name: str = "Xavier") -> str:
        self.users[user_id] = {"id": user_id, "name": name, "username": name.lower()}
        return self._event(user_id, user_id, text)

    def _event(self, sender: str, customer: str, text: str) -> str:
        event_id = str(next(self._ids))
        low, high = sorted((customer, self.user_id), key=int)
        with self.lock:
            self.events.append({
                "id": event_id, "event_type": "MessageCreate", "text": text, "sender_id": sender,
                "dm_conversation_id": f"{low}-{high}", "participant_ids": [sender, customer]
                if sender != customer else [customer, self.user_id],
                "created_at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
            })  # fmt: skip
        return event_id

    def handle(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        if self.revoked or headers.get("authorization") != f"Bearer {self.token}":
            return 401, {"title": "Unauthorized", "type": "about:blank", "status": 401,
                         "detail": "Unauthorized"}, {}  # fmt: skip
        reset = str(int(time.time()) + self.reset_in)
        if self.remaining <= 0:
            limits = {"x-rate-limit-limit": "15", "x-rate-limit-remaining": "0",
                      "x-rate-limit-reset": reset}  # fmt: skip
            return 429, {"title": "Too Many Requests", "detail": "Too Many Requests",
                         "type": "about:blank", "status": 429}, limits  # fmt: skip
        self.remaining -= 1
        limits = {"x-rate-limit-limit": "15", "x-rate-limit-remaining": str(self.remaining),
                  "x-rate-limit-reset": reset}  # fmt: skip
        if method == "GET" and path == "/2/dm_events":
            newest_first = list(reversed(self.events))
            start = int(query.get("pagination_token") or 0)
            page = newest_first[start : start + self.page_size]
            meta: dict[str, Any] = {"result_count": len(page)}
            if start + self.page_size < len(newest_first):
                meta["next_token"] = str(start + self.page_size)
            users = [self.users[e["sender_id"]] for e in page if e["sender_id"] in self.users]
            answer: dict[str, Any] = {"data": page, "meta": meta} if page else {"meta": meta}
            if users:
                answer["includes"] = {"users": users}
            return 200, answer, limits
        if method == "POST" and path.startswith("/2/dm_conversations/with/"):
            participant = path.split("/")[4]
            event_id = self._event(self.user_id, participant, str((body or {}).get("text")))
            low, high = sorted((participant, self.user_id), key=int)
            data = {"dm_conversation_id": f"{low}-{high}", "dm_event_id": event_id}
            return 201, {"data": data}, limits
        return 404, {"title": "Not Found"}, limits


def signed_webhook(body: dict[str, Any], app_secret: str) -> tuple[bytes, dict[str, str]]:
    """The bytes Meta posts (non-ASCII escaped, as Meta sends it) and their signature header."""
    raw = json.dumps(body).encode()  # ensure_ascii: "é" travels as \\u00e9
    digest = hmac.new(app_secret.encode(), raw, hashlib.sha256).hexdigest()
    return raw, {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}


def messenger_event(
    page_id: str,
    psid: str,
    mid: str,
    text: str,
    *,
    echo: bool = False,
    timestamp_ms: int | None = None,
    kind: str = "page",
) -> dict[str, Any]:
    at = timestamp_ms or int(time.time() * 1000)
    message: dict[str, Any] = {"mid": mid, "text": text}
    if echo:
        message |= {"is_echo": True, "app_id": 1234}
    sender, recipient = (page_id, psid) if echo else (psid, page_id)
    return {
        "object": kind,
        "entry": [{"id": page_id, "time": at, "messaging": [
            {"sender": {"id": sender}, "recipient": {"id": recipient}, "timestamp": at,
             "message": message},
        ]}],
    }  # fmt: skip


def whatsapp_value(phone_number_id: str, **value: Any) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA-1", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550001111", "phone_number_id": phone_number_id},
            **value,
        }}]}],
    }  # fmt: skip


def whatsapp_message(
    phone_number_id: str, wa_id: str, wamid: str, text: str, *, name: str = "Maria"
) -> dict[str, Any]:
    return whatsapp_value(
        phone_number_id,
        contacts=[{"profile": {"name": name}, "wa_id": wa_id}],
        messages=[{"from": wa_id, "id": wamid, "timestamp": str(int(time.time())),
                   "type": "text", "text": {"body": text}}],
    )  # fmt: skip


def whatsapp_status(
    phone_number_id: str, wamid: str, status: str, *, recipient: str = "", error: str = ""
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": wamid,
        "status": status,
        "timestamp": str(int(time.time())),
        "recipient_id": recipient,
    }
    if error:
        entry["errors"] = [
            {
                "code": 131026,
                "title": "Message undeliverable",
                "message": error,
                "error_data": {"details": error},
            }
        ]
    return whatsapp_value(phone_number_id, statuses=[entry])


def whatsapp_image(
    phone_number_id: str, wa_id: str, wamid: str, media_id: str, *, caption: str = ""
) -> dict[str, Any]:
    image: dict[str, Any] = {"id": media_id, "mime_type": "image/jpeg", "sha256": "x"}
    if caption:
        image["caption"] = caption
    return whatsapp_value(
        phone_number_id,
        contacts=[{"profile": {"name": "Maria"}, "wa_id": wa_id}],
        messages=[{"from": wa_id, "id": wamid, "timestamp": str(int(time.time())),
                   "type": "image", "image": image}],
    )  # fmt: skip
