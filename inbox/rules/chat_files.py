"""Live chat's files, pure: what a visitor's upload is called once checked, the signed upload
token the desk answers it with, and the signed link a visitor loads a chat attachment by.

Which files a chat takes, and their names, are the portal's rules (``inbox.rules.portal``):
PNG, JPEG, GIF or WebP screenshots and PDF documents, recognised by their first bytes, at
most 5 MB each, at most three to a message. The tokens are ``inbox.signing.sign_claims``
documents, each for one purpose, one visitor and a limited time: an upload token names the
stored bytes (their SHA-256), the file's name, type and size; a link names one attachment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inbox.rules.portal import MAX_FILES
from inbox.signing import open_claims, sign_claims

UPLOAD_PURPOSE = "chat-upload"
LINK_PURPOSE = "chat-file"
# An upload is sent within the day (a message waiting for the connection keeps it); a link
# is made afresh with every welcome and resume, and lasts a week in an open tab.
UPLOAD_SECONDS = 24 * 3600
LINK_SECONDS = 7 * 24 * 3600
MAX_ATTACHMENTS = MAX_FILES
MAX_TOKEN_CHARS = 1024
# Uploads per visitor, in each web process: a burst, then a trickle.
UPLOADS_BURST = 10
UPLOADS_PER_HOUR = 60
# Shown inline (a thumbnail in the widget); everything else is a download.
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


@dataclass(frozen=True)
class ChatFile:
    """A visitor's file in the blob store, as their message carries it to its ticket."""

    content_hash: str
    name: str
    content_type: str
    size: int

    def as_json(self) -> dict[str, Any]:
        return {
            "hash": self.content_hash,
            "name": self.name,
            "type": self.content_type,
            "size": self.size,
        }


def file_from_json(value: Any) -> ChatFile | None:
    """A stored message's file (``ChatFile.as_json``); None for anything else."""
    if not isinstance(value, dict):
        return None
    content_hash, name = value.get("hash"), value.get("name")
    content_type, size = value.get("type"), value.get("size")
    if not (
        isinstance(content_hash, str)
        and len(content_hash) == 64
        and isinstance(name, str)
        and isinstance(content_type, str)
        and isinstance(size, int)
    ):
        return None
    return ChatFile(content_hash, name, content_type, size)


def upload_token(secret: bytes, visitor_id: int, file: ChatFile, expires: int) -> str:
    """What the desk answers an upload with: the visitor's message names the file by it."""
    claims = {"v": visitor_id, "e": expires, **file.as_json()}
    return sign_claims(secret, UPLOAD_PURPOSE, claims)


def uploaded_file(secret: bytes, token: str, visitor_id: int, now: int) -> ChatFile | None:
    """The file an upload token names, when this desk signed it for this visitor and it has
    not expired; None otherwise (forged, changed, another visitor's, too old)."""
    if len(token) > MAX_TOKEN_CHARS:
        return None
    claims = open_claims(secret, UPLOAD_PURPOSE, token)
    if claims is None or claims.get("v") != visitor_id:
        return None
    expires = claims.get("e")
    if not isinstance(expires, int) or expires < now:
        return None
    return file_from_json(claims)


def link_token(secret: bytes, attachment_id: int, visitor_id: int, expires: int) -> str:
    return sign_claims(secret, LINK_PURPOSE, {"a": attachment_id, "v": visitor_id, "e": expires})


def linked_attachment(secret: bytes, token: str, now: int) -> tuple[int, int] | None:
    """(attachment id, visitor id) of a link this desk made and that has not expired."""
    if len(token) > MAX_TOKEN_CHARS:
        return None
    claims = open_claims(secret, LINK_PURPOSE, token)
    if claims is None:
        return None
    attachment_id, visitor_id, expires = claims.get("a"), claims.get("v"), claims.get("e")
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (attachment_id, visitor_id)):
        return None
    if not isinstance(expires, int) or expires < now:
        return None
    return int(attachment_id), int(visitor_id)  # type: ignore[arg-type]


def file_url(base_url: str, secret: bytes, attachment_id: int, visitor_id: int, now: int) -> str:
    """The capability URL of one attachment for one visitor: their page loads it as it is.
    Its expiry is rounded up to the hour, so the same file keeps one URL for a while."""
    expires = -(-(now + LINK_SECONDS) // 3600) * 3600
    token = link_token(secret, attachment_id, visitor_id, expires)
    return f"{base_url.rstrip('/')}/chat/files/{token}"
