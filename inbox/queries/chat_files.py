"""Reads for chat attachments: a conversation's ``message`` frames with the files of each
message, every file behind a signed link for the one visitor who may load it, and the
attachment such a link names when it is that visitor's."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, select

from inbox.models import Attachment, ChatConversation, ChatEntry
from inbox.queries.chat import entry_frame
from inbox.rules.chat_files import file_url


def entry_frames(
    session: Session,
    entries: Sequence[ChatEntry],
    *,
    secret: bytes,
    base_url: str,
    visitor_id: int,
) -> list[dict[str, Any]]:
    """The ``message`` frames of these entries, for this visitor; a message with files
    carries ``attachments``: ``[{"name", "type", "size", "url"}]``. One query for all."""
    message_ids = [e.message_id for e in entries if e.message_id is not None]
    files: dict[int, list[Attachment]] = {}
    if message_ids:
        for attachment in session.exec(
            select(Attachment)
            .where(col(Attachment.message_id).in_(message_ids))
            .order_by(col(Attachment.id))
        ):
            files.setdefault(attachment.message_id, []).append(attachment)
    now = int(time.time())
    frames: list[dict[str, Any]] = []
    for entry in entries:
        frame: dict[str, Any] = dict(entry_frame(entry))
        attached = files.get(entry.message_id or 0)
        if attached:
            frame["attachments"] = [
                {
                    "name": a.filename,
                    "type": a.content_type,
                    "size": a.size,
                    "url": file_url(base_url, secret, a.id or 0, visitor_id, now),
                }
                for a in attached
            ]
        frames.append(frame)
    return frames


def file_names(session: Session, message_ids: Sequence[int]) -> dict[int, list[str]]:
    """The names of the files of these messages, by message: what a transcript lists."""
    names: dict[int, list[str]] = {}
    if message_ids:
        for message_id, filename in session.exec(
            select(Attachment.message_id, Attachment.filename)
            .where(col(Attachment.message_id).in_(message_ids))
            .order_by(col(Attachment.id))
        ):
            names.setdefault(message_id, []).append(filename)
    return names


def visitor_attachment(session: Session, attachment_id: int, visitor_id: int) -> Attachment | None:
    """The attachment, when it is on a message of one of this visitor's chats; None for
    anyone else's (and for one that does not exist: the two look the same)."""
    return session.exec(
        select(Attachment)
        .join(ChatEntry, col(ChatEntry.message_id) == col(Attachment.message_id))
        .join(ChatConversation, col(ChatConversation.id) == col(ChatEntry.conversation_id))
        .where(Attachment.id == attachment_id, ChatConversation.visitor_id == visitor_id)
    ).first()
