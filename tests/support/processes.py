"""Running the real ``inbox`` command line as separate processes, as an operator would
(forked from a process that imported the libraries once: ``tests.support.forkserver``)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import httpx

from tests.support.forkserver import ForkedProcess, fork_server

INBOX = [sys.executable, "-m", "inbox.cli"]
# A test's desk is thrown away when the test ends: it gets this long to stop before it is
# killed. A graceful stop can take ten seconds more, while a mailbox watcher ends its wait in
# IDLE, and nothing is checked after it.
STOP_GRACE = 3.0
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def run_cli_unchecked(
    env: Mapping[str, str], *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run one ``inbox`` command to completion, whatever its exit status."""
    forks = fork_server()
    if forks is not None:
        with tempfile.TemporaryDirectory(prefix="inbox-cli-") as folder:
            files = Path(folder)
            (files / "in").write_text(stdin or "")
            command = forks.spawn(
                args, {**os.environ, **env}, files / "out", stdin=files / "in", stderr=files / "err"
            )
            try:
                code = command.wait(timeout=120)
            except subprocess.TimeoutExpired:
                command.send_signal(signal.SIGKILL)
                raise
            return subprocess.CompletedProcess(
                [*INBOX, *args], code, (files / "out").read_text(), (files / "err").read_text()
            )
    return subprocess.run(
        [*INBOX, *args],
        env={**os.environ, **env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def run_cli(env: Mapping[str, str], *args: str, stdin: str | None = None) -> str:
    """Run one ``inbox`` command that must succeed; its standard output."""
    result = run_cli_unchecked(env, *args, stdin=stdin)
    if result.returncode != 0:
        raise AssertionError(f"inbox {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


class InboxProcess:
    """One long-running ``inbox`` process, its output kept in a log file for failures."""

    def __init__(self, env: Mapping[str, str], args: Sequence[str], log_path: Path) -> None:
        self.env = {**os.environ, **env}
        self.args = list(args)
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | ForkedProcess | None = None

    def start(self) -> InboxProcess:
        forks = fork_server()
        if forks is not None:
            self.process = forks.spawn(self.args, self.env, self.log_path)
            return self
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [*INBOX, *self.args], env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        return self

    def kill(self) -> None:
        """SIGKILL: no chance to clean up, as when a machine dies."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self, grace: float = STOP_GRACE) -> None:
        self.terminate()
        self.wait_or_kill(grace)

    def terminate(self) -> None:
        """SIGTERM: the process finishes what it is doing and exits."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def wait_or_kill(self, grace: float) -> None:
        if self.process and self.process.poll() is None:
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


class Deployment:
    """``inbox serve`` alone (embedded), or with separate ``worker`` and ``scheduler``."""

    def __init__(self, env: dict[str, str], workdir: Path, *, separate_workers: bool) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        # Its public address is its own port, so that browsers' Origin matches.
        env = self.env = {**env, "INBOX_BASE_URL": self.base_url}
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.separate_workers = separate_workers
        self.web = InboxProcess(env, ["serve", "--port", str(self.port)], workdir / "serve.log")
        self.worker = InboxProcess(env, ["worker", "--threads", "4"], workdir / "worker.log")
        self.scheduler = InboxProcess(env, ["scheduler"], workdir / "scheduler.log")

    @property
    def processes(self) -> list[InboxProcess]:
        if self.separate_workers:
            return [self.web, self.worker, self.scheduler]
        return [self.web]

    @property
    def ingesting(self) -> InboxProcess:
        """The process that turns stored mail into tickets."""
        return self.worker if self.separate_workers else self.web

    def start(self) -> None:
        for process in self.processes:
            process.start()
        self.wait_healthy()

    def wait_healthy(self) -> None:
        _wait_healthy(self.base_url)

    def stop(self) -> None:
        """All processes at once, each with ``STOP_GRACE`` to finish before it is killed."""
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait_or_kill(STOP_GRACE)

    def logs(self) -> str:
        return "\n".join(f"--- {p.log_path.name}\n{p.log()[-6000:]}" for p in self.processes)


@contextmanager
def running(deployment: Deployment) -> Iterator[Deployment]:
    deployment.start()
    try:
        yield deployment
    finally:
        deployment.stop()
        print(deployment.logs())  # pytest shows captured output for failing tests only


@contextmanager
def web_process(env: Mapping[str, str], log: Path, *, own_origin: bool = False) -> Iterator[str]:
    """One more ``inbox serve`` of the same desk and database; its address. With
    ``own_origin`` that address is its public one too, so that a browser on it passes the
    agents' websocket's origin check (behind one balancer both would share one)."""
    port = free_port()
    address = f"http://127.0.0.1:{port}"
    if own_origin:
        env = {**env, "INBOX_BASE_URL": address}
    web = InboxProcess(env, ["serve", "--port", str(port)], log).start()
    try:
        _wait_healthy(address)
        yield address
    finally:
        web.stop()
        print(web.log()[-4000:])


def _wait_healthy(address: str) -> None:
    def healthy() -> bool:
        try:
            return httpx.get(f"{address}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(healthy, timeout=60, what=f"inbox serve at {address} to answer")


def wait_for(check: Callable[[], T | None], *, timeout: float, what: str, every: float = 0.2) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(every)
