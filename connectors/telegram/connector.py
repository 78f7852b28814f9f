"""A Telegram bot as a channel (``connectors.get("telegram")``): pulled by long polling
``getUpdates``, or, once ``set_webhook`` gave Telegram the desk's URL, pushed to
(``connectors.telegram.webhook``; Telegram refuses ``getUpdates`` while a webhook is set).

Every method is ``POST {api_url}/bot<token>/<method>`` with a JSON body, answered by
``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": N, "description": ...,
"parameters": {"retry_after": S}}``. The channel's cursor is ``{"offset": N}``: the update id
after the last one stored, which also confirms the stored ones to Telegram on the next call.

An update's photos and documents are fetched here, before it is stored (``getFile``, then
``{api_url}/file/bot<token>/<file_path>``, from the API's own host only, within a size and a
time limit), so the stored item holds everything filing needs, and filing makes no call.
A posted update is stored as it came, at once; its files are fetched after filing
(``media``), so that the webhook answers without waiting on downloads.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from connectors.base import DeliveryReport, Outbound, Pulled, PushReceiver, RawInbound
from connectors.errors import (
    CredentialsRefused,
    PermanentConnectorError,
    TransientConnectorError,
)
from connectors.social_http import MediaTooLarge, call, fetch_media, host_of, retry_after
from connectors.telegram.webhook import ALLOWED_UPDATES, TelegramWebhook, message_item

DEFAULT_API_URL = "https://api.telegram.org"
# Telegram lets bots download files of up to 20 MB.
MAX_MEDIA_BYTES = 20 * 1024 * 1024
LONG_POLL_SECONDS = 10


class TelegramConnector:
    kind = "telegram"
    pulled = True
    push: PushReceiver | None = TelegramWebhook()

    def __init__(
        self,
        *,
        timeout: float = 30.0,
        max_media_bytes: int = MAX_MEDIA_BYTES,
        media_seconds: float = 60.0,
    ) -> None:
        self.timeout = timeout
        self.max_media_bytes = max_media_bytes
        self.media_seconds = media_seconds

    def method(
        self,
        config: Mapping[str, str],
        name: str,
        body: dict[str, Any],
        *,
        wait: float = 0,
        secrets: tuple[str, ...] = (),
    ) -> Any:
        """One Bot API method's ``result``; its refusals as connector errors. ``secrets``:
        values of the body that no error message may quote."""
        token = config.get("token", "")
        if not token:
            raise PermanentConnectorError("the Telegram channel has no bot token")
        url = f"{api_url(config)}/bot{token}/{name}"
        answer = call(
            "POST",
            url,
            secrets=(token, *secrets),
            what=f"Telegram {name}",
            timeout=self.timeout + wait,
            json_body=body,
        )
        data = answer.json()
        if isinstance(data, dict) and data.get("ok") is True and answer.status < 400:
            return data.get("result")
        raise _refusal(name, answer.status, data, answer.headers)

    def deliver(self, config: Mapping[str, str], outbound: Outbound) -> DeliveryReport:
        """``sendMessage`` to the chat; the platform's id of the message is
        ``"<chat id>:<message id>"``, as inbound messages are keyed."""
        chat_id = outbound.recipients[0] if outbound.recipients else ""
        request = json.loads(outbound.payload)
        result = self.method(
            config, "sendMessage", {"chat_id": chat_id, "text": str(request.get("text", ""))}
        )
        message_id = result.get("message_id") if isinstance(result, dict) else None
        return DeliveryReport("sent", external_id=f"{chat_id}:{message_id}")

    def open_session(self, config: Mapping[str, str]) -> _Deliveries:
        return _Deliveries(self, config)

    def open_pull(self, config: Mapping[str, str]) -> TelegramPull:
        return TelegramPull(self, config)

    def check(self, config: Mapping[str, str]) -> str:
        """``getMe``: the bot's @username, or the refusal."""
        result = self.method(config, "getMe", {})
        return str(result.get("username", "")) if isinstance(result, dict) else ""

    def set_webhook(self, config: Mapping[str, str], url: str, secret: str) -> None:
        """``setWebhook``: Telegram posts every message update to ``url`` from now on, with
        ``secret`` in the ``X-Telegram-Bot-Api-Secret-Token`` header, and refuses
        ``getUpdates`` (409) until ``delete_webhook``."""
        body = {"url": url, "secret_token": secret, "allowed_updates": list(ALLOWED_UPDATES)}
        self.method(config, "setWebhook", body, secrets=(secret,))

    def delete_webhook(self, config: Mapping[str, str]) -> None:
        """``deleteWebhook``, keeping the updates not yet delivered: ``getUpdates`` reads
        them."""
        self.method(config, "deleteWebhook", {"drop_pending_updates": False})

    def media(
        self, config: Mapping[str, str], media_id: str, *, max_bytes: int, seconds: float
    ) -> tuple[bytes, str]:
        """A file of a posted update, after filing: ``getFile`` for its path, then the file,
        from the Bot API's own host only, within the smaller of ``max_bytes`` and Telegram's
        own limit, and ``seconds``. Returns the bytes and their type (Telegram gives none:
        the type the update announced stays)."""
        limit = min(max_bytes, self.max_media_bytes)
        found = self.method(config, "getFile", {"file_id": media_id})
        found = found if isinstance(found, dict) else {}
        size = int(found.get("file_size") or 0)
        if size > limit:
            raise MediaTooLarge(f"too large ({size} bytes, over {limit})")
        path = found.get("file_path")
        if not path:
            raise PermanentConnectorError("Telegram gave no file path")
        return self._download(config, str(path), limit, seconds), ""

    def files_of(
        self, config: Mapping[str, str], message: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        """The message's photo (its largest size) and document, fetched; a file over the
        limit or that cannot be fetched is listed with the reason instead of its bytes."""
        wanted: list[dict[str, Any]] = []
        photos = message.get("photo")
        if isinstance(photos, list) and photos:
            largest = max(photos, key=lambda p: int(p.get("file_size") or 0))
            wanted.append(
                {
                    "file_id": largest.get("file_id"),
                    "name": "photo.jpg",
                    "content_type": "image/jpeg",
                    "size": largest.get("file_size"),
                }
            )
        document = message.get("document")
        if isinstance(document, dict):
            wanted.append(
                {
                    "file_id": document.get("file_id"),
                    "name": document.get("file_name") or "document",
                    "content_type": document.get("mime_type") or "application/octet-stream",
                    "size": document.get("file_size"),
                }
            )
        return [self._fetch(config, entry) for entry in wanted]

    def _fetch(self, config: Mapping[str, str], entry: dict[str, Any]) -> dict[str, Any]:
        announced = int(entry.get("size") or 0)
        if announced > self.max_media_bytes:
            return {**entry, "skipped": f"too large ({announced} bytes)"}
        try:
            found = self.method(config, "getFile", {"file_id": entry.get("file_id")})
            path = found.get("file_path") if isinstance(found, dict) else None
            if not path:
                return {**entry, "skipped": "Telegram gave no file path"}
            data = self._download(config, path, self.max_media_bytes, self.media_seconds)
        except MediaTooLarge as exc:
            return {**entry, "skipped": f"too large: {exc}"}
        except PermanentConnectorError as exc:
            return {**entry, "skipped": str(exc)}
        return {**entry, "data": base64.b64encode(data).decode()}

    def _download(
        self, config: Mapping[str, str], path: str, max_bytes: int, seconds: float
    ) -> bytes:
        token = config.get("token", "")
        base = api_url(config)
        return fetch_media(
            f"{base}/file/bot{token}/{path}",
            allowed_host=host_of(base),
            max_bytes=max_bytes,
            timeout=seconds,
            secrets=(token,),
        )


class _Deliveries:
    def __init__(self, connector: TelegramConnector, config: Mapping[str, str]) -> None:
        self.connector = connector
        self.config = config

    def deliver(self, outbound: Outbound) -> DeliveryReport:
        return self.connector.deliver(self.config, outbound)

    def close(self) -> None:
        pass


class TelegramPull:
    """Reads updates by ``getUpdates``; waits for more with a long poll that confirms
    nothing (it asks from the same offset)."""

    def __init__(self, connector: TelegramConnector, config: Mapping[str, str]) -> None:
        self.connector = connector
        self.config = config
        self._offset: int | None = None
        self._stopping = threading.Event()

    def __enter__(self) -> TelegramPull:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def read_since(
        self, cursor: Mapping[str, Any], *, batch_size: int, max_bytes: int, batch_bytes: int
    ) -> Iterator[Pulled]:
        offset = cursor.get("offset")
        self._offset = int(offset) if offset is not None else None
        while not self._stopping.is_set():
            updates = self._updates(limit=min(batch_size, 100), wait=0)
            if not updates:
                return
            items = [item for update in updates if (item := self._item(update)) is not None]
            self._offset = max(int(u.get("update_id", 0)) for u in updates) + 1
            yield Pulled(items=items, cursor={"offset": self._offset})

    def _updates(self, *, limit: int, wait: int) -> list[dict[str, Any]]:
        body: dict[str, Any] = {
            "limit": limit,
            "timeout": wait,
            "allowed_updates": list(ALLOWED_UPDATES),
        }
        if self._offset is not None:
            body["offset"] = self._offset
        result = self.connector.method(self.config, "getUpdates", body, wait=wait)
        return [u for u in result if isinstance(u, dict)] if isinstance(result, list) else []

    def _item(self, update: dict[str, Any]) -> RawInbound | None:
        message = update.get("message")
        if not isinstance(message, dict):
            return None  # an edit, a reaction, a member change: not a message to file
        return message_item(update, self.connector.files_of(self.config, message))

    def confirm(self, pulled: Pulled) -> None:
        """Telegram forgets updates once asked from a later offset: the next call does it."""

    def wait_for_changes(self, timeout: float) -> bool:
        if self._stopping.is_set():
            return False
        wait = max(0, min(int(timeout), LONG_POLL_SECONDS))
        return bool(self._updates(limit=1, wait=wait))

    def wake(self) -> None:
        self._stopping.set()

    @property
    def pushes_changes(self) -> bool:
        return True  # the long poll answers as soon as something arrives

    def close(self) -> None:
        pass


def api_url(config: Mapping[str, str]) -> str:
    return (config.get("api_url") or DEFAULT_API_URL).rstrip("/")


def _refusal(
    method: str, status: int, data: Any, headers: dict[str, str]
) -> TransientConnectorError | PermanentConnectorError:
    data = data if isinstance(data, dict) else {}
    code = int(data.get("error_code") or status)
    text = str(data.get("description") or f"HTTP {status}")
    message = f"Telegram refused {method}: {text}"
    parameters = data.get("parameters") if isinstance(data.get("parameters"), dict) else {}
    if code == 429 or status == 429:
        wait = parameters.get("retry_after") if parameters else None
        seconds = float(wait) if isinstance(wait, int | float) else retry_after(headers)
        return TransientConnectorError(message, code=429, server_text=text, retry_after=seconds)
    if status >= 500 or code >= 500 or code == 409:
        return TransientConnectorError(message, code=code, server_text=text)
    if code in (401, 404):  # 401 a revoked token, 404 one that never was a bot's
        return CredentialsRefused(
            f"Telegram refused the bot token ({text})", code=code, server_text=text
        )
    return PermanentConnectorError(message, code=code, server_text=text)
