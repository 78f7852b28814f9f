"""A private, throwaway ``redis-server`` on a free loopback port, for tests that stop the
broker under a running desk. The machine's shared Redis is never stopped::

    with RedisServer(tmp_path) as redis_server:
        ...                       # a desk on redis_server.url
        redis_server.stop()       # the broker is down
        redis_server.start()      # and back, on the same port, empty
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import redis

from tests.support.processes import free_port

HOST = "127.0.0.1"


class RedisServer:
    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.log_path = workdir / "redis.log"
        self._process: subprocess.Popen[bytes] | None = None

    @staticmethod
    def available() -> str | None:
        """None when ``redis-server`` can be started here, else why not."""
        return None if shutil.which("redis-server") else "redis-server is not installed"

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def start(self) -> None:
        """Listen on this server's port (again), keeping nothing on disk."""
        log = self.log_path.open("ab")
        self._process = subprocess.Popen(
            [
                "redis-server",
                *("--bind", HOST, "--port", str(self.port), "--dir", str(self.workdir)),
                *("--save", "", "--appendonly", "no", "--protected-mode", "no"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 10
        while not self._answers():
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"redis-server did not start:\n{self.log_path.read_text()}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Gone at once, as when the broker's machine fails: connections are refused."""
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait(timeout=10)
        self._process = None

    def _answers(self) -> bool:
        client = redis.Redis(host=HOST, port=self.port, socket_connect_timeout=0.5)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
