"""search: a ticket opened by its customer's first message is indexed once, with that message

Revision ID: 0012
Revises: 0011

Until now a new ticket's search document was written twice: when the ticket row went in
and again, in the same transaction, when its first message did. A ticket inserted with
``last_customer_message_at`` already set is one filed together with the customer's message
that opened it (multi-row filing of new mail does this); the message's own trigger indexes
it, with the message, so the ticket's trigger now leaves such rows alone. A ticket opened
any other way (by an agent, a call, a split) is indexed on insert as before.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PG_FUNCTION = """CREATE OR REPLACE FUNCTION inbox_search_on_ticket_rows() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM inbox_search_refresh(ARRAY(SELECT id FROM new_rows{where}));
      RETURN NULL;
    END $$"""
_PLAIN = "AFTER INSERT ON ticket BEGIN"
_WHEN = "AFTER INSERT ON ticket WHEN NEW.last_customer_message_at IS NULL BEGIN"


def upgrade() -> None:
    _replace(_PLAIN, _WHEN, " WHERE last_customer_message_at IS NULL")


def downgrade() -> None:
    _replace(_WHEN, _PLAIN, "")


def _replace(old: str, new: str, pg_where: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        op.execute(_PG_FUNCTION.format(where=pg_where))
        return
    # The trigger's body (the document it writes) stays as migration 0004 made it.
    sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'ticket_fts_ticket_insert'"
    ).scalar_one()
    if old not in sql:
        raise RuntimeError("ticket_fts_ticket_insert is not the trigger this migration expects")
    op.execute("DROP TRIGGER ticket_fts_ticket_insert")
    op.execute(sql.replace(old, new, 1))
