"""Which optional servers this machine offers the test suite, and what to do when one is missing.

A developer's laptop may lack PostgreSQL or Dovecot: those tests skip with the reason. CI sets
``INBOX_REQUIRE_SERVICES=1`` so that a missing server fails the run instead of quietly
skipping the tests that matter most. Each ``*_url()`` honours an ``INBOX_TEST_*_URL`` override
(used as given, not probed) and otherwise probes the default port on loopback.
"""

from __future__ import annotations

import os
import socket

import pytest

_PROBE_TIMEOUT = 0.3
_DEFAULTS = {
    "postgres": (
        "INBOX_TEST_POSTGRES_URL",
        5432,
        "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    ),
    "redis": ("INBOX_TEST_REDIS_URL", 6379, "redis://127.0.0.1:6379/0"),
    "amqp": ("INBOX_TEST_AMQP_URL", 5672, "amqp://guest:guest@127.0.0.1:5672/"),
}


def require(reason: str | None, what: str) -> None:
    """Skip (or, with ``INBOX_REQUIRE_SERVICES=1``, fail) when ``reason`` says a service is
    unusable; do nothing when ``reason`` is None."""
    if reason is None:
        return
    if os.environ.get("INBOX_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{what}: {reason} (INBOX_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(f"{what}: {reason}")


def postgres_url() -> str | None:
    return _url("postgres")


def redis_url() -> str | None:
    return _url("redis")


def amqp_url() -> str | None:
    return _url("amqp")


def postgres_unavailable() -> str | None:
    return _unavailable("postgres")


def redis_unavailable() -> str | None:
    return _unavailable("redis")


def amqp_unavailable() -> str | None:
    return _unavailable("amqp")


def _url(service: str) -> str | None:
    variable, port, default = _DEFAULTS[service]
    override = os.environ.get(variable)
    if override:
        return override
    return default if _listening(port) else None


def _unavailable(service: str) -> str | None:
    if _url(service) is not None:
        return None
    variable, port, _default = _DEFAULTS[service]
    return f"nothing listens on 127.0.0.1:{port} (or set {variable})"


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=_PROBE_TIMEOUT):
            return True
    except OSError:
        return False
