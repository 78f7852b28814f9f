"""A running desk: ``inbox serve`` embedded, or serve + worker + scheduler on a real broker.

``INBOX_TEST_BROKER=redis`` or ``amqp`` picks the broker for the separate processes.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.support.processes import Deployment, running
from tests.support.services import amqp_url, redis_url, require

BROKER = os.environ.get("INBOX_TEST_BROKER", "")
REDIS_DB = 7


def _broker_url() -> str:
    if BROKER == "redis":
        base = redis_url()
        require(None if base else "Redis is not reachable", "Redis")
        assert base is not None
        url = base.rsplit("/", 1)[0] + f"/{REDIS_DB}"
        redis.Redis.from_url(url).flushdb()
        return url
    if BROKER == "amqp":
        base = amqp_url()
        require(None if base else "RabbitMQ is not reachable", "RabbitMQ")
        assert base is not None
        return base
    raise ValueError(f"INBOX_TEST_BROKER must be redis or amqp, not {BROKER!r}")


@pytest.fixture
def deploy_env(env: dict[str, str]) -> dict[str, str]:
    result = {**env, "INBOX_POLL_SECONDS": "5", "INBOX_RETRY_BASE_SECONDS": "0.5"}
    if BROKER:
        result["INBOX_BROKER_URL"] = _broker_url()
    return result


@pytest.fixture
def deployment(deploy_env: dict[str, str], tmp_path: Path) -> Deployment:
    return Deployment(deploy_env, tmp_path / uuid.uuid4().hex[:6], separate_workers=bool(BROKER))


@pytest.fixture
def desk(deployment: Deployment) -> Iterator[Deployment]:
    with running(deployment) as started:
        yield started
