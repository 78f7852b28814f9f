"""The inbox's live counts: how many unresolved tickets there are per combination of what the
sidebar's views and the viewer's scope tell apart, kept by triggers as tickets change.

Every unresolved ticket counts once in a *queue row*, keyed by its team, whether it has an
assignee (``assignee_key`` 0: none, -1: someone), its channel, status, category, priority and
whether a snooze hides it; an assigned one counts again in an *agent row*, keyed the same but
by its assignee's id. A view's count is a sum of a few hundred rows (``inbox.queries.counts``)
instead of a ``count(*)`` over every ticket it holds.

Triggers keep them, so no writer (an action, a bulk update, a migration, a hand-written
statement) can leave them behind: on ``ticket``, a change of any key column moves the ticket
from its old rows to its new ones; on ``ticket_snooze``, a pending snooze starting or ending
changes ``ticket.pending_snoozes``, which moves the ticket in turn.

On PostgreSQL concurrent writers never wait on each other here: a trigger adds to a row of
its key that no other transaction holds (``FOR UPDATE SKIP LOCKED``), or inserts one more row
for the key, so a key has as many rows as writers ever held it at once, and a count sums
them. On SQLite, with one writer at a time, each key has one row.
"""

from __future__ import annotations

from sqlalchemy import DDL, Index, event
from sqlmodel import Field, SQLModel

from inbox.models.tickets import UNRESOLVED_SQL

KEY_COLUMNS = (
    "team_key",
    "assignee_key",
    "channel_key",
    "status",
    "status_category",
    "priority",
    "snoozed",
)
# Read by assignee key and team, grouped by channel, category and snooze: in index order.
INDEX_COLUMNS = (
    "assignee_key",
    "team_key",
    "channel_key",
    "status_category",
    "snoozed",
    "status",
    "priority",
)
UNASSIGNED = 0
ASSIGNED = -1  # a queue row of tickets with an assignee
NO_TEAM = 0
NO_CHANNEL = 0


class TicketCount(SQLModel, table=True):
    """Unresolved tickets of one key (see the module); ``n`` is added to, never recounted."""

    __tablename__ = "ticket_count"
    # The counts' reads (by assignee key, then team) and the triggers' (the whole key).
    __table_args__ = (Index("ix_ticket_count_key", *INDEX_COLUMNS),)

    id: int | None = Field(default=None, primary_key=True)
    team_key: int  # the team's id, or 0
    assignee_key: int  # queue rows: 0 (no assignee) or -1; agent rows: the assignee's id
    channel_key: int  # the channel's id, or 0
    status: str = Field(max_length=64)
    status_category: str = Field(max_length=32)
    priority: str = Field(max_length=16)
    snoozed: bool
    n: int = 0


def _key(row: str, *, agent: bool) -> list[str]:
    """The key of ``row`` (OLD or NEW) as SQL expressions: its queue row's or agent row's."""
    assignee = (
        f"{row}.assignee_id"
        if agent
        else f"CASE WHEN {row}.assignee_id IS NULL THEN {UNASSIGNED} ELSE {ASSIGNED} END"
    )
    return [
        f"COALESCE({row}.team_id, {NO_TEAM})",
        assignee,
        f"COALESCE({row}.channel_id, {NO_CHANNEL})",
        f"{row}.status",
        f"{row}.status_category",
        f"{row}.priority",
        f"({row}.pending_snoozes > 0)",
    ]


def _counts(row: str) -> str:
    """When ``row`` (OLD or NEW) is a ticket the counts hold."""
    return UNRESOLVED_SQL.replace("status_category", f"{row}.status_category")


# The columns a ticket's key is made of; a change of any other leaves the counts alone.
TICKET_KEY_COLUMNS = (
    "team_id",
    "assignee_id",
    "channel_id",
    "status",
    "status_category",
    "priority",
    "pending_snoozes",
)


def _key_changed(distinct: str) -> str:
    changed = [f"OLD.{c} {distinct} NEW.{c}" for c in TICKET_KEY_COLUMNS if c != "pending_snoozes"]
    changed.append(f"(OLD.pending_snoozes > 0) {distinct} (NEW.pending_snoozes > 0)")
    return "(" + " OR ".join(changed) + ")"


SNOOZING = "{row}.state = 'pending' AND {row}.kind = 'snooze'"  # as ``snoozed_ticket_ids``


