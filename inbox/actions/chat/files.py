"""A chat visitor's files: an upload checked by the portal's rules and stored in the blob
store, answered with a signed upload token; then the files a visitor's message names by
those tokens, checked again (this desk's signature, this visitor, not expired, the bytes
still there), which become the message's attachments when it is filed.

Nothing of an upload is kept in a table until a message carries it: the blob store keeps the
bytes under their SHA-256, the token the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from inbox.blobs import BlobStore
from inbox.errors import DomainError
from inbox.models import Attachment, ChatVisitor
from inbox.rules.chat import visitor_from_token
from inbox.rules.chat_files import UPLOAD_SECONDS, ChatFile, upload_token, uploaded_file
from inbox.rules.portal import MAX_FILE_BYTES, RefusedFile, accept_file


class FileRefused(DomainError):
    """A file the chat does not take, or a message's file it cannot attach: ``code`` and
    ``status`` say which (too large, not a screenshot or PDF, empty, not the visitor's)."""

    def __init__(self, detail: str, *, code: str = "file_refused", status: int = 422) -> None:
        super().__init__(detail)
        self.code = code
        self.status = status


@dataclass(frozen=True)
class Upload:
    token: str
    file: ChatFile

    def answer(self) -> dict[str, Any]:
        """What ``POST /chat/files`` answers: the token and what the file is, for the widget
        to show before the message is sent."""
        return {
            "token": self.token,
            "name": self.file.name,
            "type": self.file.content_type,
            "size": self.file.size,
        }


def uploading_visitor(
    session: Session, secret: bytes, channel_id: int, token: str
) -> ChatVisitor | None:
    """The visitor a visitor token names, on this channel; None for a made-up token or
    another channel's visitor (the two look the same to the caller)."""
    visitor_id = visitor_from_token(secret, token) if token else None
    visitor = session.get(ChatVisitor, visitor_id) if visitor_id else None
    return visitor if visitor is not None and visitor.channel_id == channel_id else None


def store_chat_upload(
    blobs: BlobStore, secret: bytes, *, visitor_id: int, name: str, data: bytes, now: int
) -> Upload:
    """The file stored under its hash and its upload token, or ``FileRefused``. Its type is
    what its first bytes are, never what the browser claimed; its name is display text."""
    try:
        accepted = accept_file(name, data)
    except RefusedFile as exc:
        if len(data) > MAX_FILE_BYTES:
            raise FileRefused(str(exc), code="too_large", status=413) from None
        if not data:
            raise FileRefused(str(exc), code="empty", status=400) from None
        raise FileRefused(str(exc), code="unsupported_type", status=415) from None
    file = ChatFile(
        blobs.put(accepted.data), accepted.filename, accepted.content_type, len(accepted.data)
    )
    return Upload(upload_token(secret, visitor_id, file, now + UPLOAD_SECONDS), file)


def files_of_message(
    blobs: BlobStore, secret: bytes, visitor_id: int, tokens: Sequence[str], now: int
) -> tuple[ChatFile, ...]:
    """The files a visitor's message names, or ``FileRefused`` for the first that is not
    theirs to attach (another visitor's, changed, expired, or its bytes gone)."""
    files: list[ChatFile] = []
    for token in tokens:
        file = uploaded_file(secret, token, visitor_id, now)
        if file is None or not blobs.path_for(file.content_hash).exists():
            raise FileRefused(
                "a file of this message is not one you uploaded in the last day; attach it again"
            )
        files.append(file)
    return tuple(files)


def attach_files(session: Session, message_id: int, files: Sequence[ChatFile]) -> None:
    """The message's attachments: the bytes are in the blob store already."""
    for file in files:
        session.add(
            Attachment(
                message_id=message_id,
                filename=file.name,
                content_type=file.content_type,
                size=file.size,
                content_hash=file.content_hash,
            )
        )
