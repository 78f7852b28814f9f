"""help centre: categories, articles per locale, images, feedback, unanswered searches

Revision ID: 0020
Revises: 0019

Articles are searched like tickets (migration 0004): lower-case runs of letters and digits,
whole words plus the word being typed as a prefix. SQLite keeps ``help_article_fts`` (FTS5,
rowid the article's id, the title and the body as two columns so the title weighs more);
PostgreSQL keeps ``help_article_search``, per article a tsvector of its title and body and
one of its title alone (the ranking reads that small one, never the large one, which is kept
out of line), built by ``inbox_search_vector``. Triggers keep both current.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import inbox.models.types
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = inbox.models.types.UTCDateTime
String = sqlmodel.sql.sqltypes.AutoString
MAX_BODY = 100000

SQLITE_INSERT = (
    "INSERT INTO help_article_fts(rowid, title, body) "
    f"VALUES (NEW.id, NEW.title, substr(NEW.body_markdown, 1, {MAX_BODY}));"
)
SQLITE_TRIGGERS = {
    "help_article_fts_insert": f"AFTER INSERT ON help_article BEGIN\n  {SQLITE_INSERT}",
    "help_article_fts_update": "AFTER UPDATE OF title, body_markdown ON help_article BEGIN\n"
    f"  DELETE FROM help_article_fts WHERE rowid = OLD.id;\n  {SQLITE_INSERT}",
    "help_article_fts_delete": "AFTER DELETE ON help_article BEGIN\n"
    "  DELETE FROM help_article_fts WHERE rowid = OLD.id;",
}

PG_FUNCTION = f"""CREATE FUNCTION help_article_search_refresh() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO help_article_search (article_id, document, title)
  VALUES (NEW.id,
          inbox_search_vector(NEW.title || ' ' || left(NEW.body_markdown, {MAX_BODY})),
          inbox_search_vector(NEW.title))
  ON CONFLICT (article_id) DO UPDATE SET document = EXCLUDED.document, title = EXCLUDED.title;
  RETURN NULL;
END $$"""
PG_TRIGGER = (
    "CREATE TRIGGER help_article_search_change AFTER INSERT OR UPDATE OF title, body_markdown "
    "ON help_article FOR EACH ROW EXECUTE FUNCTION help_article_search_refresh()"
)


def upgrade() -> None:
    op.create_table(
        "help_category",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", String(length=100), nullable=False),
        sa.Column("name", String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("slug"),
    )
    op.create_table(
        "help_article",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", String(length=120), nullable=False),
        sa.Column("locale", String(length=16), nullable=False),
        sa.Column("title", String(length=200), nullable=False),
        sa.Column("body_markdown", sa.Text(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=True),
        sa.Column("status", String(length=16), nullable=False),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.Column("helpful_yes", sa.Integer(), nullable=False),
        sa.Column("helpful_no", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
        sa.Column("published_at", UTC(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["category_id"], ["help_category.id"]),
        sa.ForeignKeyConstraint(["created_by_id"], ["agent.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("locale", "slug", name="uq_help_article_locale_slug"),
    )
    op.create_index("ix_help_article_category_id", "help_article", ["category_id"])
    op.create_index("ix_help_article_listing", "help_article", ["status", "locale", "category_id"])
    op.create_table(
        "help_image",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("content_hash", String(length=64), nullable=False),
        sa.Column("content_type", String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("filename", String(length=255), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["agent.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("content_hash"),
    )
    op.create_table(
        "help_feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("comment", String(length=2000), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["help_article.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_help_feedback_article_id", "help_feedback", ["article_id"])
    op.create_table(
        "help_search_miss",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("term", String(length=200), nullable=False),
        sa.Column("locale", String(length=16), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("last_at", UTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("locale", "term", name="uq_help_search_miss_term"),
    )
    op.create_table(
        "help_centre_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("revision", String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute("INSERT INTO help_centre_state (id, revision) VALUES (1, '')")
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE help_article_fts USING fts5("
            "title, body, tokenize = 'unicode61 remove_diacritics 0', prefix = '2 3')"
        )
        for name, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}\nEND")
        return
    op.execute(
        "CREATE TABLE help_article_search ("
        " article_id integer PRIMARY KEY REFERENCES help_article(id) ON DELETE CASCADE,"
        " document tsvector NOT NULL, title tsvector NOT NULL)"
    )
    op.execute(
        "CREATE INDEX ix_help_article_search_document ON help_article_search USING gin (document)"
    )
    op.execute(PG_FUNCTION)
    op.execute(PG_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
        op.execute("DROP TABLE help_article_fts")
    else:
        op.execute("DROP TRIGGER help_article_search_change ON help_article")
        op.execute("DROP TABLE help_article_search")
        op.execute("DROP FUNCTION help_article_search_refresh()")
    op.drop_table("help_centre_state")
    op.drop_table("help_search_miss")
    op.drop_index("ix_help_feedback_article_id", table_name="help_feedback")
    op.drop_table("help_feedback")
    op.drop_table("help_image")
    op.drop_index("ix_help_article_listing", table_name="help_article")
    op.drop_index("ix_help_article_category_id", table_name="help_article")
    op.drop_table("help_article")
    op.drop_table("help_category")