def _snooze_changed(distinct: str) -> str:
    changed = (f"OLD.{c} {distinct} NEW.{c}" for c in ("state", "kind", "ticket_id"))
    return "(" + " OR ".join(changed) + ")"


# --- SQLite: one row per key, made when first needed ---------------------------------------


def _sqlite_add(row: str, delta: int, *, agent: bool) -> str:
    key = _key(row, agent=agent)
    when = _counts(row) + (f" AND {row}.assignee_id IS NOT NULL" if agent else "")
    match = " AND ".join(f"{c} = {k}" for c, k in zip(KEY_COLUMNS, key, strict=True))
    return (
        f"INSERT INTO ticket_count ({', '.join(KEY_COLUMNS)}, n) "  # noqa: S608
        f"SELECT {', '.join(key)}, 0 WHERE {when} "
        f"AND NOT EXISTS (SELECT 1 FROM ticket_count WHERE {match});\n"
        f"UPDATE ticket_count SET n = n + ({delta}) WHERE {match} AND {when};\n"
    )


def _sqlite_move(*rows: tuple[str, int]) -> str:
    return "".join(
        _sqlite_add(row, delta, agent=agent) for row, delta in rows for agent in (False, True)
    )


def _sqlite_snoozes(row: str, delta: int) -> str:
    return (
        f"UPDATE ticket SET pending_snoozes = pending_snoozes + ({delta}) "  # noqa: S608
        f"WHERE id = {row}.ticket_id AND {SNOOZING.format(row=row)};\n"
    )


SQLITE_TRIGGERS: dict[str, str] = {
    "ticket_count_insert": "AFTER INSERT ON ticket BEGIN\n" + _sqlite_move(("NEW", 1)),
    "ticket_count_update": f"AFTER UPDATE OF {', '.join(TICKET_KEY_COLUMNS)} ON ticket "
    f"WHEN {_key_changed('IS NOT')} BEGIN\n" + _sqlite_move(("OLD", -1), ("NEW", 1)),
    "ticket_count_delete": "AFTER DELETE ON ticket BEGIN\n" + _sqlite_move(("OLD", -1)),
    "ticket_snoozes_insert": "AFTER INSERT ON ticket_snooze BEGIN\n" + _sqlite_snoozes("NEW", 1),
    "ticket_snoozes_update": "AFTER UPDATE OF state, kind, ticket_id ON ticket_snooze "
    f"WHEN {_snooze_changed('IS NOT')} BEGIN\n"
    + _sqlite_snoozes("OLD", -1)
    + _sqlite_snoozes("NEW", 1),
    "ticket_snoozes_delete": "AFTER DELETE ON ticket_snooze BEGIN\n" + _sqlite_snoozes("OLD", -1),
}


# --- PostgreSQL: a row of the key no other writer holds, or one more ----------------------

_PG_ADD = f"""RETURNS void LANGUAGE plpgsql AS $$
    DECLARE
      free_id integer;
    BEGIN
      SELECT id INTO free_id FROM ticket_count
      WHERE team_key = k_team AND assignee_key = k_assignee AND channel_key = k_channel
        AND status = k_status AND status_category = k_category AND priority = k_priority
        AND snoozed = k_snoozed
      LIMIT 1 FOR UPDATE SKIP LOCKED;
      IF free_id IS NULL THEN
        INSERT INTO ticket_count ({", ".join(KEY_COLUMNS)}, n)
        VALUES (k_team, k_assignee, k_channel, k_status, k_category, k_priority, k_snoozed,
                delta);
      ELSE
        UPDATE ticket_count SET n = n + delta WHERE id = free_id;
      END IF;
    END $$"""  # noqa: S608


def _pg_move(row: str, delta: int) -> str:
    queue = ", ".join(_key(row, agent=False))
    agent = ", ".join(_key(row, agent=True))
    return f"""
        PERFORM ticket_count_add({queue}, {delta});
        IF {row}.assignee_id IS NOT NULL THEN
          PERFORM ticket_count_add({agent}, {delta});
        END IF;"""


