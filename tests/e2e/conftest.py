"""A running desk: ``inbox serve`` embedded, or serve + worker + scheduler on Redis."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.support.processes import Deployment, running
from tests.support.services import redis_url, require

SEPARATE = os.environ.get("INBOX_TEST_BROKER") == "redis"
REDIS_DB = 7


@pytest.fixture
def deploy_env(env: dict[str, str]) -> dict[str, str]:
    result = {**env, "INBOX_POLL_SECONDS": "5", "INBOX_RETRY_BASE_SECONDS": "0.5"}
    if SEPARATE:
        base = redis_url()
        require(None if base else "Redis is not reachable", "Redis")
        assert base is not None
        url = base.rsplit("/", 1)[0] + f"/{REDIS_DB}"
        redis.Redis.from_url(url).flushdb()
        result["INBOX_BROKER_URL"] = url
    return result


@pytest.fixture
def deployment(deploy_env: dict[str, str], tmp_path: Path) -> Deployment:
    return Deployment(deploy_env, tmp_path, separate_workers=SEPARATE)


@pytest.fixture
def desk(deployment: Deployment) -> Iterator[Deployment]:
    with running(deployment) as started:
        yield started
