"""The blob store's sweep: stored files that nothing refers to leave, once no one can still
send them.

A file is kept while an ``Attachment`` or a ``HelpImage`` names its hash, or a chat message
stored raw but not filed yet names it in its JSON (``inbox.parsing.chat``). Files are stored
before anything names them: a visitor's upload, an agent's files held for another try at a
reply, and mail's attachments in a filing that was rolled back. A signed token keeps the
first two for a day (``UPLOAD_SECONDS``, ``HELD_SECONDS``), so only a file stored more than
``GRACE`` ago is a candidate, and storing the same bytes again counts as storing them
(``BlobStore.put``).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable, Iterator
from datetime import timedelta

from sqlmodel import Session, col, select

from inbox.blobs import BlobStore
from inbox.models import Attachment, Channel, HelpImage, InboundItem
from inbox.models.kinds import ChannelKind
from inbox.parsing.chat import read_chat
from inbox.parsing.items import PendingRaw
from inbox.rules.chat_files import UPLOAD_SECONDS
from inbox.rules.reply_files import HELD_SECONDS

log = logging.getLogger(__name__)

GRACE = timedelta(seconds=max(UPLOAD_SECONDS, HELD_SECONDS), hours=1)
CHECK_BATCH = 500  # hashes looked up in one query
# What a chat message stored raw can still become: its files are not attachments yet.
UNFILED_STATES = ("pending", "quarantined")


def sweep_blobs(session: Session, blobs: BlobStore, *, now: float) -> int:
    """Remove the files stored before ``now - GRACE`` that nothing refers to; how many."""
    cutoff = now - GRACE.total_seconds()
    unfiled = unfiled_chat_files(session)
    removed = 0
    for batch in _batches((h for h, stored in blobs.stored() if stored < cutoff), CHECK_BATCH):
        referenced = unfiled | _named(session, batch)
        for content_hash in batch:
            if content_hash not in referenced:
                removed += blobs.remove_unless_stored_since(content_hash, cutoff)
    if removed:
        log.info("removed %d stored files that nothing refers to", removed)
    return removed


def unfiled_chat_files(session: Session) -> set[str]:
    """The hashes of the files that chat messages stored raw, and not filed yet, carry."""
    rows = session.exec(
        select(InboundItem.id, InboundItem.raw, InboundItem.size)
        .join(Channel, col(Channel.id) == col(InboundItem.channel_id))
        .where(Channel.kind == ChannelKind.CHAT, col(InboundItem.state).in_(UNFILED_STATES))
    )
    hashes: set[str] = set()
    for item_id, raw, size in rows:
        try:
            item = read_chat(PendingRaw(item_id or 0, ChannelKind.CHAT, raw, size, False))
        except (ValueError, KeyError, TypeError):
            continue  # unreadable: the filing quarantines it, and it names no file we can use
        hashes.update(f.content_hash for f in item.files)
    return hashes


def _named(session: Session, hashes: list[str]) -> set[str]:
    attached = session.exec(
        select(Attachment.content_hash).where(col(Attachment.content_hash).in_(hashes))
    )
    images = session.exec(
        select(HelpImage.content_hash).where(col(HelpImage.content_hash).in_(hashes))
    )
    return {*attached, *images}


def _batches(hashes: Iterable[str], size: int) -> Iterator[list[str]]:
    iterator = iter(hashes)
    while batch := list(itertools.islice(iterator, size)):
        yield batch
