"""Bringing a database to the newest schema on start, without paying for it when it is there."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory

from inbox.migrate import alembic_config, script_heads, upgrade_database


def _version(path: Path) -> set[str]:
    with closing(sqlite3.connect(path)) as conn:
        return {row[0] for row in conn.execute("SELECT version_num FROM alembic_version")}


def test_heads_read_off_the_scripts_are_alembics() -> None:
    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert script_heads() == set(scripts.get_heads())
    assert len(script_heads()) == 1


def test_a_database_behind_the_scripts_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "desk" / "inbox.sqlite3"
    url = f"sqlite:///{path}"
    upgrade_database(url)  # creates the folder and the schema
    assert _version(path) == script_heads()
    scripts = ScriptDirectory.from_config(alembic_config(url))
    (head,) = script_heads()
    previous = scripts.get_revision(head).down_revision
    assert isinstance(previous, str)
    command.downgrade(alembic_config(url), previous)
    assert _version(path) == {previous}

    upgrade_database(url)
    assert _version(path) == script_heads()
    upgrade_database(url)  # already there: nothing to do, nothing broken
    assert _version(path) == script_heads()
