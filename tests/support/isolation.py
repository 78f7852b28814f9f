"""Names that keep concurrent test processes apart on the machine's shared servers.

The suite runs in parallel (pytest-xdist workers), and other checkouts may run theirs at the
same time. Every worker has its own PostgreSQL database, Redis database number and RabbitMQ
virtual host, all named after the worker and its process id, so no two of them ever meet.
Ports are picked free per test (``processes.free_port``) and SQLite files live in the worker's
own temporary folder.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import subprocess
from urllib.parse import quote

import redis
from sqlalchemy import create_engine, text

from tests.support.services import amqp_url, redis_url, require

REDIS_DATABASES = range(1, 16)  # Redis has 16 by default; 0 is left to people's own desks
_LEASE_SECONDS = 6 * 3600  # a crashed run's claim is taken over at once, see claim_redis_db


def run_name() -> str:
    """``gw0_1234``: the xdist worker (``main`` without xdist) and this process's id."""
    return f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{os.getpid()}"


def create_postgres_database(base_url: str) -> str:
    """A new, empty database of this worker on the server of ``base_url``; its URL."""
    name = f"inbox_test_{run_name()}"
    _postgres_admin(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _postgres_admin(base_url, f'CREATE DATABASE "{name}"')
    return base_url.rsplit("/", 1)[0] + f"/{name}"


def drop_postgres_database(base_url: str, url: str) -> None:
    name = url.rsplit("/", 1)[1]
    _postgres_admin(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _postgres_admin(base_url: str, statement: str) -> None:
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(statement))
    finally:
        admin.dispose()


def own_redis_url() -> str:
    """This process's own Redis database, emptied: for the broker and the realtime hub of
    the desks it starts. Skips (or fails, see ``services.require``) without Redis."""
    base = redis_url()
    require(None if base else "Redis is not reachable", "Redis")
    assert base is not None
    url = _claimed_redis_url(base)
    redis.Redis.from_url(url).flushdb()
    return url


@functools.cache
def _claimed_redis_url(base_url: str) -> str:
    url = claim_redis_db(base_url)
    atexit.register(release_redis_db, url)
    return url


def claim_redis_db(base_url: str) -> str:
    """The URL of a Redis database number no other living test process holds.

    Claims are keys in database 0 holding the owner's process id; a claim whose owner has
    died (a crashed or killed run) is taken over, so numbers are never lost for long, unless
    a client is still connected to that database (what the dead run started)."""
    client = redis.Redis.from_url(base_url)
    owner = str(os.getpid())
    # A database someone is connected to is in use, claimed or not: a desk's worker that
    # outlived its killed test run would take the jobs of whoever took the number over.
    in_use = {int(entry.get("db", 0)) for entry in client.client_list()}
    for number in REDIS_DATABASES:
        if number in in_use:
            continue
        key = _claim_key(number)
        taken = client.set(key, owner, nx=True, ex=_LEASE_SECONDS)
        if not taken:
            holder = client.get(key)
            if holder is None or _alive(int(holder)):
                continue
            # Take over a dead owner's claim, unless another process did so first.
            previous = client.set(key, owner, ex=_LEASE_SECONDS, get=True)
            if previous != holder:
                continue
        client.close()
        return base_url.rsplit("/", 1)[0] + f"/{number}"
    client.close()
    raise RuntimeError(f"all Redis databases {REDIS_DATABASES} are claimed by living test runs")


def release_redis_db(url: str) -> None:
    number = int(url.rsplit("/", 1)[1])
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    admin = redis.Redis.from_url(url.rsplit("/", 1)[0] + "/0")
    if admin.get(_claim_key(number)) == str(os.getpid()).encode():
        admin.delete(_claim_key(number))
    admin.close()


def _claim_key(number: int) -> str:
    return f"inbox-test:redis-db:{number}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def own_amqp_url() -> str:
    """This process's own RabbitMQ virtual host, deleted when the process exits."""
    base = amqp_url()
    require(None if base else "RabbitMQ is not reachable", "RabbitMQ")
    assert base is not None
    return _created_vhost_url(base)


@functools.cache
def _created_vhost_url(base_url: str) -> str:
    url = create_rabbitmq_vhost(base_url)
    if url != base_url:
        atexit.register(delete_rabbitmq_vhost, url)
    return url


def create_rabbitmq_vhost(base_url: str) -> str:
    """A virtual host of this worker, when ``rabbitmqctl`` may create one (as on CI, where
    the suite runs as root); else the server's default one, shared, as given."""
    if shutil.which("rabbitmqctl") is None:
        return base_url
    vhost = f"inbox_test_{run_name()}"
    user = base_url.split("://", 1)[1].split(":", 1)[0]
    try:
        _rabbitmqctl("add_vhost", vhost)
        _rabbitmqctl("set_permissions", "-p", vhost, user, ".*", ".*", ".*")
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
        return base_url
    return base_url.rstrip("/") + "/" + quote(vhost, safe="")


def delete_rabbitmq_vhost(url: str) -> None:
    vhost = url.rsplit("/", 1)[1]
    if vhost.startswith("inbox_test_"):
        _rabbitmqctl("delete_vhost", vhost)


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], capture_output=True, check=True, timeout=60)
