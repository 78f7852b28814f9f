"""The SLA report's rollup: per UTC day of ticket creation, what the report shows of that
day's tickets, so that a 90-day report reads a few thousand rows instead of every clock.

Written only by ``inbox.actions.report_rollup`` from the clocks. Triggers (``rollup_trigger_ddl``,
created by migration 0011 and with the metadata) append a row to ``sla_report_change`` for
every change of a clock or of a ticket's grouping columns; a day with such rows is stale, and
the report computes it from the clocks until the refresher has folded the changes in.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import DDL, JSON, Column, Index, event
from sqlmodel import Field, SQLModel, col

from inbox.models.sla import SlaClock
from inbox.models.tickets import Ticket


class SlaReportChange(SQLModel, table=True):
    """A change to a day's tickets or clocks, not yet folded into that day's rollup.

    Append-only for writers (no row is ever updated, so concurrent writers never wait on
    each other here); the refresher deletes exactly the rows it saw when it recomputed.
    """

    __tablename__ = "sla_report_change"
    # Ids are never reused (a reused id could pass for one the refresher saw).
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    day: date = Field(index=True)


class SlaReportCount(SQLModel, table=True):
    """Clocks met, breached and in all of one target, per value of one grouping of the report
    (``dimension``: policy, channel, team, agent or priority; ``key`` None for none), per team
    for the viewer's scope."""

    __tablename__ = "sla_report_count"
    __table_args__ = (Index("ix_sla_report_count_day", "day", "dimension"),)

    id: int | None = Field(default=None, primary_key=True)
    day: date
    target: str = Field(max_length=32)
    dimension: str = Field(max_length=16)
    key: str | None = Field(default=None, max_length=64)
    team_id: int | None = None
    met: int = 0
    breached: int = 0
    total: int = 0


