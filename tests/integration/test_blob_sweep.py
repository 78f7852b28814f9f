"""Stored files that nothing names leave the blob store once no one can still send them
(``inbox.actions.blob_sweep``): a visitor's upload that never went out in a message goes a
day after it was stored; what a ticket's message, a help article's image or a chat message
not filed yet names stays, and so do bytes stored again lately."""

from __future__ import annotations

import json
import os
import time
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from inbox.actions.blob_sweep import GRACE, sweep_blobs
from inbox.actions.chat.files import FileRefused, Upload, files_of_message, store_chat_upload
from inbox.actions.chat.messages import RawChat, take_visitor_message
from inbox.actions.inbound.filing import process_inbound_item
from inbox.actions.inbound.store import store_inbound
from inbox.blobs import BlobStore
from inbox.db import Database
from inbox.models import Attachment, ChatVisitor, HelpImage, InboundItem, Timer, utcnow
from inbox.settings import Settings
from tests.support.chat_desk import chat_channel
from tests.support.chat_files import PDF, png
from tests.support.desk import fire_due_timers
from workers.blob_sweep import BLOB_SWEEP_EVERY, BLOB_SWEEP_TIMER, ensure_blob_sweep

PAST_GRACE = GRACE.total_seconds() + 60


def _visitor(db: Database, channel_id: int) -> int:
    with db.unit_of_work() as session:
        visitor = ChatVisitor(channel_id=channel_id, name="Maria")
        session.add(visitor)
        session.flush()
        return visitor.id or 0


def _upload(settings: Settings, blobs: BlobStore, visitor_id: int, data: bytes) -> Upload:
    return store_chat_upload(
        blobs,
        settings.secret_key,
        visitor_id=visitor_id,
        name="shot.png" if data.startswith(b"\x89PNG") else "statement.pdf",
        data=data,
        now=int(time.time()),
    )


def _stored_long_ago(blobs: BlobStore, *hashes: str) -> None:
    then = time.time() - PAST_GRACE
    for content_hash in hashes:
        os.utime(blobs.path_for(content_hash), (then, then))


def _kept(blobs: BlobStore, content_hash: str) -> bool:
    return blobs.path_for(content_hash).exists()


def _sweep(db: Database, blobs: BlobStore) -> int:
    with db.reading() as session:
        return sweep_blobs(session, blobs, now=time.time())


def test_an_upload_never_sent_goes_and_what_anything_names_stays(
    db: Database, settings: Settings
) -> None:
    blobs = BlobStore(settings.blob_dir)
    channel = chat_channel(db, settings)
    visitor = _visitor(db, channel)
    sent = _upload(settings, blobs, visitor, png())
    never_sent = _upload(settings, blobs, visitor, png(rgb=(200, 30, 30)))
    waiting = _upload(settings, blobs, visitor, PDF)
    image = blobs.put(png(rgb=(0, 128, 0)))
    with db.unit_of_work() as session:
        author = session.get(ChatVisitor, visitor)
        assert author is not None
        ack = take_visitor_message(
            session,
            settings,
            blobs,
            visitor=author,
            client_id="with-file",
            text="The error",
            attachments=[sent.token],
        )
        assert ack is not None
        # A message the socket stored whose filing has not run yet: its file is in its JSON.
        body = {"visitor_id": visitor, "client_id": "waiting", "text": "", "masked": []}
        raw = json.dumps({**body, "attachments": [waiting.file.as_json()]}).encode()
        store_inbound(session, channel, [RawChat(f"{visitor}:waiting", raw, len(raw))])
        session.add(HelpImage(content_hash=image, content_type="image/png", size=9, filename="a"))
    hashes = [f.file.content_hash for f in (sent, never_sent, waiting)] + [image]

    # Within the day, the unsent upload may still go out: nothing is swept.
    assert _sweep(db, blobs) == 0
    assert all(_kept(blobs, h) for h in hashes)

    _stored_long_ago(blobs, *hashes)
    assert _sweep(db, blobs) == 1
    assert not _kept(blobs, never_sent.file.content_hash)
    assert all(_kept(blobs, h) for h in hashes if h != never_sent.file.content_hash)
    with pytest.raises(FileRefused, match="attach it again"):
        files_of_message(blobs, settings.secret_key, visitor, [never_sent.token], int(time.time()))

    # The waiting message filed at last: its file is its attachment, and stays.
    with db.unit_of_work() as session:
        item = session.exec(select(InboundItem).where(InboundItem.remote_key.endswith("waiting")))
        process_inbound_item(session, settings, blobs, item.one().id or 0)
    assert _sweep(db, blobs) == 0
    with db.reading() as session:
        attached = set(session.exec(select(Attachment.content_hash)))
    assert attached == {sent.file.content_hash, waiting.file.content_hash}
    assert blobs.get(waiting.file.content_hash) == PDF


def test_old_bytes_uploaded_again_today_are_kept_for_the_new_upload(
    db: Database, settings: Settings
) -> None:
    blobs = BlobStore(settings.blob_dir)
    visitor = _visitor(db, chat_channel(db, settings))
    first = _upload(settings, blobs, visitor, png())
    _stored_long_ago(blobs, first.file.content_hash)
    again = _upload(settings, blobs, visitor, png())  # the same screenshot, a day later
    assert again.file.content_hash == first.file.content_hash
    assert _sweep(db, blobs) == 0
    assert files_of_message(blobs, settings.secret_key, visitor, [again.token], int(time.time()))


def test_the_sweep_is_a_timer_that_sets_itself_again(db: Database, settings: Settings) -> None:
    blobs = BlobStore(settings.blob_dir)
    visitor = _visitor(db, chat_channel(db, settings))
    orphan = _upload(settings, blobs, visitor, png()).file.content_hash
    _stored_long_ago(blobs, orphan)
    ensure_blob_sweep(db)
    ensure_blob_sweep(db)  # the scheduler of every process sets it; one timer
    with db.unit_of_work() as session:
        timer = session.exec(select(Timer).where(Timer.kind == BLOB_SWEEP_TIMER)).one()
        assert timer.due_at > utcnow() + BLOB_SWEEP_EVERY - timedelta(minutes=1)
        session.execute(update(Timer).where(col(Timer.id) == timer.id).values(due_at=utcnow()))

    fired = fire_due_timers(settings)
    assert not _kept(blobs, orphan)
    with fired.reading() as session:
        timer = session.exec(select(Timer).where(Timer.kind == BLOB_SWEEP_TIMER)).one()
    assert timer.state == "pending"
    assert timer.due_at > utcnow() + BLOB_SWEEP_EVERY - timedelta(minutes=1)