PG_FUNCTIONS: dict[str, str] = {
    "ticket_count_add(k_team integer, k_assignee integer, k_channel integer, k_status varchar, "
    "k_category varchar, k_priority varchar, k_snoozed boolean, delta integer)": _PG_ADD,
    "ticket_count_on_ticket()": f"""RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP IN ('UPDATE', 'DELETE') AND {_counts("OLD")} THEN{_pg_move("OLD", -1)}
      END IF;
      IF TG_OP IN ('INSERT', 'UPDATE') AND {_counts("NEW")} THEN{_pg_move("NEW", 1)}
      END IF;
      RETURN NULL;
    END $$""",
    "ticket_snoozes_on_snooze()": f"""RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP IN ('UPDATE', 'DELETE') AND {SNOOZING.format(row="OLD")} THEN
        UPDATE ticket SET pending_snoozes = pending_snoozes - 1 WHERE id = OLD.ticket_id;
      END IF;
      IF TG_OP IN ('INSERT', 'UPDATE') AND {SNOOZING.format(row="NEW")} THEN
        UPDATE ticket SET pending_snoozes = pending_snoozes + 1 WHERE id = NEW.ticket_id;
      END IF;
      RETURN NULL;
    END $$""",  # noqa: S608
}
PG_TRIGGERS: dict[str, tuple[str, str]] = {
    "ticket_count_insert_delete": (
        "ticket",
        "AFTER INSERT OR DELETE ON ticket FOR EACH ROW EXECUTE FUNCTION ticket_count_on_ticket()",
    ),
    "ticket_count_update": (
        "ticket",
        f"AFTER UPDATE OF {', '.join(TICKET_KEY_COLUMNS)} ON ticket FOR EACH ROW "
        f"WHEN {_key_changed('IS DISTINCT FROM')} EXECUTE FUNCTION ticket_count_on_ticket()",
    ),
    "ticket_snoozes_insert_delete": (
        "ticket_snooze",
        "AFTER INSERT OR DELETE ON ticket_snooze FOR EACH ROW "
        "EXECUTE FUNCTION ticket_snoozes_on_snooze()",
    ),
    "ticket_snoozes_update": (
        "ticket_snooze",
        "AFTER UPDATE OF state, kind, ticket_id ON ticket_snooze FOR EACH ROW "
        f"WHEN {_snooze_changed('IS DISTINCT FROM')} "
        "EXECUTE FUNCTION ticket_snoozes_on_snooze()",
    ),
}


def count_trigger_ddl(dialect: str) -> list[str]:
    """The statements that create the triggers, in order, for ``sqlite`` or ``postgresql``."""
    if dialect == "sqlite":
        return [f"CREATE TRIGGER {name} {body}END" for name, body in SQLITE_TRIGGERS.items()]
    return [f"CREATE FUNCTION {name} {body}" for name, body in PG_FUNCTIONS.items()] + [
        f"CREATE TRIGGER {name} {body}" for name, (_, body) in PG_TRIGGERS.items()
    ]


def count_trigger_drops(dialect: str) -> list[str]:
    if dialect == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS]
    return [
        f"DROP TRIGGER IF EXISTS {name} ON {table}" for name, (table, _) in PG_TRIGGERS.items()
    ] + [f"DROP FUNCTION IF EXISTS {name.split('(')[0]}" for name in PG_FUNCTIONS]


def _fill(*, agent: bool) -> str:
    key = [k.replace("NEW.", "") for k in _key("NEW", agent=agent)]
    where = UNRESOLVED_SQL + (" AND assignee_id IS NOT NULL" if agent else "")
    return (
        f"INSERT INTO ticket_count ({', '.join(KEY_COLUMNS)}, n) "  # noqa: S608
        f"SELECT {', '.join(key)}, count(*) FROM ticket WHERE {where} "
        f"GROUP BY {', '.join(key)}"
    )


def count_fill_sql() -> list[str]:
    """Counting the tickets already there, for a database the triggers start on: each
    ticket's pending snoozes, then its rows."""
    return [
        "UPDATE ticket SET pending_snoozes = (SELECT count(*) FROM ticket_snooze s "  # noqa: S608
        f"WHERE s.ticket_id = ticket.id AND {SNOOZING.format(row='s')}) "
        "WHERE id IN (SELECT ticket_id FROM ticket_snooze s "
        f"WHERE {SNOOZING.format(row='s')})",
        _fill(agent=False),
        _fill(agent=True),
    ]


# A database built from the metadata (tests of the models, benchmarks) gets the triggers too;
# migration 0018 creates the same ones.
for _dialect in ("sqlite", "postgresql"):
    for _statement in count_trigger_ddl(_dialect):
        event.listen(
            SQLModel.metadata, "after_create", DDL(_statement).execute_if(dialect=_dialect)
        )
