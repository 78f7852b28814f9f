"""Storing what concurrent webhook posts carry, several posts to one transaction.

Each post must be committed before it is answered, and on the embedded default every commit
takes the one writer's turn. In a flood, the posts that arrive while one is being written
wait together, and the first of them writes them all in one transaction (group commit):
one turn, one ``BEGIN`` and one ``COMMIT`` for all, then each is answered with what was new
of its own. A failed transaction fails every post in it (each answers an error, and the
platform posts it again); a redelivery stores nothing, as alone.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from inbox.actions.inbound.store import RawItem, store_inbound
from inbox.db import Database


@dataclass
class _Post:
    items: Mapping[int, Sequence[RawItem]]  # channel id -> items
    done: threading.Event = field(default_factory=threading.Event)
    writes: bool = False  # this post's thread writes the next group
    stored: int = 0
    error: BaseException | None = None


class GroupedStore:
    """One per database; thread-safe."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._lock = threading.Lock()
        self._waiting: list[_Post] = []
        self._writing = False

    def store(self, items: Mapping[int, Sequence[RawItem]]) -> int:
        """Stores the items (channel id -> items) with those of the posts waiting alongside,
        committed; returns how many of these were new."""
        post = _Post(items)
        with self._lock:
            self._waiting.append(post)
            if not self._writing:
                self._writing = post.writes = True
        if not post.writes:
            post.done.wait()
        if post.writes:  # first, or handed the turn by the post before: write the group
            self._write_group()
        if post.error is not None:
            raise post.error
        return post.stored

    def _write_group(self) -> None:
        """The posts waiting (this one among them) in one transaction; then the turn goes
        to the first post that came meanwhile, and the group's posts are answered."""
        group: list[_Post] = []
        try:
            with self._db.unit_of_work() as session:
                # Taken once the writer's turn came: the posts that came while it waited too.
                with self._lock:
                    group, self._waiting = self._waiting, []
                for post in group:
                    post.stored = sum(
                        len(store_inbound(session, channel_id, items, pushed=True))
                        for channel_id, items in post.items.items()
                    )
        except BaseException as exc:
            with self._lock:
                if not group:  # failed before it took them
                    group, self._waiting = self._waiting, []
            for post in group:
                post.error = exc
        finally:
            with self._lock:
                following = self._waiting[0] if self._waiting else None
                if following is not None:
                    following.writes = True
                else:
                    self._writing = False
            for post in group:
                post.done.set()
            if following is not None:
                following.done.set()


_stores: weakref.WeakKeyDictionary[Database, GroupedStore] = weakref.WeakKeyDictionary()
_stores_lock = threading.Lock()


def grouped_store(db: Database) -> GroupedStore:
    with _stores_lock:
        found = _stores.get(db)
        if found is None:
            found = _stores[db] = GroupedStore(db)
        return found
