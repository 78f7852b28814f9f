"""Webhook posts that arrive together are committed together: each is answered with what was
new of its own, a redelivery among them stores nothing, and a failed transaction fails each
post of it (the platform posts them again)."""

from __future__ import annotations

import threading
import time

import pytest
from sqlmodel import col, select

from connectors.base import RawInbound
from inbox.db import Database
from inbox.models import InboundItem
from inbox.settings import Settings
from inbox.web.webhooks.grouped import GroupedStore
from tests.support.social_desk import add_channel


def _item(key: str) -> RawInbound:
    raw = f'{{"id": "{key}"}}'.encode()
    return RawInbound(key, raw, len(raw))


@pytest.fixture
def channel_id(db: Database, settings: Settings) -> int:
    return add_channel(
        db,
        settings,
        "whatsapp",
        account_id="1065",
        secrets={"token": "t", "app_secret": "s", "verify_token": "v"},
    )


def test_posts_waiting_together_are_stored_in_one_transaction_each_with_its_own_count(
    db: Database, channel_id: int
) -> None:
    store = GroupedStore(db)
    results: list[tuple[str, int]] = []
    commits: list[int] = []
    db.on_commit(lambda events: commits.append(len(events)))

    def post(key: str) -> None:
        results.append((key, store.store({channel_id: [_item(key)]})))

    store._writing = True  # a group is being written: the posts that come wait for their turn
    threads = [threading.Thread(target=post, args=(k,)) for k in ("a", "b", "b", "c")]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 10
    while len(store._waiting) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    store._write_group()  # the turn comes: the four go in together
    for thread in threads:
        thread.join(10)

    assert sorted(results) == [("a", 1), ("b", 0), ("b", 1), ("c", 1)]  # "b" new once
    with db.reading() as session:
        keys = session.exec(select(InboundItem.remote_key).order_by(col(InboundItem.id))).all()
    assert sorted(keys) == ["a", "b", "c"]
    assert len(commits) == 1
    assert store.store({channel_id: [_item("d")]}) == 1  # alone, the post writes itself


def test_a_failed_transaction_fails_every_post_of_it(db: Database, channel_id: int) -> None:
    store = GroupedStore(db)

    with pytest.raises(Exception, match=r"(?i)foreign key"):
        store.store({channel_id + 999: [_item("x")]})

    assert store.store({channel_id: [_item("y")]}) == 1
