"""The files of an agent's reply or internal note: stored in the blob store under their hash,
kept as ``Attachment`` rows of the message, and put back into the mail each time the outbox
sends it.

The outbox row of a reply by email keeps the mail's text alone; its files are read from the
reply's ``Attachment`` rows and the blob store when the mail is sent (``mail_as_sent``), so
neither a queue message nor a second copy in the outbox carries their bytes, and every attempt
sends the same mail.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from inbox.blobs import BlobStore
from inbox.errors import InvalidInput
from inbox.mail.compose import MailFile, with_attachments
from inbox.models import Attachment
from inbox.rules.chat_files import ChatFile
from inbox.rules.portal import MAX_FILES, AcceptedFile
from inbox.rules.reply_files import HELD_SECONDS, held_file, held_token


def store_files(blobs: BlobStore, accepted: Sequence[AcceptedFile]) -> tuple[ChatFile, ...]:
    """Checked files (``inbox.rules.portal.accept_file``) in the blob store; what a message
    carries of them."""
    return tuple(
        ChatFile(blobs.put(f.data), f.filename, f.content_type, len(f.data)) for f in accepted
    )


def check_file_count(count: int) -> None:
    if count > MAX_FILES:
        raise InvalidInput(f"attach at most {MAX_FILES} files to one message")


def hold_files(secret: bytes, agent_id: int, files: Sequence[ChatFile]) -> list[str]:
    """Tokens that keep stored files for the same agent's next try at sending the reply."""
    expires = int(time.time()) + HELD_SECONDS
    return [held_token(secret, agent_id, file, expires) for file in files]


def held_files(
    blobs: BlobStore, secret: bytes, agent_id: int, tokens: Sequence[str]
) -> tuple[ChatFile, ...]:
    """The files these tokens hold, or ``InvalidInput`` for the first that is not this agent's
    to send (changed, another agent's, expired, its bytes gone)."""
    now = int(time.time())
    files: list[ChatFile] = []
    for token in tokens:
        file = held_file(secret, token, agent_id, now)
        if file is None or not blobs.path_for(file.content_hash).exists():
            raise InvalidInput("a file of this reply is no longer held; attach it again")
        files.append(file)
    return tuple(files)


@dataclass(frozen=True)
class StoredMailFile:
    """An attachment of a message that goes out by mail, its bytes in the blob store."""

    filename: str
    content_type: str
    content_hash: str


def files_of_messages(
    session: Session, message_ids: Sequence[int]
) -> dict[int, tuple[StoredMailFile, ...]]:
    """The attachments of these messages, in the order they were added; one query."""
    found: dict[int, list[StoredMailFile]] = {}
    if message_ids:
        for message_id, filename, content_type, content_hash in session.exec(
            select(
                Attachment.message_id,
                Attachment.filename,
                Attachment.content_type,
                Attachment.content_hash,
            )
            .where(col(Attachment.message_id).in_(message_ids))
            .order_by(col(Attachment.id))
        ):
            found.setdefault(message_id, []).append(
                StoredMailFile(filename, content_type, content_hash)
            )
    return {message_id: tuple(files) for message_id, files in found.items()}


def mail_as_sent(payload: bytes, files: Sequence[StoredMailFile], blobs: BlobStore) -> bytes:
    """The stored mail with its message's files attached; ``ValueError`` when a file's bytes
    are gone from the blob store (the mail cannot be sent as it was written)."""
    if not files:
        return payload
    loaded: list[MailFile] = []
    for file in files:
        try:
            data = blobs.get(file.content_hash)
        except OSError:
            raise ValueError(f"the file {file.filename} of this mail is no longer stored") from None
        loaded.append(MailFile(file.filename, file.content_type, data))
    return with_attachments(payload, loaded)
