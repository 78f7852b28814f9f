"""The reader of stored chat messages: what the visitor's socket stored raw (already masked,
``inbox.actions.chat.messages``), as the filing takes it. Pure, like every reader."""

from __future__ import annotations

import json
from dataclasses import dataclass

from inbox.parsing.items import PendingRaw
from inbox.rules.chat_files import ChatFile, file_from_json


@dataclass(frozen=True)
class ChatArrival:
    item_id: int
    external_id: str  # "<visitor id>:<client id>", unique per channel
    visitor_id: int
    client_id: str
    text: str
    masked: tuple[str, ...]
    files: tuple[ChatFile, ...] = ()  # checked when the socket took the message
    error: None = None


def read_chat(pending: PendingRaw) -> ChatArrival:
    body = json.loads(pending.raw)
    visitor_id = int(body["visitor_id"])
    client_id = str(body["client_id"])
    return ChatArrival(
        item_id=pending.item_id,
        external_id=f"{visitor_id}:{client_id}",
        visitor_id=visitor_id,
        client_id=client_id,
        text=str(body["text"]),
        masked=tuple(str(m) for m in body.get("masked", ())),
        files=tuple(f for f in map(file_from_json, body.get("attachments", ())) if f),
    )
