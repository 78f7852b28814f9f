"""Applying Alembic migrations from code: ``inbox db upgrade`` and first start."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_database(database_url: str) -> None:
    if database_url.startswith("sqlite:///"):
        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(database_url), "heads")


# Search indexes kept by triggers (migration 0004), not described by any model.
HAND_MADE_TABLES = ("ticket_fts", "ticket_search")


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, other: object
) -> bool:
    """For Alembic's comparisons: leave the hand-made search tables alone."""
    return not (type_ == "table" and reflected and (name or "").startswith(HAND_MADE_TABLES))
