"""A Telegram bot's webhook: what ``setWebhook`` asks Telegram to post, and checking and
splitting what it posts.

Telegram signs nothing: the bot's ``setWebhook`` call gives a ``secret_token`` (1 to 256
characters of ``A-Z``, ``a-z``, ``0-9``, ``_`` and ``-``) that Telegram then sends in the
``X-Telegram-Bot-Api-Secret-Token`` header of every post. The header is compared with the
channel's secret in constant time before anything reads the body. Each post is one
``Update``; a message update becomes one item, keyed as a polled one is (``<chat id>:<message
id>``), so an update both polled and posted is stored once.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from typing import Any

from connectors.base import RawInbound
from connectors.errors import PermanentConnectorError

WEBHOOK_HEADER = "x-telegram-bot-api-secret-token"
# Only messages are filed; edits, reactions and member changes are not asked for.
ALLOWED_UPDATES = ("message",)


def secret_holds(expected: str, offered: str) -> bool:
    """Constant time, whatever the header holds; no secret set holds for nothing."""
    if not expected or not offered:
        return False
    return hmac.compare_digest(expected.encode(), offered.encode("utf-8", "surrogateescape"))


def message_item(
    update: Mapping[str, Any], files: list[dict[str, Any]] | None
) -> RawInbound | None:
    """The stored form of a message update: the update as Telegram gave it and, when the
    connector fetched them while polling, its files; posted updates leave ``files`` out and
    their files are fetched after filing. None for an update that is not a message."""
    message = update.get("message")
    if not isinstance(message, dict):
        return None  # an edit, a reaction, a member change: not a message to file
    chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
    stored: dict[str, Any] = {"update": update}
    if files is not None:
        stored["files"] = files
    raw = json.dumps(stored).encode()
    key = f"{(chat or {}).get('id')}:{message.get('message_id')}"
    return RawInbound(key, raw, len(raw))


class TelegramWebhook:
    """The pushed side of a Telegram channel set to a webhook; stateless."""

    def verify(self, config: Mapping[str, str], headers: Mapping[str, str], body: bytes) -> None:
        offered = next((v for k, v in headers.items() if k.lower() == WEBHOOK_HEADER), "")
        if not secret_holds(config.get("webhook_secret", ""), offered):
            raise PermanentConnectorError("the webhook's secret token does not hold")

    def split(self, body: bytes) -> list[RawInbound]:
        """The message of a verified update, if it carries one."""
        try:
            update = json.loads(body)
        except ValueError as exc:
            raise PermanentConnectorError("the update is not JSON") from exc
        if not isinstance(update, dict):
            raise PermanentConnectorError("the update is not a JSON object")
        item = message_item(update, None)
        return [item] if item is not None else []
