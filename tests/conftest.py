"""Shared fixtures. The backend comes from the environment, so one suite serves both set-ups:

- default: SQLite in a temp folder, Dramatiq in-process (StubBroker);
- ``INBOX_TEST_DATABASE=postgres``: a throwaway PostgreSQL database per test process,
  and with ``INBOX_TEST_BROKER=redis`` (or ``amqp``) the served desks run separate worker and
  scheduler processes on that broker.

The suite runs in parallel (pytest-xdist); ``tests.support.isolation`` keeps its processes
apart. The desks are in ``tests.support.desks``.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from inbox.db import Database
from inbox.migrate import upgrade_database
from inbox.settings import Settings, load_settings
from tests.support.isolation import create_postgres_database, drop_postgres_database
from tests.support.services import postgres_url, require

pytest_plugins = ["tests.support.fixtures", "tests.support.web", "tests.support.desks"]

BACKEND = os.environ.get("INBOX_TEST_DATABASE", "sqlite")
KEEP_TABLES = {"alembic_version", "ticket_status"}


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database to start each test from: a SQLite file to copy, or a PostgreSQL
    database of this test process, emptied before each test."""
    if BACKEND == "postgres":
        base = postgres_url()
        require(None if base else "PostgreSQL is not reachable", "PostgreSQL")
        assert base is not None
        url = create_postgres_database(base)
        upgrade_database(url)
        yield url
        drop_postgres_database(base, url)
        return
    path = tmp_path_factory.mktemp("template") / "inbox.sqlite3"
    upgrade_database(f"sqlite:///{path}")
    yield str(path)


def _fresh_database_url(template: str, data_dir: Path) -> str:
    if BACKEND == "postgres":
        engine = create_engine(template)
        with engine.begin() as conn:
            tables = [
                row[0]
                for row in conn.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                )
                if row[0] not in KEEP_TABLES
            ]
            if tables:
                names = ", ".join(f'"{t}"' for t in tables)
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        engine.dispose()
        return template
    data_dir.mkdir(parents=True, exist_ok=True)
    target = data_dir / "inbox.sqlite3"
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def env(tmp_path: Path, migrated_template: str) -> dict[str, str]:
    """The environment an ``inbox`` process of this test runs with."""
    data_dir = tmp_path / "var"
    return {
        "INBOX_DATA_DIR": str(data_dir),
        "INBOX_DATABASE_URL": _fresh_database_url(migrated_template, data_dir),
        "INBOX_SECRET_KEY": secrets.token_urlsafe(32),
        "INBOX_BASE_URL": "http://127.0.0.1:8000",
        "INBOX_RETRY_BASE_SECONDS": "0.2",
        "INBOX_REFERENCE_PREFIX": "HD",
    }


@pytest.fixture
def settings(env: dict[str, str]) -> Settings:
    return load_settings(env)


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database(settings.database_url)
    yield database
    database.dispose()
