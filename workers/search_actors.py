"""Search upkeep (SQLite): a timer that moves the search index's new words into
``search_word`` (``inbox.actions.search_words``), and sets itself again."""

from __future__ import annotations

from datetime import datetime, timedelta

from inbox.actions.search_words import fold_new_search_words
from inbox.actions.timers import ClaimedTimer, set_timer
from inbox.db import Database
from inbox.models import utcnow
from workers.runtime import Runtime
from workers.timers import timer_handler

SEARCH_WORDS_TIMER = "search_words"
SEARCH_WORDS_EVERY = timedelta(seconds=30)


def ensure_search_words_fold(db: Database) -> None:
    """The timer, set once on SQLite; PostgreSQL keeps no word list."""
    if not db.is_sqlite:
        return
    with db.unit_of_work() as session:
        set_timer(session, kind=SEARCH_WORDS_TIMER, key=SEARCH_WORDS_TIMER, due_at=utcnow())


@timer_handler(SEARCH_WORDS_TIMER)
def _fold(rt: Runtime, _timer: ClaimedTimer) -> datetime | None:
    with rt.db.unit_of_work() as session:
        fold_new_search_words(session)
    return utcnow() + SEARCH_WORDS_EVERY
