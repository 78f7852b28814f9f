"""The blob store's sweep (``inbox.actions.blob_sweep``): a timer, set once, that sets itself
again after every run. It only reads the tables, so it holds no writer's turn."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from inbox.actions.blob_sweep import sweep_blobs
from inbox.actions.timers import ClaimedTimer, set_timer
from inbox.db import Database
from inbox.models import utcnow
from workers.runtime import Runtime
from workers.timers import timer_handler

BLOB_SWEEP_TIMER = "blob_sweep"
BLOB_SWEEP_EVERY = timedelta(hours=6)


def ensure_blob_sweep(db: Database) -> None:
    """The timer, set once for the desk: its first sweep a period after the desk first
    started (nothing is older than ``GRACE`` before that)."""
    with db.unit_of_work() as session:
        set_timer(
            session, kind=BLOB_SWEEP_TIMER, key=BLOB_SWEEP_TIMER, due_at=utcnow() + BLOB_SWEEP_EVERY
        )


@timer_handler(BLOB_SWEEP_TIMER)
def _sweep(rt: Runtime, _timer: ClaimedTimer) -> datetime | None:
    with rt.db.reading() as session:
        sweep_blobs(session, rt.blobs, now=time.time())
    return utcnow() + BLOB_SWEEP_EVERY