class SlaReportHistogram(SQLModel, table=True):
    """How many stopped clocks of a target took a number of seconds within each bucket
    (``measure``: business or calendar), per team: ``counts`` is ``[[bucket, n], ...]``."""

    __tablename__ = "sla_report_histogram"
    __table_args__ = (Index("ix_sla_report_histogram_day", "day", "target", "measure"),)

    id: int | None = Field(default=None, primary_key=True)
    day: date
    target: str = Field(max_length=32)
    measure: str = Field(max_length=16)
    team_id: int | None = None
    counts: list[list[int]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class SlaReportTime(SQLModel, table=True):
    """One stopped clock's business and calendar seconds, with their buckets: where the
    report finds the exact values inside the one bucket that holds a median or a 90th
    percentile."""

    __tablename__ = "sla_report_time"
    __table_args__ = (
        Index(
            "ix_sla_report_time_business",
            "target",
            "business_bucket",
            "day",
            "team_id",
            "business_seconds",
        ),
        Index(
            "ix_sla_report_time_calendar",
            "target",
            "calendar_bucket",
            "day",
            "team_id",
            "calendar_seconds",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    day: date = Field(index=True)
    target: str = Field(max_length=32)
    team_id: int | None = None
    business_seconds: int
    business_bucket: int
    calendar_seconds: int
    calendar_bucket: int


class SlaReportVolume(SQLModel, table=True):
    """New tickets per channel and team in each quarter of an hour of the UTC day (``slots``,
    96 counts): fine enough to cut UTC days at the midnight of any zone in use."""

    __tablename__ = "sla_report_volume"

    id: int | None = Field(default=None, primary_key=True)
    day: date = Field(index=True)
    channel_id: int | None = None
    team_id: int | None = None
    slots: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


# The report lists the newest breaches: read from this index backwards, not by sorting all.
Index("ix_sla_clock_breached_at", col(SlaClock.breached_at), col(SlaClock.id))
# A viewer's own tickets in other teams' queues, which the rollup keeps apart by team only.
Index("ix_ticket_assignee_created", col(Ticket.assignee_id), col(Ticket.created_at))


# What the triggers watch. A stopped clock's remaining seconds give its business time, so
# they count only once the clock stopped; a running clock's change every recompute.
_CLOCK_CHANGED = {
    "sqlite": " OR ".join(
        [
            f"OLD.{c} IS NOT NEW.{c}"
            for c in ("ticket_id", "target", "policy_id", "state", "stopped_at", "breached_at")
        ]
        + [
            "(NEW.stopped_at IS NOT NULL AND (OLD.remaining_seconds IS NOT NEW.remaining_seconds"
            " OR OLD.target_minutes IS NOT NEW.target_minutes"
            " OR OLD.started_at IS NOT NEW.started_at))"
        ]
    ),
    "postgresql": " OR ".join(
        [
            f"OLD.{c} IS DISTINCT FROM NEW.{c}"
            for c in ("ticket_id", "target", "policy_id", "state", "stopped_at", "breached_at")
        ]
        + [
            "(NEW.stopped_at IS NOT NULL AND ("
            "OLD.remaining_seconds IS DISTINCT FROM NEW.remaining_seconds"
            " OR OLD.target_minutes IS DISTINCT FROM NEW.target_minutes"
            " OR OLD.started_at IS DISTINCT FROM NEW.started_at))"
        ]
    ),
}
TICKET_COLUMNS = ("created_at", "channel_id", "team_id", "assignee_id", "priority")
_TICKET_CHANGED = {
    "sqlite": " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in TICKET_COLUMNS),
    "postgresql": " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in TICKET_COLUMNS),
}


def _sqlite_log(ticket_ids: str) -> str:
    """Trigger SQL logging the days of the tickets named by ``ticket_ids`` (NEW/OLD columns)."""
    return (
        "INSERT INTO sla_report_change (day) SELECT DISTINCT substr(created_at, 1, 10) "  # noqa: S608
        f"FROM ticket WHERE id IN ({ticket_ids});"
    )


SQLITE_TRIGGERS: dict[str, str] = {
    "sla_report_clock_insert": "AFTER INSERT ON sla_clock BEGIN " + _sqlite_log("NEW.ticket_id"),
    "sla_report_clock_update": f"AFTER UPDATE ON sla_clock WHEN {_CLOCK_CHANGED['sqlite']} "
    "BEGIN " + _sqlite_log("OLD.ticket_id, NEW.ticket_id"),
    "sla_report_clock_delete": "AFTER DELETE ON sla_clock BEGIN " + _sqlite_log("OLD.ticket_id"),
    "sla_report_ticket_insert": "AFTER INSERT ON ticket BEGIN "
    "INSERT INTO sla_report_change (day) VALUES (substr(NEW.created_at, 1, 10));",
    "sla_report_ticket_update": f"AFTER UPDATE OF {', '.join(TICKET_COLUMNS)} ON ticket "
    f"WHEN {_TICKET_CHANGED['sqlite']} BEGIN "
    "INSERT INTO sla_report_change (day) SELECT substr(OLD.created_at, 1, 10) "
    "UNION SELECT substr(NEW.created_at, 1, 10);",
    "sla_report_ticket_delete": "AFTER DELETE ON ticket BEGIN "
    "INSERT INTO sla_report_change (day) VALUES (substr(OLD.created_at, 1, 10));",
}

PG_FUNCTIONS: dict[str, str] = {
    "sla_report_on_clock()": """RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        INSERT INTO sla_report_change (day)
        SELECT (t.created_at AT TIME ZONE 'UTC')::date FROM ticket t WHERE t.id = NEW.ticket_id;
      ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO sla_report_change (day)
        SELECT DISTINCT (t.created_at AT TIME ZONE 'UTC')::date FROM ticket t
        WHERE t.id IN (OLD.ticket_id, NEW.ticket_id);
      ELSE
        INSERT INTO sla_report_change (day)
        SELECT (t.created_at AT TIME ZONE 'UTC')::date FROM ticket t WHERE t.id = OLD.ticket_id;
      END IF;
      RETURN NULL;
    END $$""",
    "sla_report_on_ticket()": """RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO sla_report_change (day) VALUES ((OLD.created_at AT TIME ZONE 'UTC')::date);
      END IF;
      IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND
          (OLD.created_at AT TIME ZONE 'UTC')::date <> (NEW.created_at AT TIME ZONE 'UTC')::date)
      THEN
        INSERT INTO sla_report_change (day) VALUES ((NEW.created_at AT TIME ZONE 'UTC')::date);
      END IF;
      RETURN NULL;
    END $$""",
}
PG_TRIGGERS: dict[str, tuple[str, str]] = {
    "sla_report_clock_insert_delete": (
        "sla_clock",
        "AFTER INSERT OR DELETE ON sla_clock FOR EACH ROW EXECUTE FUNCTION sla_report_on_clock()",
    ),
    "sla_report_clock_update": (
        "sla_clock",
        f"AFTER UPDATE ON sla_clock FOR EACH ROW WHEN ({_CLOCK_CHANGED['postgresql']}) "
        "EXECUTE FUNCTION sla_report_on_clock()",
    ),
    "sla_report_ticket_insert_delete": (
        "ticket",
        "AFTER INSERT OR DELETE ON ticket FOR EACH ROW EXECUTE FUNCTION sla_report_on_ticket()",
    ),
    "sla_report_ticket_update": (
        "ticket",
        f"AFTER UPDATE OF {', '.join(TICKET_COLUMNS)} ON ticket FOR EACH ROW "
        f"WHEN ({_TICKET_CHANGED['postgresql']}) EXECUTE FUNCTION sla_report_on_ticket()",
    ),
}


def rollup_trigger_ddl(dialect: str) -> list[str]:
    """The statements that create the triggers, in order, for ``sqlite`` or ``postgresql``."""
    if dialect == "sqlite":
        return [f"CREATE TRIGGER {name} {body}\nEND" for name, body in SQLITE_TRIGGERS.items()]
    return [f"CREATE FUNCTION {name} {body}" for name, body in PG_FUNCTIONS.items()] + [
        f"CREATE TRIGGER {name} {body}" for name, (_, body) in PG_TRIGGERS.items()
    ]


def rollup_trigger_drops(dialect: str) -> list[str]:
    if dialect == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS]
    return [
        f"DROP TRIGGER IF EXISTS {name} ON {table}" for name, (table, _) in PG_TRIGGERS.items()
    ] + [f"DROP FUNCTION IF EXISTS {name}" for name in PG_FUNCTIONS]


# A database built from the metadata (tests of the models, benchmarks) gets the triggers too;
# migration 0011 creates the same ones.
for _dialect in ("sqlite", "postgresql"):
    for _statement in rollup_trigger_ddl(_dialect):
        event.listen(
            SQLModel.metadata, "after_create", DDL(_statement).execute_if(dialect=_dialect)
        )
