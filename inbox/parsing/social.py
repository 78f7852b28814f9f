"""Readers of stored direct messages, one per platform: pure JSON, no database, so they run
in the parser processes like the mail reader.

Each turns the stored item (what the connector kept of the platform's event, in the
platform's own shape) into a :class:`SocialArrival`: a customer's message, the account's own
message sent from outside the desk (an echo), or a delivery status of a message we sent.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from inbox.parsing.items import PendingRaw


@dataclass(frozen=True)
class SocialFile:
    name: str
    content_type: str
    data: bytes | None  # None: not fetched (``skipped`` says why)
    skipped: str = ""


@dataclass(frozen=True)
class SocialMedia:
    """A file the platform keeps for us to download later (WhatsApp's media id)."""

    media_id: str
    content_type: str
    name: str


@dataclass(frozen=True)
class SocialArrival:
    item_id: int
    external_id: str
    # "message" from the customer, "echo" of the account's own message, or "status".
    event: str
    # The platform's conversation (chat id, PSID, number, conversation id) and whom replies
    # go to in it.
    chat_key: str = ""
    recipient: str = ""
    # The customer's platform id, name and (WhatsApp) E.164 number.
    sender_id: str = ""
    sender_name: str = ""
    phone: str = ""
    text: str = ""
    sent_at: datetime | None = None
    files: tuple[SocialFile, ...] = ()
    media: tuple[SocialMedia, ...] = ()
    # A status: of which message (the platform's id of ours), which state, and the
    # platform's words for a failure.
    about: str = ""
    status: str = ""
    status_error: str = ""
    error: None = None


def read_telegram(pending: PendingRaw) -> SocialArrival:
    """A polled update comes with its files, fetched before it was stored; a posted one
    (the webhook answers before any download) names its files to fetch after filing."""
    data = json.loads(pending.raw)
    message = data["update"]["message"]
    chat = message.get("chat") or {}
    sender = message.get("from") or {}
    name = " ".join(p for p in (sender.get("first_name"), sender.get("last_name")) if p)
    chat_id = str(chat.get("id"))
    return SocialArrival(
        pending.item_id,
        f"{chat_id}:{message.get('message_id')}",
        "message",
        chat_key=chat_id,
        recipient=chat_id,
        sender_id=str(sender.get("id", chat_id)),
        sender_name=name or sender.get("username") or "",
        text=str(message.get("text") or message.get("caption") or ""),
        sent_at=_from_unix(message.get("date")),
        files=tuple(_file(f) for f in data.get("files") or []),
        media=() if "files" in data else _telegram_media(message),
    )


def _telegram_media(message: dict[str, Any]) -> tuple[SocialMedia, ...]:
    """The message's photo (its largest size) and document, by Telegram's file id."""
    found = []
    photos = [p for p in message.get("photo") or [] if isinstance(p, dict) and p.get("file_id")]
    if photos:
        largest = max(photos, key=lambda p: int(p.get("file_size") or 0))
        found.append(SocialMedia(str(largest["file_id"]), "image/jpeg", "photo.jpg"))
    document = message.get("document")
    if isinstance(document, dict) and document.get("file_id"):
        found.append(
            SocialMedia(
                str(document["file_id"]),
                str(document.get("mime_type") or "application/octet-stream")[:255],
                str(document.get("file_name") or "document")[:255],
            )
        )
    return tuple(found)


def read_messenger(pending: PendingRaw) -> SocialArrival:
    """Messenger and Instagram share the Messenger Platform's event shape."""
    data = json.loads(pending.raw)
    event = data["event"]
    message = event["message"]
    sender = str((event.get("sender") or {}).get("id", ""))
    recipient = str((event.get("recipient") or {}).get("id", ""))
    echo = bool(message.get("is_echo"))
    customer = recipient if echo else sender
    texts = [str(message.get("text") or "")]
    for attachment in message.get("attachments") or []:
        if isinstance(attachment, dict):
            texts.append(f"[{attachment.get('type', 'attachment')}]")
    return SocialArrival(
        pending.item_id,
        str(message["mid"]),
        "echo" if echo else "message",
        chat_key=customer,
        recipient=customer,
        sender_id=customer,
        text="\n".join(t for t in texts if t),
        sent_at=_from_unix(event.get("timestamp"), millis=True),
    )


def read_whatsapp(pending: PendingRaw) -> SocialArrival:
    data = json.loads(pending.raw)
    if data.get("type") == "status":
        status = data["status"]
        errors = [e for e in status.get("errors") or [] if isinstance(e, dict)]
        words = "; ".join(
            str((e.get("error_data") or {}).get("details") or e.get("message") or e.get("title"))
            + f" (code {e.get('code')})"
            for e in errors
        )
        return SocialArrival(
            pending.item_id,
            f"status:{status.get('id')}:{status.get('status')}",
            "status",
            status=str(status.get("status", "")),
            status_error=words,
            about=str(status.get("id", "")),
            sent_at=_from_unix(status.get("timestamp")),
        )
    message = data["message"]
    contact = data.get("contact") or {}
    number = str(message.get("from", ""))
    kind = str(message.get("type", "text"))
    media: tuple[SocialMedia, ...] = ()
    if kind == "text":
        text = str((message.get("text") or {}).get("body", ""))
    else:
        found = message.get(kind) if isinstance(message.get(kind), dict) else {}
        text = str(found.get("caption") or "")
        if found.get("id"):
            mime = str(found.get("mime_type") or "application/octet-stream")
            extension = mime.rsplit("/", 1)[-1].split(";")[0]
            name = str(found.get("filename") or f"{kind}.{extension}")
            media = (SocialMedia(str(found["id"]), mime[:255], name[:255]),)
        else:
            text = f"[{kind}]" + (f" {text}" if text else "")
    return SocialArrival(
        pending.item_id,
        str(message["id"]),
        "message",
        chat_key=number,
        recipient=number,
        sender_id=number,
        sender_name=str((contact.get("profile") or {}).get("name") or ""),
        phone="+" + number.lstrip("+") if number else "",
        text=text,
        sent_at=_from_unix(message.get("timestamp")),
        media=media,
    )


def read_x(pending: PendingRaw) -> SocialArrival:
    data = json.loads(pending.raw)
    event = data["event"]
    own = str(data.get("user_id", ""))
    sender = str(event.get("sender_id", ""))
    participants = [str(p) for p in event.get("participant_ids") or []]
    conversation = str(event.get("dm_conversation_id") or "")
    if not participants and "-" in conversation:
        participants = conversation.split("-")
    others = [p for p in participants if p != own]
    echo = sender == own
    customer = (others[0] if others else "") if echo else sender
    user = data.get("sender") or {}
    return SocialArrival(
        pending.item_id,
        str(event["id"]),
        "echo" if echo else "message",
        chat_key=conversation or customer,
        recipient=customer,
        sender_id=customer,
        sender_name="" if echo else str(user.get("name") or user.get("username") or ""),
        text=str(event.get("text") or ""),
        sent_at=_from_iso(event.get("created_at")),
    )


def _file(entry: dict[str, Any]) -> SocialFile:
    data = entry.get("data")
    return SocialFile(
        name=str(entry.get("name") or "file")[:255],
        content_type=str(entry.get("content_type") or "application/octet-stream")[:255],
        data=base64.b64decode(data) if isinstance(data, str) else None,
        skipped=str(entry.get("skipped") or ""),
    )


def _from_unix(value: Any, *, millis: bool = False) -> datetime | None:
    try:
        seconds = float(value) / (1000 if millis else 1)
    except (TypeError, ValueError):
        return None
    return datetime.fromtimestamp(seconds, UTC)


def _from_iso(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
