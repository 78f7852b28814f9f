"""The search index's new words, moved into ``search_word`` (SQLite; migration 0013).

Triggers put the text of every search document part written into ``search_word_new``, an
FTS5 table with the index's tokenizer; a search reads its words and those of
``search_word``. Moving them over keeps ``search_word_new`` small, so that reading its
words stays cheap. One transaction: a word written meanwhile is in one table or the other.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session


def fold_new_search_words(session: Session) -> int:
    """Move the new words into ``search_word``; returns how many it did not have yet."""
    if session.get_bind().dialect.name != "sqlite":
        return 0
    added = session.execute(
        text("INSERT OR IGNORE INTO search_word(word) SELECT term FROM search_word_new_terms")
    )
    session.execute(text("INSERT INTO search_word_new(search_word_new) VALUES ('delete-all')"))
    return int(getattr(added, "rowcount", 0) or 0)
