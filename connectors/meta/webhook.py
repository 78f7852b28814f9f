"""The Meta app's webhook: ``X-Hub-Signature-256`` checked over the raw body, then each
``entry`` split into items, each with the account it is for and the platform's id.

The signature is ``sha256=`` and the hex HMAC-SHA256 of the body exactly as received, keyed
with the app secret. Meta escapes non-ASCII characters (``\\u00e9``) in the body it signs, so
the check must run on the received bytes: parsed and serialised again, they no longer match.

Bodies, by ``object``:

- ``page`` (Messenger) and ``instagram``: ``entry[].id`` is the Page or Instagram account,
  ``entry[].messaging[]`` the events; a message event has ``message.mid`` and, for the
  account's own messages, ``message.is_echo``.
- ``whatsapp_business_account``: ``entry[].changes[].value`` holds ``metadata.phone_number_id``
  (the number it is for), ``contacts[]`` (``profile.name``, ``wa_id``), ``messages[]`` (``id``,
  ``from``, ``type``, ``text.body``) and ``statuses[]`` (``id`` of our message, ``status``:
  sent, delivered, read or failed, ``errors[]``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connectors.base import RawInbound
from connectors.errors import PermanentConnectorError

SIGNATURE_HEADER = "x-hub-signature-256"


def signature_of(secret: str, body: bytes) -> str:
    """The header value Meta sends with ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_holds(secret: str, header: str, body: bytes) -> bool:
    """Constant time, whatever the header holds."""
    if not secret or not header:
        return False
    return hmac.compare_digest(signature_of(secret, body).encode(), header.strip().encode())


@dataclass(frozen=True)
class RoutedItem:
    """One item of a webhook body and the account it is for: a Page id, an Instagram
    account id, or a WhatsApp phone number id."""

    account_id: str
    item: RawInbound


class MetaWebhook:
    """The pushed side of the Meta kinds; stateless."""

    def verify(self, config: Mapping[str, str], headers: Mapping[str, str], body: bytes) -> None:
        header = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER), "")
        if not signature_holds(config.get("app_secret", ""), header, body):
            raise PermanentConnectorError("the webhook's signature does not hold")

    def split(self, body: bytes) -> list[RawInbound]:
        return [routed.item for routed in self.route(body)]

    def route(self, body: bytes) -> list[RoutedItem]:
        """Every message, echo and status of a verified body; anything else is left out."""
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise PermanentConnectorError("the webhook body is not JSON") from exc
        if not isinstance(data, dict):
            return []
        kind = str(data.get("object", ""))
        found: list[RoutedItem] = []
        for entry in _dicts(data.get("entry")):
            if kind in ("page", "instagram"):
                found.extend(_messaging(kind, entry))
            elif kind == "whatsapp_business_account":
                found.extend(_whatsapp(entry))
        return found


def _messaging(kind: str, entry: dict[str, Any]) -> list[RoutedItem]:
    account = str(entry.get("id", ""))
    found = []
    for event in _dicts(entry.get("messaging")):
        message = event.get("message")
        if not isinstance(message, dict) or not message.get("mid"):
            continue  # deliveries, reads, reactions, postbacks: nothing to file
        raw = _raw({"object": kind, "account_id": account, "event": event})
        found.append(RoutedItem(account, RawInbound(str(message["mid"]), raw, len(raw))))
    return found


def _whatsapp(entry: dict[str, Any]) -> list[RoutedItem]:
    found = []
    for change in _dicts(entry.get("changes")):
        value = change.get("value")
        if not isinstance(value, dict):
            continue
        metadata = value.get("metadata") if isinstance(value.get("metadata"), dict) else {}
        account = str((metadata or {}).get("phone_number_id", ""))
        contacts = {str(c.get("wa_id")): c for c in _dicts(value.get("contacts"))}
        for message in _dicts(value.get("messages")):
            contact = contacts.get(str(message.get("from")), {})
            raw = _raw({"type": "message", "message": message, "contact": contact})
            found.append(RoutedItem(account, RawInbound(str(message.get("id")), raw, len(raw))))
        for status in _dicts(value.get("statuses")):
            key = f"status:{status.get('id')}:{status.get('status')}"
            raw = _raw({"type": "status", "status": status})
            found.append(RoutedItem(account, RawInbound(key, raw, len(raw))))
    return found


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _raw(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()
