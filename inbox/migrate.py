"""Applying Alembic migrations from code: ``inbox db upgrade`` and first start; then what a
desk starts with (``seed_database``)."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
_REVISION_LINE = re.compile(r"^(down_revision|revision)\b[^=]*=(.*)$", re.MULTILINE)
_QUOTED = re.compile(r"""["']([^"']+)["']""")


def alembic_config(database_url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_database(database_url: str) -> None:
    """Migrate to the newest schema. A SQLite database already there is recognised without
    loading Alembic and every migration script, which would cost each start a third of a
    second."""
    if database_url.startswith("sqlite:///"):
        path = Path(database_url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        if _sqlite_revisions(path) == script_heads():
            return
    from alembic import command

    command.upgrade(alembic_config(database_url), "heads")
    seed_database(database_url)


def seed_database(database_url: str) -> None:
    """What a fresh desk needs to work on first start: a default SLA policy
    (``inbox.actions.sla.defaults``), unless the desk has policies."""
    from inbox.actions.sla.defaults import ensure_default_sla_policy
    from inbox.db import Database

    db = Database(database_url)
    try:
        with db.unit_of_work() as session:
            ensure_default_sla_policy(session)
    finally:
        db.dispose()


def script_heads() -> set[str]:
    """The newest revisions in ``migrations/versions``, read off the scripts' ``revision``
    and ``down_revision`` lines rather than by importing them."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (MIGRATIONS / "versions").glob("*.py"):
        for name, value in _REVISION_LINE.findall(script.read_text(encoding="utf-8")):
            (parents if name == "down_revision" else revisions).update(_QUOTED.findall(value))
    return revisions - parents


def _sqlite_revisions(path: Path) -> set[str] | None:
    if not path.is_file():
        return None
    try:
        with closing(sqlite3.connect(path)) as conn:
            return {row[0] for row in conn.execute("SELECT version_num FROM alembic_version")}
    except sqlite3.Error:
        return None


# Search indexes and words kept by triggers (migrations 0004, 0013, 0020), described by no
# model.
HAND_MADE_TABLES = (
    "ticket_fts",
    "ticket_search",
    "search_word",
    "help_article_fts",
    "help_article_search",
)


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, other: object
) -> bool:
    """For Alembic's comparisons: leave the hand-made search tables alone."""
    return not (type_ == "table" and reflected and (name or "").startswith(HAND_MADE_TABLES))
