"""Shared fixtures. The backend comes from the environment, so one suite serves both set-ups:

- default: SQLite in a temp folder, Dramatiq in-process (StubBroker);
- ``INBOX_TEST_DATABASE=postgres``: a throwaway PostgreSQL database per test process,
  and with ``INBOX_TEST_BROKER=redis`` (or ``amqp``) the served desks run separate worker and
  scheduler processes on that broker.

The suite runs in parallel (pytest-xdist); ``tests.support.isolation`` keeps its processes
apart. The desks are in ``tests.support.desks``.
"""

from __future__ import annotations

import functools
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import create_engine, text

from connectors.social_http import allow_private_addresses
from inbox.actions.signin import agents
from inbox.db import Database
from inbox.migrate import seed_database, upgrade_database
from inbox.settings import Settings, load_settings
from tests.support.apps import close_connections
from tests.support.isolation import create_postgres_database, drop_postgres_database
from tests.support.services import postgres_url, require

pytest_plugins = [
    "tests.support.fixtures",
    "tests.support.web",
    "tests.support.desks",
    "tests.support.scheduling",
    "tests.support.help_centre",
    "tests.support.portal",
]

# The platforms' stand-ins listen on loopback; tests calling a connector directly build no
# runtime that would read INBOX_ALLOW_PRIVATE_URLS (test_social_addresses.py turns it off).
allow_private_addresses(True)

BACKEND = os.environ.get("INBOX_TEST_DATABASE", "sqlite")
KEEP_TABLES = {"alembic_version", "ticket_status"}
# A test that takes one of these needs a real server: Dovecot, Chromium or ``inbox serve``.
SERVER_FIXTURES = {"dovecot", "mailbox_user", "browser", "server", "deployment"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark what needs a server ``services``, so that ``-m "not services"`` (``make check``)
    runs everything else."""
    for item in items:
        if SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.services)


class _OncePerPassword(PasswordHasher):
    """Argon2 is slow on purpose, and the tests' set-up creates agents by the hundred with a
    handful of passwords: each password is hashed once per test process, and its hash (valid,
    with the same parameters) reused. Checking a password costs what it always costs."""

    @functools.cache  # noqa: B019  # one hasher per test process
    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        return super().hash(password, salt=salt)


@pytest.fixture(autouse=True, scope="session")
def _hash_each_password_once() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(agents, "_hasher", _OncePerPassword())
        yield


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
        seed_database(template)  # as the SQLite copy has it from the template
        return template
    data_dir.mkdir(parents=True, exist_ok=True)
    target = data_dir / "inbox.sqlite3"
    shutil.copyfile(template, target)
    return f"sqlite:///{target}"


@pytest.fixture(scope="session")
def desk_home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The data folder and secret key of this test process's desks: the same for each test,
    so that one app serves them all (``tests.support.apps``); the folder is emptied and the
    database made anew before each test."""
    return tmp_path_factory.mktemp("desk") / "var", secrets.token_urlsafe(32)


@pytest.fixture
def env(desk_home: tuple[Path, str], migrated_template: str) -> dict[str, str]:
    """The environment an ``inbox`` process of this test runs with."""
    data_dir, secret_key = desk_home
    close_connections()
    shutil.rmtree(data_dir, ignore_errors=True)
    return {
        "INBOX_DATA_DIR": str(data_dir),
        "INBOX_DATABASE_URL": _fresh_database_url(migrated_template, data_dir),
        "INBOX_SECRET_KEY": secret_key,
        "INBOX_BASE_URL": "http://127.0.0.1:8000",
        "INBOX_RETRY_BASE_SECONDS": "0.2",
        "INBOX_REFERENCE_PREFIX": "HD",
        # The platforms' stand-ins listen on loopback (tests/support/social_platforms.py).
        "INBOX_ALLOW_PRIVATE_URLS": "1",
    }


@pytest.fixture
def settings(env: dict[str, str]) -> Settings:
    return load_settings(env)


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database(settings.database_url)
    yield database
    database.dispose()
