"""Articles' views, counted in memory by each web process and written in batches.

Opening an article is the help centre's most frequent request, and a write per view cost it
more than everything else it does (a transaction, a row lock, a commit). Views are counted
here instead and written at most ``every`` seconds, by a thread of their own, in one
statement for all the articles viewed meanwhile (``inbox.actions.help.add_article_views``);
whatever is still counted when the process stops is written then. Readers of the counts
(the managers' report, the API) ask for a ``flush`` first, so what this process counted is
in; another process's counts follow within ``every`` seconds. A batch that fails to be
written is kept and tried again with the next.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter

from inbox.actions.help import add_article_views
from inbox.db import Database

log = logging.getLogger(__name__)

FLUSH_SECONDS = 1.0


class ArticleViews:
    def __init__(self, db: Database, *, every: float = FLUSH_SECONDS) -> None:
        self.db = db
        self.every = every
        self._counted: Counter[int] = Counter()
        self._lock = threading.Lock()  # guards the counts and the thread
        self._writing = threading.Lock()  # one batch written at a time
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, article_id: int) -> None:
        """One view of an article: counted now, written with the next batch."""
        with self._lock:
            self._counted[article_id] += 1
            if self._thread is None:
                self._stop = threading.Event()
                self._thread = threading.Thread(
                    target=self._run, args=(self._stop,), name="help-article-views", daemon=True
                )
                self._thread.start()

    def flush(self) -> None:
        """Writes what is counted, now; kept for the next batch if that fails."""
        with self._writing:
            with self._lock:
                batch, self._counted = self._counted, Counter()
            if not batch:
                return
            try:
                with self.db.unit_of_work() as session:
                    add_article_views(session, batch)
            except Exception:
                log.exception("article views not written; kept for the next batch")
                with self._lock:
                    self._counted.update(batch)

    def close(self) -> None:
        """Stops the thread and writes what is left (the app's shutdown); a view after this
        starts the thread again."""
        with self._lock:
            thread, self._thread = self._thread, None
            self._stop.set()
        if thread is not None:
            thread.join(timeout=10)
        self.flush()

    def _run(self, stop: threading.Event) -> None:
        while not stop.wait(self.every):
            self.flush()
