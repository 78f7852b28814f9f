"""Pulling a real Dovecot mailbox: cursor, PEEK, seen-after-commit, UIDVALIDITY, size cap."""

from __future__ import annotations

from dataclasses import replace

from sqlmodel import col, select

from inbox.actions.inbound.filing import pending_batches, process_inbound_item
from inbox.db import Database
from inbox.models import Channel, InboundItem, Message
from inbox.settings import Settings
from tests.support.desk import mail, make_channel
from tests.support.dovecot import DovecotServer
from tests.support.fixtures import MailboxUser
from workers.pulling import open_pull, sync_channel
from workers.runtime import build_runtime


def _sync(settings: Settings, channel_id: int) -> int:
    rt = build_runtime(settings)
    with rt.db.reading() as session:
        channel = session.get(Channel, channel_id)
    assert channel is not None
    with open_pull(rt, channel) as source:
        stored = sync_channel(rt, channel_id, source)
    with rt.db.reading() as session:
        pending = session.exec(
            select(InboundItem.id)
            .where(InboundItem.state == "pending")
            .order_by(col(InboundItem.id))
        ).all()
    for item_id in pending:
        with rt.db.unit_of_work() as session:
            process_inbound_item(session, rt.settings, rt.blobs, item_id or 0)
    rt.db.dispose()
    return stored


def _channel(db: Database, settings: Settings, user: MailboxUser) -> int:
    return make_channel(db, settings, imap_url=user.imap_url)


def _inbound(db: Database) -> list[Message]:
    with db.reading() as session:
        return list(session.exec(select(Message).where(Message.direction == "inbound")).all())


def test_sync_stores_new_mail_once_and_marks_it_seen_only_after_storing(
    db: Database, settings: Settings, dovecot: DovecotServer, mailbox_user: MailboxUser
) -> None:
    user, password = mailbox_user.user, mailbox_user.password
    channel = _channel(db, settings, mailbox_user)
    uids = dovecot.append_many(user, password, [mail(subject=f"n{i}") for i in range(3)])

    assert _sync(settings, channel) == 3
    assert all("\\Seen" in dovecot.flags(user, password)[uid] for uid in uids)
    with db.reading() as session:
        cursor = session.get(Channel, channel).cursor  # type: ignore[union-attr]
    assert cursor["last_uid"] == uids[-1] and cursor["uidvalidity"] > 0

    assert _sync(settings, channel) == 0  # nothing new: the cursor holds
    dovecot.append(user, password, mail(subject="later"))
    assert _sync(settings, channel) == 1
    assert sorted(m.subject for m in _inbound(db)) == ["later", "n0", "n1", "n2"]


def test_mail_already_seen_by_a_person_is_still_ingested(
    db: Database, settings: Settings, dovecot: DovecotServer, mailbox_user: MailboxUser
) -> None:
    channel = _channel(db, settings, mailbox_user)
    dovecot.append(mailbox_user.user, mailbox_user.password, mail(), flags=["\\Seen"])
    assert _sync(settings, channel) == 1


def test_uidvalidity_change_resyncs_without_duplicating_or_skipping(
    db: Database, settings: Settings, dovecot: DovecotServer, mailbox_user: MailboxUser
) -> None:
    user, password = mailbox_user.user, mailbox_user.password
    channel = _channel(db, settings, mailbox_user)
    dovecot.append_many(user, password, [mail(subject=f"before {i}") for i in range(3)])
    _sync(settings, channel)

    dovecot.reset_uidvalidity(user)
    dovecot.append(user, password, mail(subject="after the change"))
    _sync(settings, channel)

    subjects = sorted(m.subject for m in _inbound(db))
    assert subjects == ["after the change", "before 0", "before 1", "before 2"]
    with db.reading() as session:
        states = session.exec(select(InboundItem.state)).all()
    assert sorted(states).count("duplicate") == 3


def test_oversized_mail_becomes_a_ticket_that_says_so(
    db: Database, settings: Settings, dovecot: DovecotServer, mailbox_user: MailboxUser
) -> None:
    small = replace(settings, max_mail_bytes=2_000)
    channel = _channel(db, small, mailbox_user)
    dovecot.append(
        mailbox_user.user, mailbox_user.password, mail(subject="Big scan", body="x" * 50_000)
    )
    _sync(small, channel)
    [message] = _inbound(db)
    assert message.subject == "Big scan"
    assert "over the size limit" in message.body_text
    with db.reading() as session:
        item = session.exec(select(InboundItem)).one()
    assert item.truncated and item.size > 50_000


def test_batches_stop_at_their_byte_budget_when_read_and_when_filed(
    db: Database, settings: Settings, dovecot: DovecotServer, mailbox_user: MailboxUser
) -> None:
    """Sizes are read before anything is downloaded, so a batch of big mails is cut short;
    the filing reads, parses and files the stored mail in groups of the same budget."""
    budget = replace(settings, ingest_batch_bytes=100_000)
    channel_id = _channel(db, budget, mailbox_user)
    raws = [mail(subject=f"scan {n}", body="x" * 40_000) for n in range(5)]
    dovecot.append_many(mailbox_user.user, mailbox_user.password, raws)
    rt = build_runtime(budget)
    with rt.db.reading() as session:
        channel = session.get(Channel, channel_id)
    assert channel is not None

    with open_pull(rt, channel) as source:
        batches = [
            [item.size for item in pulled.items]
            for pulled in source.read_since(
                {}, batch_size=100, max_bytes=budget.max_mail_bytes, batch_bytes=100_000
            )
        ]
        assert [len(batch) for batch in batches] == [2, 2, 1]
        assert all(sum(batch) <= 100_000 for batch in batches)
        sync_channel(rt, channel_id, source)
    with rt.db.reading() as session:
        ids = [i or 0 for i in session.exec(select(InboundItem.id).order_by(col(InboundItem.id)))]
        groups = pending_batches(session, ids, max_bytes=100_000)
    assert [len(group) for group in groups] == [2, 2, 1]
    rt.db.dispose()
