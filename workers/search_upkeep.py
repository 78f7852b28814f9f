"""Search upkeep (SQLite): a timer that folds the index's new words into ``search_word`` and
merges the index's segments (``inbox.actions.search_upkeep``), then sets itself again."""

from __future__ import annotations

from datetime import datetime, timedelta

from inbox.actions.search_upkeep import fold_new_search_words, merge_search_index
from inbox.actions.timers import ClaimedTimer, set_timer
from inbox.db import Database
from inbox.models import utcnow
from workers.runtime import Runtime
from workers.timers import timer_handler

SEARCH_UPKEEP_TIMER = "search_upkeep"
SEARCH_UPKEEP_EVERY = timedelta(seconds=30)


def ensure_search_upkeep(db: Database) -> None:
    """The timer, set once on SQLite; PostgreSQL's index needs no upkeep."""
    if not db.is_sqlite:
        return
    with db.unit_of_work() as session:
        set_timer(session, kind=SEARCH_UPKEEP_TIMER, key=SEARCH_UPKEEP_TIMER, due_at=utcnow())


@timer_handler(SEARCH_UPKEEP_TIMER)
def _upkeep(rt: Runtime, _timer: ClaimedTimer) -> datetime | None:
    with rt.db.unit_of_work() as session:
        fold_new_search_words(session)
    with rt.db.unit_of_work() as session:
        merge_search_index(session)
    return utcnow() + SEARCH_UPKEEP_EVERY
