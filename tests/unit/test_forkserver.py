"""The fork server the tests start ``inbox`` processes from (``tests.support.forkserver``)
behaves as ``subprocess`` would: the command's arguments, environment and log, its exit
status, a signal's status, and a wait that times out; and what a test left running goes when
the test process does."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest

from tests.support.forkserver import ForkServer
from tests.support.processes import wait_for


@pytest.fixture
def forks() -> ForkServer:
    server = ForkServer()
    yield server
    server.close()


def test_a_forked_command_gets_its_arguments_log_and_exit_status(
    forks: ForkServer, tmp_path: Path
) -> None:
    log = tmp_path / "help.log"
    done = forks.spawn(["--help"], {"PATH": "/usr/bin:/bin"}, log)
    assert done.wait(timeout=30) == 0
    assert "Support desk and omnichannel inbox" in log.read_text()

    refused = forks.spawn(["nonsense"], {}, tmp_path / "nonsense.log")
    assert refused.wait(timeout=30) == 2
    assert "invalid choice: 'nonsense'" in (tmp_path / "nonsense.log").read_text()


def test_a_forked_command_reads_its_own_environment_and_dies_of_a_signal(
    forks: ForkServer, tmp_path: Path
) -> None:
    log = tmp_path / "worker.log"
    alone = forks.spawn(["worker"], {}, log)
    assert alone.wait(timeout=30) == 2
    assert "inbox worker needs INBOX_BROKER_URL" in log.read_text()

    # Given a broker's address, the same command runs (and waits for a broker that is not
    # there) until it is killed.
    env = {"INBOX_BROKER_URL": "redis://127.0.0.1:1/0", "INBOX_DATA_DIR": str(tmp_path)}
    waiting = forks.spawn(["worker"], env, log)
    with pytest.raises(subprocess.TimeoutExpired):
        waiting.wait(timeout=1)
    assert waiting.poll() is None
    waiting.send_signal(signal.SIGKILL)
    assert waiting.wait(timeout=30) == -signal.SIGKILL


def test_children_still_running_go_with_the_test_process(tmp_path: Path) -> None:
    forks = ForkServer()
    env = {"INBOX_BROKER_URL": "redis://127.0.0.1:1/0", "INBOX_DATA_DIR": str(tmp_path)}
    left = forks.spawn(["worker"], env, tmp_path / "worker.log")
    forks.close()  # as at the test process's exit
    wait_for(lambda: not _running(left.pid), timeout=30, what="the worker left running to go")


def _running(pid: int) -> bool:
    """Neither gone nor a zombie waiting for its parent to read its end."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
