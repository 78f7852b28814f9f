"""Sending on Messenger, Instagram and WhatsApp through the Graph API.

``POST {graph_url}/{id}/messages`` with the channel's token as a bearer token, where ``id`` is
the Page, the Instagram account or the WhatsApp phone number id. The desk renders the part of
the request that depends on the conversation (the text, ``messaging_type`` and ``tag``, or a
WhatsApp template) into ``Outbound.payload`` as JSON; this adds the recipient.

Graph refusals are ``{"error": {"message", "type", "code", "error_subcode"}}``: code 190 is a
token that no longer works; 4, 17, 32, 613, 80007, 130429 and 131056 are rate limits (retry
after the platform's wait); a 5xx is worth retrying; anything else (a closed window, a user
that cannot be reached) is final.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from connectors.base import DeliveryReport, Outbound, PushReceiver
from connectors.errors import (
    CredentialsRefused,
    PermanentConnectorError,
    TransientConnectorError,
)
from connectors.meta.webhook import MetaWebhook, RoutedItem
from connectors.social_http import MediaTooLarge, call, fetch_media, host_of, retry_after

DEFAULT_GRAPH_URL = "https://graph.facebook.com/v21.0"
RATE_LIMITS = {4, 17, 32, 613, 80004, 80006, 80007, 130429, 131048, 131056}
TOKEN_REFUSED = {102, 190}
TRANSIENT = {1, 2, 131000, 131016}
# Where the Graph API's media URLs point, besides the Graph API's own host.
MEDIA_HOSTS = frozenset({"lookaside.fbsbx.com"})

Routed = RoutedItem


class MetaConnector:
    """One instance per kind: ``messenger`` (Page id ``page_id``), ``instagram``
    (``account_id``), ``whatsapp`` (``phone_number_id``). Pushed, never pulled."""

    pulled = False

    def __init__(self, kind: str, id_key: str, *, timeout: float = 30.0) -> None:
        self.kind = kind
        self.id_key = id_key
        self.timeout = timeout
        self.push: PushReceiver | None = MetaWebhook()

    def account_id(self, config: Mapping[str, str]) -> str:
        return str(config.get(self.id_key) or config.get("account_id") or "")

    def deliver(self, config: Mapping[str, str], outbound: Outbound) -> DeliveryReport:
        recipient = outbound.recipients[0] if outbound.recipients else ""
        request: dict[str, Any] = json.loads(outbound.payload)
        if self.kind == "whatsapp":
            body: dict[str, Any] = {"messaging_product": "whatsapp", "recipient_type": "individual"}
            body |= {"to": recipient, **request}
        else:
            body = {"recipient": {"id": recipient}, **request}
        data = self._graph(config, "POST", f"/{self.account_id(config)}/messages", body)
        if self.kind == "whatsapp":
            messages = data.get("messages") if isinstance(data, dict) else None
            external = messages[0].get("id", "") if isinstance(messages, list) and messages else ""
        else:
            external = data.get("message_id", "") if isinstance(data, dict) else ""
        return DeliveryReport("sent", external_id=str(external))

    def open_session(self, config: Mapping[str, str]) -> _Deliveries:
        return _Deliveries(self, config)

    def open_pull(self, config: Mapping[str, str]) -> None:
        return None

    def check(self, config: Mapping[str, str]) -> str:
        """Reads the account itself: its name, or the refusal."""
        data = self._graph(config, "GET", f"/{self.account_id(config)}", None)
        return str(data.get("name") or data.get("verified_name") or "") if data else ""

    def profile(self, config: Mapping[str, str], user_id: str) -> str:
        """The sender's name from the profile API (Messenger: ``first_name``, ``last_name``;
        Instagram: ``name``, ``username``); empty when the platform gives none."""
        fields = "first_name,last_name" if self.kind == "messenger" else "name,username"
        data = self._graph(config, "GET", f"/{user_id}?fields={fields}", None)
        if not isinstance(data, dict):
            return ""
        parts = [str(data.get(k) or "") for k in ("first_name", "last_name", "name")]
        return " ".join(p for p in parts if p) or str(data.get("username") or "")

    def media(
        self, config: Mapping[str, str], media_id: str, *, max_bytes: int, seconds: float
    ) -> tuple[bytes, str]:
        """A WhatsApp media file: ``GET /{media-id}`` gives its URL, which is fetched with the
        token, only from Meta's own hosts (the Graph API's, or its media host), within
        ``max_bytes`` (announced or found) and ``seconds``. Returns the bytes and their type."""
        data = self._graph(config, "GET", f"/{media_id}", None)
        if not isinstance(data, dict) or not data.get("url"):
            raise PermanentConnectorError("the Graph API gave no URL for that media")
        size = int(data.get("file_size") or 0)
        if size > max_bytes:
            raise MediaTooLarge(f"too large ({size} bytes, over {max_bytes})")
        url = str(data["url"])
        token = config.get("token", "")
        allowed = host_of(url) if host_of(url) in self.media_hosts(config) else ""
        content = fetch_media(
            url,
            allowed_host=allowed or host_of(config.get("graph_url") or DEFAULT_GRAPH_URL),
            max_bytes=max_bytes,
            timeout=seconds,
            secrets=(token,),
            headers={"Authorization": f"Bearer {token}"},
        )
        return content, str(data.get("mime_type") or "application/octet-stream")

    def media_hosts(self, config: Mapping[str, str]) -> set[str]:
        return {host_of(config.get("graph_url") or DEFAULT_GRAPH_URL), *MEDIA_HOSTS}

    def _graph(
        self, config: Mapping[str, str], method: str, path: str, body: dict[str, Any] | None
    ) -> Any:
        token = config.get("token", "")
        if not token:
            raise PermanentConnectorError(f"the {self.kind} channel has no access token")
        base = (config.get("graph_url") or DEFAULT_GRAPH_URL).rstrip("/")
        answer = call(
            method,
            base + path,
            secrets=(token, config.get("app_secret", "")),
            what=f"Graph API {method} {path}",
            timeout=self.timeout,
            headers={"Authorization": f"Bearer {token}"},
            json_body=body,
        )
        data = answer.json()
        if answer.status < 400:
            return data
        error = data.get("error") if isinstance(data, dict) else None
        error = error if isinstance(error, dict) else {}
        code = int(error.get("code") or 0)
        text = str(error.get("message") or f"HTTP {answer.status}")
        message = f"{self.kind} refused the message: {text} (code {code})"
        if code in TOKEN_REFUSED:
            raise CredentialsRefused(
                f"Meta refused the {self.kind} token ({text})", code=code, server_text=text
            )
        if code in RATE_LIMITS or answer.status == 429:
            raise TransientConnectorError(
                message, code=code, server_text=text, retry_after=retry_after(answer.headers)
            )
        if answer.status >= 500 or code in TRANSIENT:
            raise TransientConnectorError(message, code=code, server_text=text)
        raise PermanentConnectorError(message, code=code, server_text=text)


class _Deliveries:
    def __init__(self, connector: MetaConnector, config: Mapping[str, str]) -> None:
        self.connector = connector
        self.config = config

    def deliver(self, outbound: Outbound) -> DeliveryReport:
        return self.connector.deliver(self.config, outbound)

    def close(self) -> None:
        pass
