"""search (SQLite): a list of the index's words, for the word being typed; index upkeep

Revision ID: 0013
Revises: 0012

FTS5 answers a prefix longer than its prefix index (``refund*``) by reading and merging the
whole posting list of every word the prefix begins, however few matches the page needs.
``inbox.queries.search`` instead looks the prefix up among the index's words and, when it
begins only a few, asks for those words, which FTS5 reads lazily, newest ticket first.

``search_word`` holds every word the index has had. Triggers put the text of every part of a
search document as it is written (reference and subject, customer name, identity, message
text cut as the document cuts it) into ``search_word_new``, a contentless FTS5 table with
the index's own tokenizer, so its words are the index's words exactly; a search reads both.
A timer of the workers moves the new words into ``search_word`` and empties the FTS5 table
(``inbox.actions.search_upkeep``). Words are never removed: a word no ticket has any more
only costs a lookup that finds nothing.

The same timer merges the index's segments (FTS5's b-trees of postings; a word is read from
each segment that has it): ``usermerge`` 2 lets it merge any level holding two. The index
built by migration 0004 over an existing desk is merged into one segment here, once (about
ten seconds for a million tickets).

PostgreSQL needs none of this (its GIN index reads a prefix lazily and has no segments), so
there the migration does nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MESSAGE_INDEXED = "NEW.kind <> 'system' AND NOT NEW.is_automatic"
# Each trigger adds the text it names, as the search document (migration 0004) takes it.
TRIGGERS = {
    "search_word_ticket_insert": (
        "AFTER INSERT ON ticket",
        "NEW.reference || ' ' || coalesce(NEW.subject, '')",
    ),
    "search_word_ticket_update": (
        "AFTER UPDATE OF reference, subject ON ticket",
        "NEW.reference || ' ' || coalesce(NEW.subject, '')",
    ),
    "search_word_customer_insert": ("AFTER INSERT ON customer", "NEW.name"),
    "search_word_customer_update": ("AFTER UPDATE OF name ON customer", "NEW.name"),
    "search_word_identity_insert": ("AFTER INSERT ON customer_identity", "NEW.value"),
    "search_word_identity_update": (
        "AFTER UPDATE OF value ON customer_identity",
        "NEW.value",
    ),
    "search_word_message_insert": (
        f"AFTER INSERT ON message WHEN {MESSAGE_INDEXED}",
        "substr(NEW.body_text, 1, 20000)",
    ),
    "search_word_message_update": (
        f"AFTER UPDATE OF body_text, kind, is_automatic ON message WHEN {MESSAGE_INDEXED}",
        "substr(NEW.body_text, 1, 20000)",
    ),
}


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("CREATE TABLE search_word (word TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID")
    op.execute(
        "CREATE VIRTUAL TABLE search_word_new USING fts5("
        "text, content = '', detail = none, tokenize = 'unicode61 remove_diacritics 0')"
    )
    op.execute("CREATE VIRTUAL TABLE search_word_new_terms USING fts5vocab(search_word_new, row)")
    for name, (event, words) in TRIGGERS.items():
        op.execute(
            f"CREATE TRIGGER {name} {event} BEGIN\n"
            f"  INSERT INTO search_word_new(text) VALUES ({words});\nEND"
        )
    # The words already indexed, read once off the index itself.
    op.execute("CREATE VIRTUAL TABLE temp.ticket_fts_terms USING fts5vocab(main, ticket_fts, row)")
    op.execute("INSERT INTO search_word(word) SELECT term FROM temp.ticket_fts_terms")
    op.execute("DROP TABLE temp.ticket_fts_terms")
    op.execute("INSERT INTO ticket_fts(ticket_fts, rank) VALUES ('usermerge', 2)")
    op.execute("INSERT INTO ticket_fts(ticket_fts) VALUES ('optimize')")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("INSERT INTO ticket_fts(ticket_fts, rank) VALUES ('usermerge', 4)")
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER {name}")
    op.execute("DROP TABLE search_word_new_terms")
    op.execute("DROP TABLE search_word_new")
    op.execute("DROP TABLE search_word")
