"""A real, throwaway Dovecot IMAP server on loopback for integration tests and benchmarks.

Everything lives in a temporary directory: the generated ``dovecot.conf``, a passwd-file per
test user, maildirs, the runtime ``base_dir`` and the log (``server.log_path``, read it when a
test fails). The system configuration in /etc/dovecot is never read. Written for Dovecot 2.3
(Debian 12); 2.4 renamed most of these settings, so :meth:`DovecotServer.available` refuses it
with a clear reason instead of failing obscurely.

Run as root, the server drops mail processes to ``nobody``/``nogroup`` like a normal install;
run as an ordinary user, every Dovecot process runs as that user.
"""

from __future__ import annotations

import atexit
import base64
import grp
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from contextlib import suppress
from pathlib import Path
from urllib.parse import quote

from imapclient import IMAPClient

HOST = "127.0.0.1"
_SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/bin", "/sbin"])
_APPEND_CHUNK = 500  # messages per MULTIAPPEND: one round trip and one transaction each
_UID_SET = re.compile(rb"\[APPENDUID \d+ ([0-9:,]+)\]")


class DovecotServer:
    """One Dovecot instance. ``start()`` picks a free port that ``restart()`` keeps."""

    def __init__(self, *, parent: Path | None = None) -> None:
        """Prepare (but do not start) a server in a new directory under ``parent``, by default
        in shared memory when the machine has it: maildir creates one file per message, and
        on a journalling disk that makes bulk loads about twenty times slower."""
        self.root = Path(tempfile.mkdtemp(prefix="inbox-dovecot-", dir=parent or _fast_temp()))
        self.root.chmod(0o755)  # mail processes run as another user and must reach mail/
        self.port = _free_port()
        self.log_path = self.root / "dovecot.log"
        self._config = self.root / "dovecot.conf"
        self._users_dir = self.root / "users"
        self._users: dict[str, str] = {}
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._uid, self._gid, run_as = _mail_owner()
        (self.root / "mail").mkdir()
        os.chown(self.root / "mail", self._uid, self._gid)
        self._users_dir.mkdir()
        self._run_as = run_as
        self._started = False
        self._write_config()
        atexit.register(self.stop)

    @staticmethod
    def available() -> str | None:
        """None when a Dovecot 2.3 can be started here, else a one-line reason."""
        binary = shutil.which("dovecot", path=_SEARCH_PATH)
        if binary is None:
            return "the dovecot binary is not installed (apt-get install dovecot-imapd)"
        if shutil.which("doveadm", path=_SEARCH_PATH) is None:
            return "doveadm is not installed"
        version = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if not version.startswith("2.3."):
            return f"Dovecot {version or '(unknown version)'} found; these tests configure 2.3"
        return None

    def __enter__(self) -> DovecotServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def start(self) -> None:
        """Start the master process in the foreground of a child and wait for the greeting.

        The first start moves to another free port if someone took this one meanwhile
        (parallel test runs); later starts keep the port, as a restarted server would.
        """
        if self._process is not None:
            return
        for _attempt in range(3 if not self._started else 1):
            self._spawn()
            if self._wait_for_greeting():
                self._started = True
                return
            self.stop()
            if self._started or "Address already in use" not in self._output():
                break
            self.port = _free_port()
            self._write_config()
        raise RuntimeError(f"Dovecot did not start on port {self.port}:\n{self._output()}")

    def stop(self) -> None:
        """Stop Dovecot and every process it forked; open IMAP sessions see the connection
        drop, as in a real restart. Mail data stays (see :meth:`close`)."""
        process, self._process = self._process, None
        if process is None:
            return
        # Signal the whole process group (the master alone takes a second to wind its
        # children down) and sweep stragglers, all while the master is not yet reaped: its
        # pid, which is the group id, cannot belong to anyone else until process.wait().
        if process.returncode is None:
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGTERM)
            if not _exited(process.pid, timeout=10):
                os.kill(process.pid, signal.SIGKILL)
                _exited(process.pid, timeout=10)
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def close(self) -> None:
        """Stop the server and delete its directory, mail included."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def restart(self) -> None:
        """Stop and start again on the same port with the same users and mail."""
        self.stop()
        self.start()

    def add_user(self, name: str, password: str) -> None:
        """Create a user (or change a password) for the next login.

        Each user has their own passwd-file because Dovecot checks a passwd-file for changes
        at most once a second: a new file is read at once, an edited one possibly not. So a
        password changed within a second of that user's last login may take a second to count.
        """
        if not name or any(char in name for char in ":/\n\r") or name.startswith("."):
            raise ValueError(f"unusable user name {name!r}")
        # PLAIN.B64 so that any password, including ':' and non-ASCII, fits the file format.
        encoded = base64.b64encode(password.encode()).decode()
        with self._lock:
            self._users[name] = password
            temporary = self._users_dir / f".{name}.tmp"
            temporary.write_text(f"{name}:{{PLAIN.B64}}{encoded}::::::\n")
            temporary.chmod(0o644)
            temporary.replace(self._users_dir / name)

    def imap_url(self, user: str, password: str, folder: str = "INBOX") -> str:
        """An ``imap://`` URL as channel configuration holds it (percent-encoded parts)."""
        return (
            f"imap://{quote(user, safe='')}:{quote(password, safe='')}@{HOST}:{self.port}"
            f"/{quote(folder, safe='')}"
        )

    def client(self, user: str, password: str) -> IMAPClient:
        """A logged-in imapclient connection, for tests that need to poke the server."""
        client = IMAPClient(HOST, self.port, ssl=False, timeout=30)
        client.login(user, password)
        return client

    def create_folder(self, user: str, password: str, folder: str) -> None:
        with self.client(user, password) as client:
            client.create_folder(folder)

    def append(
        self,
        user: str,
        password: str,
        raw: bytes,
        folder: str = "INBOX",
        flags: Sequence[str] = (),
    ) -> int:
        """APPEND one message as a mail client or MTA would; return its UID."""
        with self.client(user, password) as client:
            response = client.append(folder, raw, flags=[flag.encode() for flag in flags])
        return _appended_uids(response)[0]

    def append_many(
        self, user: str, password: str, raws: Iterable[bytes], folder: str = "INBOX"
    ) -> list[int]:
        """Load many messages quickly; return their UIDs in order.

        One connection, MULTIAPPEND (RFC 3502) in chunks, and non-synchronising literals
        (LITERAL+): a chunk of 500 messages costs one round trip, so 5,000 mails take about a
        second instead of the minute that one APPEND per message would.
        """
        messages = list(raws)
        uids: list[int] = []
        with self.client(user, password) as client:
            for start in range(0, len(messages), _APPEND_CHUNK):
                _typ, data = client.multiappend(folder, messages[start : start + _APPEND_CHUNK])
                uids.extend(_appended_uids(data[-1]))
        return uids

    def flags(self, user: str, password: str, folder: str = "INBOX") -> dict[int, frozenset[str]]:
        """Every message's flags, read without changing them (EXAMINE)."""
        with self.client(user, password) as client:
            client.select_folder(folder, readonly=True)
            uids = client.search("ALL")
            if not uids:
                return {}
            return {
                uid: frozenset(flag.decode() for flag in flags)
                for uid, flags in client.get_flags(uids).items()
            }

    def reset_uidvalidity(self, user: str, folder: str = "INBOX") -> int:
        """Make the folder's UIDs start again under a new UIDVALIDITY; return the new value.

        This is what a mailbox rebuild or migration does to a real server. The user's open
        sessions are kicked first (their view would be stale, exactly like after a server-side
        rebuild), then the folder's index and ``dovecot-uidlist`` are deleted so Dovecot
        rescans the maildir: the same messages get UIDs 1..n and the folder a fresh
        UIDVALIDITY from the mail root's ``dovecot-uidvalidity`` counter.
        """
        self._doveadm("kick", user)
        self._wait_until_logged_out(user)
        index_dir = Path(self._doveadm("mailbox", "path", "-u", user, "-t", "index", folder))
        control_dir = Path(self._doveadm("mailbox", "path", "-u", user, "-t", "control", folder))
        list_dir = Path(self._doveadm("mailbox", "path", "-u", user, "-t", "index", "INBOX"))
        doomed = [
            *index_dir.glob("dovecot.index*"),
            *control_dir.glob("dovecot-uidlist*"),
            *list_dir.glob("dovecot.list.index*"),
        ]
        for path in doomed:
            path.unlink(missing_ok=True)
        with self.client(user, self._users[user]) as client:
            return int(client.select_folder(folder, readonly=True)[b"UIDVALIDITY"])

    def _doveadm(self, *args: str) -> str:
        binary = shutil.which("doveadm", path=_SEARCH_PATH) or "doveadm"
        result = subprocess.run(
            [binary, "-c", str(self._config), *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
        # doveadm kick exits 68 ("no such user") when nobody was logged in: that is fine.
        if result.returncode not in (0, 68):
            raise RuntimeError(f"doveadm {' '.join(args)} failed: {result.stderr.strip()}")
        return result.stdout.strip()

    def _wait_until_logged_out(self, user: str, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sessions = self._doveadm("who", "-1", user).splitlines()
            if not [line for line in sessions[1:] if line.split()[:1] == [user]]:
                return
            time.sleep(0.05)
        raise RuntimeError(f"{user} still has IMAP sessions after doveadm kick")

    def _spawn(self) -> None:
        binary = shutil.which("dovecot", path=_SEARCH_PATH) or "dovecot"
        with open(self.root / "stdout.log", "wb") as output:
            self._process = subprocess.Popen(
                [binary, "-F", "-c", str(self._config)],
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so stop() reaches children
            )

    def _write_config(self) -> None:
        self._config.write_text(
            _config_text(self.root, self.port, self._uid, self._gid, self._run_as)
        )

    def _wait_for_greeting(self, timeout: float = 15.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                return False
            try:
                with socket.create_connection((HOST, self.port), timeout=1) as sock:
                    if sock.recv(64).startswith(b"* OK"):
                        sock.sendall(b"probe LOGOUT\r\n")
                        return True
            except OSError:
                time.sleep(0.05)
        return False

    def _output(self) -> str:
        """What the master printed (startup errors) and the end of the log."""
        output = (self.root / "stdout.log").read_text(errors="replace")
        log = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return f"{output}\n{log[-2000:]}"


def _appended_uids(response: bytes) -> list[int]:
    """UIDs from an ``[APPENDUID <validity> <uid-set>]`` (UIDPLUS) response code."""
    match = _UID_SET.search(response)
    if match is None:
        raise RuntimeError(f"no APPENDUID in server response {response!r}")
    uids: list[int] = []
    for part in match.group(1).split(b","):
        first, _, last = part.partition(b":")
        uids.extend(range(int(first), int(last or first) + 1))
    return uids


def _exited(pid: int, timeout: float) -> bool:
    """Wait for ``pid`` to exit without reaping it (``WNOWAIT``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                return True
        except ChildProcessError:  # already reaped
            return True
        time.sleep(0.02)
    return False


def _mail_owner() -> tuple[int, int, str | None]:
    """(uid, gid, user to run every process as, or None when root may drop privileges)."""
    if os.geteuid() != 0:
        return os.getuid(), os.getgid(), pwd.getpwuid(os.getuid()).pw_name
    return pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid, None


def _fast_temp() -> Path | None:
    shm = Path("/dev/shm")
    return shm if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK) else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _config_text(root: Path, port: int, uid: int, gid: int, run_as: str | None) -> str:
    # Not root: every process runs as the current user and nothing can chroot.
    unprivileged = chroot = ""
    if run_as is not None:
        chroot = "\n  chroot ="
        unprivileged = f"""
default_login_user = {run_as}
default_internal_user = {run_as}
default_internal_group = {grp.getgrgid(gid).gr_name}
"""
    return f"""# Generated by tests/support/dovecot.py: a throwaway server for tests only.
base_dir = {root}/run
state_dir = {root}/state
instance_name = inbox-test-{port}
listen = {HOST}
protocols = imap
log_path = {root}/dovecot.log

# Loopback only and no TLS: allow LOGIN/PLAIN in clear text. Answer bad passwords at once
# and keep no brute-force penalty per IP: after one wrong-password test, every later login
# from 127.0.0.1 would otherwise wait up to 15 seconds.
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
service anvil {{{chroot}
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}

# One passwd-file per user: see DovecotServer.add_user.
passdb {{
  driver = passwd-file
  args = username_format=%u {root}/users/%u
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/users/%u
  default_fields = uid={uid} gid={gid} home={root}/mail/%u
}}
first_valid_uid = 1
first_valid_gid = 1
mail_uid = {uid}
mail_gid = {gid}
mail_location = maildir:~/Maildir

# Throwaway data: fsync would make bulk loads disk-bound. Check for changes every second even
# where inotify is unavailable, so IDLE wakes up promptly in every environment.
mail_fsync = never
mailbox_idle_check_interval = 1 secs

protocol imap {{
  mail_max_userip_connections = 1000
}}
service imap-login {{{chroot}
  inet_listener imap {{
    address = {HOST}
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
{unprivileged}"""
