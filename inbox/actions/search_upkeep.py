"""Upkeep of SQLite's search index (migrations 0004 and 0013); PostgreSQL needs none.

- **New words.** Triggers put the text of every search document part written into
  ``search_word_new``, an FTS5 table with the index's tokenizer; a search reads its words and
  those of ``search_word``. Moving them over keeps ``search_word_new`` small, so that reading
  its words stays cheap. One transaction: a word written meanwhile is in one table or the
  other.
- **Merging.** FTS5 writes new postings as small b-trees (segments) and merges four of one
  level into one of the next as they pile up; a word's postings are read from every segment
  that has some. The upkeep merges any level holding two or more (``usermerge``, set by
  migration 0013), a bounded amount of work per run, so that between bursts of mail the index
  settles to about one segment per level.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session

# FTS5 pages (about 4 KB each) one run may write while merging.
MERGE_PAGES = 500


def fold_new_search_words(session: Session) -> int:
    """Move the new words into ``search_word``; returns how many it did not have yet."""
    if session.get_bind().dialect.name != "sqlite":
        return 0
    added = session.execute(
        text("INSERT OR IGNORE INTO search_word(word) SELECT term FROM search_word_new_terms")
    )
    session.execute(text("INSERT INTO search_word_new(search_word_new) VALUES ('delete-all')"))
    return int(getattr(added, "rowcount", 0) or 0)


def merge_search_index(session: Session, pages: int = MERGE_PAGES) -> None:
    """Merge the index's segments, up to about ``pages`` pages of work."""
    if session.get_bind().dialect.name != "sqlite":
        return
    session.execute(
        text("INSERT INTO ticket_fts(ticket_fts, rank) VALUES ('merge', :pages)"),
        {"pages": pages},
    )
