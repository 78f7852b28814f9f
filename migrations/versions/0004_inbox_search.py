"""inbox: full-text search index, SLA due time, priority rank, list indexes, saved views

Revision ID: 0004
Revises: 0003

Search keeps one document per ticket: its reference, subject, customer name, the customer's
identities and the text of its messages (system events and automatic mail, such as our
acknowledgements, left out), each message cut at 20,000
characters and the whole at 100,000. Both backends split that document the same way: lower
case, then runs of letters and digits (SQLite FTS5 ``unicode61`` without diacritic folding;
on PostgreSQL ``[^[:alnum:]]+`` as separator, the words taken as lexemes as they are, so the
text-search parser never re-splits them). Triggers keep the document current when tickets,
messages, customers or identities change; existing tickets are indexed here.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import inbox.models.types
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNRESOLVED = "status_category NOT IN ('resolved', 'closed')"
PRIORITY_RANK = (
    "CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 "
    "WHEN 'low' THEN 3 ELSE 4 END"
)

# The document of ticket ``t``, in each dialect. Same parts, same order, same cuts.
SQLITE_DOCUMENT = """substr(
  t.reference || ' ' || t.subject || ' '
  || coalesce((SELECT c.name FROM customer c WHERE c.id = t.customer_id), '') || ' '
  || coalesce((SELECT group_concat(i.value, ' ') FROM
       (SELECT value FROM customer_identity WHERE customer_id = t.customer_id ORDER BY id) i), '')
  || ' '
  || coalesce((SELECT group_concat(m.body, ' ') FROM
       (SELECT substr(body_text, 1, 20000) AS body FROM message
        WHERE ticket_id = t.id AND kind <> 'system' AND NOT is_automatic ORDER BY id) m), ''),
  1, 100000)"""

PG_DOCUMENT = """left(
  t.reference || ' ' || t.subject || ' '
  || coalesce((SELECT c.name FROM customer c WHERE c.id = t.customer_id), '') || ' '
  || coalesce((SELECT string_agg(i.value, ' ' ORDER BY i.id) FROM customer_identity i
               WHERE i.customer_id = t.customer_id), '')
  || ' '
  || coalesce((SELECT string_agg(left(m.body_text, 20000), ' ' ORDER BY m.id) FROM message m
               WHERE m.ticket_id = t.id AND m.kind <> 'system' AND NOT m.is_automatic), ''),
  100000)"""


def _sqlite_refresh(where: str) -> str:
    """Statements that re-index the tickets selected by ``where`` (over ``ticket t``)."""
    return (
        f"DELETE FROM ticket_fts WHERE rowid IN (SELECT t.id FROM ticket t WHERE {where});\n"
        f"  INSERT INTO ticket_fts(rowid, document) SELECT t.id, {SQLITE_DOCUMENT} "
        f"FROM ticket t WHERE {where};"
    )


SQLITE_TRIGGERS = {
    "ticket_fts_ticket_insert": "AFTER INSERT ON ticket BEGIN\n  "
    + _sqlite_refresh("t.id = NEW.id"),
    "ticket_fts_ticket_update": "AFTER UPDATE OF reference, subject, customer_id ON ticket BEGIN\n  "
    + _sqlite_refresh("t.id = NEW.id"),
    "ticket_fts_ticket_delete": "AFTER DELETE ON ticket BEGIN\n"
    "  DELETE FROM ticket_fts WHERE rowid = OLD.id;",
    "ticket_fts_message_insert": "AFTER INSERT ON message WHEN NEW.kind <> 'system' AND NOT NEW.is_automatic BEGIN\n  "
    + _sqlite_refresh("t.id = NEW.ticket_id"),
    "ticket_fts_message_update": "AFTER UPDATE OF body_text, kind, is_automatic, ticket_id ON message BEGIN\n  "
    + _sqlite_refresh("t.id IN (OLD.ticket_id, NEW.ticket_id)"),
    "ticket_fts_message_delete": "AFTER DELETE ON message BEGIN\n  "
    + _sqlite_refresh("t.id = OLD.ticket_id"),
    "ticket_fts_customer_update": "AFTER UPDATE OF name ON customer BEGIN\n  "
    + _sqlite_refresh("t.customer_id = NEW.id"),
    "ticket_fts_identity_insert": "AFTER INSERT ON customer_identity BEGIN\n  "
    + _sqlite_refresh("t.customer_id = NEW.customer_id"),
    "ticket_fts_identity_update": "AFTER UPDATE OF value, customer_id ON customer_identity "
    "BEGIN\n  " + _sqlite_refresh("t.customer_id IN (OLD.customer_id, NEW.customer_id)"),
    "ticket_fts_identity_delete": "AFTER DELETE ON customer_identity BEGIN\n  "
    + _sqlite_refresh("t.customer_id = OLD.customer_id"),
}

PG_FUNCTIONS = [
    # Lower case, split on anything but letters and digits, words as lexemes (cut at 200
    # characters: a lexeme may have at most 2 KiB). No parser, no stemming, no stop words.
    """CREATE FUNCTION inbox_search_vector(document text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT coalesce(array_to_tsvector(array_agg(DISTINCT left(w, 200))), ''::tsvector)
      FROM regexp_split_to_table(lower(document), '[^[:alnum:]]+') AS w
      WHERE w <> ''
    $$""",
    # Lock first, then read in a fresh snapshot (READ COMMITTED), so two transactions adding
    # messages to one ticket cannot overwrite each other's document with a stale one.
    f"""CREATE FUNCTION inbox_search_refresh(ids integer[]) RETURNS void
    LANGUAGE plpgsql AS $$
    BEGIN
      IF ids IS NULL OR cardinality(ids) = 0 THEN
        RETURN;
      END IF;
      PERFORM 1 FROM ticket_search WHERE ticket_id = ANY(ids) ORDER BY ticket_id FOR UPDATE;
      INSERT INTO ticket_search (ticket_id, document)
      SELECT t.id, inbox_search_vector({PG_DOCUMENT}) FROM ticket t WHERE t.id = ANY(ids)
      ON CONFLICT (ticket_id) DO UPDATE SET document = EXCLUDED.document;
    END $$""",
    """CREATE FUNCTION inbox_search_on_ticket_rows() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM inbox_search_refresh(ARRAY(SELECT id FROM new_rows));
      RETURN NULL;
    END $$""",
    """CREATE FUNCTION inbox_search_on_ticket_row() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM inbox_search_refresh(ARRAY[NEW.id]);
      RETURN NULL;
    END $$""",
    """CREATE FUNCTION inbox_search_on_message_rows() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM inbox_search_refresh(
        ARRAY(SELECT DISTINCT ticket_id FROM new_rows WHERE kind <> 'system' AND NOT is_automatic));
      RETURN NULL;
    END $$""",
    """CREATE FUNCTION inbox_search_on_message_row() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' THEN
        PERFORM inbox_search_refresh(ARRAY[OLD.ticket_id]);
      ELSE
        PERFORM inbox_search_refresh(ARRAY[OLD.ticket_id, NEW.ticket_id]);
      END IF;
      RETURN NULL;
    END $$""",
    """CREATE FUNCTION inbox_search_on_customer_row() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM inbox_search_refresh(ARRAY(SELECT id FROM ticket WHERE customer_id = NEW.id));
      RETURN NULL;
    END $$""",
    """CREATE FUNCTION inbox_search_on_identity_rows() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM inbox_search_refresh(ARRAY(
        SELECT t.id FROM ticket t WHERE t.customer_id IN (SELECT customer_id FROM new_rows)));
      RETURN NULL;
    END $$""",
    """CREATE FUNCTION inbox_search_on_identity_row() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' THEN
        PERFORM inbox_search_refresh(ARRAY(
          SELECT id FROM ticket WHERE customer_id = OLD.customer_id));
      ELSE
        PERFORM inbox_search_refresh(ARRAY(
          SELECT id FROM ticket WHERE customer_id IN (OLD.customer_id, NEW.customer_id)));
      END IF;
      RETURN NULL;
    END $$""",
]

PG_TRIGGERS = [
    "CREATE TRIGGER ticket_search_ticket_insert AFTER INSERT ON ticket "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION inbox_search_on_ticket_rows()",
    "CREATE TRIGGER ticket_search_ticket_update AFTER UPDATE OF reference, subject, customer_id "
    "ON ticket FOR EACH ROW EXECUTE FUNCTION inbox_search_on_ticket_row()",
    "CREATE TRIGGER ticket_search_message_insert AFTER INSERT ON message "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION inbox_search_on_message_rows()",
    "CREATE TRIGGER ticket_search_message_change AFTER UPDATE OF body_text, kind, is_automatic, "
    "ticket_id "
    "OR DELETE ON message FOR EACH ROW EXECUTE FUNCTION inbox_search_on_message_row()",
    "CREATE TRIGGER ticket_search_customer_update AFTER UPDATE OF name ON customer "
    "FOR EACH ROW EXECUTE FUNCTION inbox_search_on_customer_row()",
    "CREATE TRIGGER ticket_search_identity_insert AFTER INSERT ON customer_identity "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION inbox_search_on_identity_rows()",
    "CREATE TRIGGER ticket_search_identity_change AFTER UPDATE OF value, customer_id "
    "OR DELETE ON customer_identity FOR EACH ROW "
    "EXECUTE FUNCTION inbox_search_on_identity_row()",
]

PG_FUNCTION_NAMES = [
    "inbox_search_on_identity_row()",
    "inbox_search_on_identity_rows()",
    "inbox_search_on_customer_row()",
    "inbox_search_on_message_row()",
    "inbox_search_on_message_rows()",
    "inbox_search_on_ticket_row()",
    "inbox_search_on_ticket_rows()",
    "inbox_search_refresh(integer[])",
    "inbox_search_vector(text)",
]
PG_TRIGGER_TABLES = {
    "ticket_search_ticket_insert": "ticket",
    "ticket_search_ticket_update": "ticket",
    "ticket_search_message_insert": "message",
    "ticket_search_message_change": "message",
    "ticket_search_customer_update": "customer",
    "ticket_search_identity_insert": "customer_identity",
    "ticket_search_identity_change": "customer_identity",
}

LIST_INDEXES = [
    # Lists of unresolved work, one per sort; the condition is written out literally in the
    # queries so that both planners can use these partial indexes.
    ("ix_ticket_open_updated", "updated_at, id", UNRESOLVED),
    ("ix_ticket_open_created", "created_at, id", UNRESOLVED),
    ("ix_ticket_open_priority", "priority_rank, created_at, id", UNRESOLVED),
    # Covers the live counts of the views of unresolved work, with the role scope.
    ("ix_ticket_open_counts", "team_id, assignee_id, status_category, channel_id, sla_due_at", UNRESOLVED),
    ("ix_ticket_created", "created_at, id", None),
    ("ix_ticket_priority", "priority_rank, created_at, id", None),
    ("ix_ticket_sla_due_at", "sla_due_at, id", None),
]


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.add_column(
        "ticket",
        sa.Column("sla_due_at", inbox.models.types.UTCDateTime(timezone=True), nullable=True),
    )
    kind = "VIRTUAL" if sqlite else "STORED"
    op.execute(
        f"ALTER TABLE ticket ADD COLUMN priority_rank INTEGER "
        f"GENERATED ALWAYS AS ({PRIORITY_RANK}) {kind}"
    )
    for name, columns, where in LIST_INDEXES:
        op.execute(
            f"CREATE INDEX {name} ON ticket ({columns})" + (f" WHERE {where}" if where else "")
        )
    op.create_table(
        "saved_view",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("query", sa.JSON(), nullable=False),
        sa.Column("created_at", inbox.models.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["owner_id"], ["agent.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("owner_id", "name", name="uq_saved_view_owner_name"),
    )
    op.create_index("ix_saved_view_shared", "saved_view", ["shared"])
    if sqlite:
        op.execute(
            "CREATE VIRTUAL TABLE ticket_fts USING fts5("
            "document, tokenize = 'unicode61 remove_diacritics 0', prefix = '2 3')"
        )
        op.execute(
            f"INSERT INTO ticket_fts(rowid, document) SELECT t.id, {SQLITE_DOCUMENT} FROM ticket t"
        )
        for name, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}\nEND")
        return
    op.execute(
        "CREATE TABLE ticket_search ("
        " ticket_id integer PRIMARY KEY REFERENCES ticket(id) ON DELETE CASCADE,"
        " document tsvector NOT NULL)"
    )
    for statement in PG_FUNCTIONS:
        op.execute(statement)
    op.execute(
        f"INSERT INTO ticket_search (ticket_id, document) "
        f"SELECT t.id, inbox_search_vector({PG_DOCUMENT}) FROM ticket t"
    )
    op.execute("CREATE INDEX ix_ticket_search_document ON ticket_search USING gin (document)")
    for statement in PG_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
        op.execute("DROP TABLE ticket_fts")
    else:
        for name, table in PG_TRIGGER_TABLES.items():
            op.execute(f"DROP TRIGGER {name} ON {table}")
        op.execute("DROP TABLE ticket_search")
        for function in PG_FUNCTION_NAMES:
            op.execute(f"DROP FUNCTION {function}")
    op.drop_index("ix_saved_view_shared", table_name="saved_view")
    op.drop_table("saved_view")
    for name, _columns, _where in LIST_INDEXES:
        op.execute(f"DROP INDEX {name}")
    op.execute("ALTER TABLE ticket DROP COLUMN priority_rank")
    op.drop_column("ticket", "sla_due_at")
