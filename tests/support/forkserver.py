"""Starting ``inbox`` processes without paying for their imports each time.

A test's desk is real processes running ``python -m inbox.cli``; a suite starts hundreds of
them, and each spent over a second of CPU importing Litestar, SQLAlchemy and the desk's
modules before doing anything of its own. Here one process per test process imports them
once (``PRELOADED``: modules that read no environment and start nothing when imported), and
forks a child for each command: the child takes the command's environment, working folder
and log file, then runs ``inbox.cli`` as ``python -m`` does, and exits as that would (its
threads joined, its exit handlers run), only without taking every module apart. What the
command does, from reading its settings on, is its own.

The fork server forks from one thread, so no lock is held across a fork; it reports each
child's exit status (as ``subprocess.Popen`` says it) on the connection that asked for it,
and when the test process that started it goes away, it kills the children still running
and exits. ``INBOX_TEST_FORK=0`` starts
every command with ``subprocess`` instead.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

PRELOADED = ("inbox.app", "uvicorn", "uvicorn.main", "httpx")
_SERVER_LOCK = threading.Lock()
_server: ForkServer | None = None


class ForkedProcess:
    """A forked ``inbox`` command, as much of ``subprocess.Popen`` as the tests use."""

    def __init__(self, conn: socket.socket) -> None:
        self._conn = conn
        self._buffer = b""
        pid = self._line(None)
        assert pid is not None
        self.pid = int(pid)
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self._status(0.0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None and not self._status(timeout):
            raise subprocess.TimeoutExpired(["inbox"], timeout or 0)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)

    def _status(self, timeout: float | None) -> bool:
        line = self._line(timeout)
        if line is None:
            return False
        self.returncode = int(line)
        self._conn.close()
        return True

    def _line(self, timeout: float | None) -> str | None:
        """The server's next line; None if none came within ``timeout`` (0: do not wait)."""
        while b"\n" not in self._buffer:
            self._conn.settimeout(timeout)
            try:
                chunk = self._conn.recv(64)
            except (BlockingIOError, TimeoutError):
                return None
            if not chunk:
                raise RuntimeError("the fork server is gone")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line.decode()


class ForkServer:
    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="inbox-fork-"))
        self.address = str(self.folder / "socket")
        # The server reads the other end; when this process is gone, it reads the end.
        alive_read, self._alive_write = os.pipe()
        self.process = subprocess.Popen(
            [sys.executable, __file__, self.address, str(alive_read)],
            pass_fds=(alive_read,),
            stdin=subprocess.DEVNULL,
        )
        os.close(alive_read)
        while not os.path.exists(self.address):
            if self.process.poll() is not None:
                raise RuntimeError("the fork server did not start")
            threading.Event().wait(0.02)

    def spawn(
        self,
        args: Sequence[str],
        env: Mapping[str, str],
        log_path: Path,
        *,
        stdin: Path | None = None,
        stderr: Path | None = None,
    ) -> ForkedProcess:
        """``inbox`` with ``args``: its output appended to ``log_path`` (its errors too, unless
        ``stderr`` names a file of their own), its input read from ``stdin`` if given."""
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.connect(self.address)
        request = {
            "args": list(args),
            "env": dict(env),
            "cwd": os.getcwd(),
            "stdin": str(stdin or os.devnull),
            "stdout": str(log_path),
            "stderr": str(stderr or log_path),
        }
        conn.sendall(json.dumps(request).encode() + b"\n")
        return ForkedProcess(conn)

    def close(self) -> None:
        os.close(self._alive_write)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.folder, ignore_errors=True)


def fork_server() -> ForkServer | None:
    """This test process's fork server, started on first use; None with ``INBOX_TEST_FORK=0``."""
    global _server
    if os.environ.get("INBOX_TEST_FORK", "1") == "0":
        return None
    with _SERVER_LOCK:
        if _server is None:
            _server = ForkServer()
            atexit.register(_server.close)
        return _server


# -- the server's side ----------------------------------------------------------------------------


def _serve(address: str, alive_fd: int) -> dict[str, Any]:
    """Fork a child per request until the test process is gone; in a child, its request."""
    for name in PRELOADED:
        __import__(name)
    assert threading.active_count() == 1, "imports started a thread: forking is not safe"
    wakeup_read, wakeup_write = os.pipe()
    os.set_blocking(wakeup_write, False)
    os.set_blocking(wakeup_read, False)
    signal.set_wakeup_fd(wakeup_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(address + ".new")
    listener.listen(64)
    os.rename(address + ".new", address)  # ready: the test process waits for the name
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    selector.register(wakeup_read, selectors.EVENT_READ)
    selector.register(alive_fd, selectors.EVENT_READ)
    waiting: dict[int, socket.socket] = {}
    while True:
        for key, _ in selector.select():
            if key.fileobj == alive_fd:  # the test process is gone: what it left goes too
                for pid in waiting:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                os._exit(0)
            if key.fileobj == wakeup_read:
                while True:
                    try:
                        os.read(wakeup_read, 512)
                    except BlockingIOError:
                        break
                _reap(waiting)
                continue
            conn, _ = listener.accept()
            request = json.loads(conn.makefile("r").readline())
            pid = os.fork()
            if pid == 0:
                for fd in (wakeup_read, wakeup_write, alive_fd):
                    os.close(fd)
                for other in (listener, conn, *waiting.values()):
                    other.close()
                selector.close()
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                result: dict[str, Any] = request
                return result
            conn.sendall(f"{pid}\n".encode())
            waiting[pid] = conn
            _reap(waiting)  # a child that ended before it was counted


def _reap(waiting: dict[int, socket.socket]) -> None:
    while waiting:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        conn = waiting.pop(pid, None)
        if conn is not None:
            with contextlib.suppress(OSError):  # the test that asked may have stopped listening
                conn.sendall(f"{os.waitstatus_to_exitcode(status)}\n".encode())
            conn.close()


def _become(request: dict[str, Any]) -> None:
    """In the child: the command's environment, folder and output, then ``python -m inbox.cli``."""
    import runpy
    import time

    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    time.tzset()
    for fd, name in ((0, "stdin"), (1, "stdout"), (2, "stderr")):
        flags = os.O_RDONLY if fd == 0 else os.O_WRONLY | os.O_CREAT | os.O_APPEND
        opened = os.open(request[name], flags, 0o644)
        os.dup2(opened, fd)
        os.close(opened)
    sys.argv = ["inbox", *request["args"]]
    sys.path[0] = request["cwd"]  # what ``-m`` puts first
    code: int | str | None = 0
    try:
        runpy.run_module("inbox.cli", run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        code = exc.code
    except BaseException:
        traceback.print_exc()
        code = 1
    _exit(code)


def _exit(code: int | str | None) -> None:
    """What the interpreter does at exit, but for taking every module apart: the threads
    joined, the exit handlers run, the output flushed. The teardown would take the child
    longer than a command started alone (it holds every module the server imported), and
    does nothing a command relies on."""
    if isinstance(code, str):
        print(code, file=sys.stderr)
        code = 1
    threading._shutdown()  # type: ignore[attr-defined]  # joins threads not daemonic
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code or 0)


if __name__ == "__main__":
    sys.path[0] = os.getcwd()  # not this folder, whose modules' names are common ones
    _become(_serve(sys.argv[1], int(sys.argv[2])))
