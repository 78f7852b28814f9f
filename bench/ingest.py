"""Email ingestion throughput on the embedded default, against its ceiling and a peer.

    python bench/ingest.py [--mails 3000] [--small 1000] [--peer]

Loads ``--mails`` realistic customer mails (bench/mails.py) into a throwaway Dovecot, one
identical copy per measurement (a side that marks or deletes mail leaves the others' alone),
then:

1. the ceiling: one imapclient session fetches them in batches with ``BODY.PEEK[]`` and
   parses each with ``inbox.mail.parse.parse_mail``, storing nothing;
2. ``inbox serve`` end to end: a fresh data folder, a migrated SQLite database, an email
   channel added with the real ``inbox channel add-email``, then the real ``inbox serve`` (no
   broker: workers, scheduler and mailbox watcher in the one process) timed from its start
   until every mail is a ticket and every acknowledgement is queued. Acknowledgements are
   delivered over SMTP to a recording server on loopback while this runs, as in production;
3. ``inbox poll``: the same preparation on another fresh data folder, then the real
   ``inbox poll`` (one pass over the mailbox, then exit) timed from its start until it exits;
   it must leave a ticket and a queued acknowledgement per mail;
4. with ``--peer``, django-helpdesk's ``manage.py get_email`` on its own fresh SQLite
   database, timed the same way (bench/peer.py).

The serve run is done for a small and the full mailbox, and the peak RSS (``VmHWM``) of the
serve process is printed for both: memory should not grow with the mailbox.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from imapclient import IMAPClient  # noqa: E402

from bench import peer as helpdesk  # noqa: E402
from bench.mails import customer_mails  # noqa: E402
from bench.timing import run_timed  # noqa: E402
from inbox.mail.parse import parse_mail  # noqa: E402
from inbox.migrate import upgrade_database  # noqa: E402
from tests.support.dovecot import HOST, DovecotServer  # noqa: E402
from tests.support.processes import INBOX, free_port, run_cli  # noqa: E402
from tests.support.smtp_peer import SmtpPeer  # noqa: E402

SUPPORT = "support@example.test"
FETCH_BATCH = 100
POLL_SECONDS = 0.05
# Issue 13's targets, for 3,000 mails waiting: rates as multiples of django-helpdesk's, and
# fractions of the fetch-and-parse ceiling.
SERVE_OVER_PEER = 20
POLL_OVER_PEER = 15
OF_CEILING = 0.5
SERVE_RATE = 300


@dataclass(frozen=True)
class EndToEnd:
    mails: int
    seconds: float
    first_ticket_seconds: float
    delivered_seconds: float | None
    peak_rss_kib: int
    cpu_seconds: float  # serve and its parser processes, until every mail was filed
    sent_while_filing: int  # acknowledgements delivered by then

    @property
    def rate(self) -> float:
        return self.mails / self.seconds


def measure_ceiling(server: DovecotServer, user: str, password: str) -> tuple[int, float]:
    """Fetch and parse every mail in the folder, storing nothing: (mails, seconds)."""
    started = time.perf_counter()
    parsed = 0
    with IMAPClient(HOST, server.port, ssl=False, timeout=60) as client:
        client.login(user, password)
        client.select_folder("INBOX", readonly=True)
        uids = sorted(client.search("ALL"))
        for start in range(0, len(uids), FETCH_BATCH):
            batch = uids[start : start + FETCH_BATCH]
            for _uid, data in client.fetch(batch, ["BODY.PEEK[]"]).items():
                parse_mail(bytes(data[b"BODY[]"]), max_text_chars=1_000_000)
                parsed += 1
    return parsed, time.perf_counter() - started


def run_end_to_end(
    server: DovecotServer, peer: SmtpPeer, mailbox: tuple[str, str], mails: int, workdir: Path
) -> EndToEnd:
    """One ``inbox serve`` on a fresh data folder, until ``mails`` tickets and acknowledgements."""
    env, database = _fresh_channel(server, peer, mailbox, workdir / f"var-{mails}")
    already_delivered = len(peer.received)
    log_path = workdir / f"serve-{mails}.log"
    deadline_seconds = 60 + mails / 20
    with log_path.open("wb") as log:
        started = time.perf_counter()
        process = subprocess.Popen(
            [*INBOX, "serve", "--port", str(free_port())],
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    counts = _Counts(database)
    try:
        first_ticket = None
        while True:
            tickets, acks = counts.read()
            now = time.perf_counter() - started
            if first_ticket is None and tickets:
                first_ticket = now
            if tickets >= mails and acks >= mails:
                break
            if process.poll() is not None or now > deadline_seconds:
                raise RuntimeError(
                    f"{tickets} tickets and {acks} acknowledgements after {now:.0f}s; "
                    f"serve exited: {process.returncode}\n{log_path.read_text()[-3000:]}"
                )
            time.sleep(POLL_SECONDS)
        seconds = time.perf_counter() - started
        cpu = sum(_cpu_seconds(pid) for pid in [process.pid, *_children(process.pid)])
        sent_while_filing = len(peer.received) - already_delivered
        delivered = None
        while time.perf_counter() - started < deadline_seconds:
            if len(peer.received) - already_delivered >= mails:
                delivered = time.perf_counter() - started
                break
            time.sleep(POLL_SECONDS)
        peak = sum(_peak_rss_kib(pid) for pid in [process.pid, *_children(process.pid)])
    finally:
        counts.close()
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    return EndToEnd(
        mails, seconds, first_ticket or seconds, delivered, peak, cpu, sent_while_filing
    )


@dataclass(frozen=True)
class Poll:
    mails: int
    seconds: float  # the whole ``inbox poll`` process
    cpu_seconds: float

    @property
    def rate(self) -> float:
        return self.mails / self.seconds


def run_poll(
    server: DovecotServer, peer: SmtpPeer, mailbox: tuple[str, str], mails: int, workdir: Path
) -> Poll:
    """One ``inbox poll`` on a fresh data folder, timed until it exits; it must file them all."""
    env, database = _fresh_channel(server, peer, mailbox, workdir / "var-poll")
    timed = run_timed(
        [*INBOX, "poll"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120 + mails / 5,
    )
    result = timed.result
    counts = _Counts(database)
    tickets, acks = counts.read()
    counts.close()
    if result.returncode != 0 or tickets != mails or acks != mails:
        raise RuntimeError(
            f"inbox poll exited {result.returncode} leaving {tickets} tickets and {acks} "
            f"acknowledgements for {mails} mails:\n{result.stdout}{result.stderr[-3000:]}"
        )
    return Poll(mails, timed.seconds, timed.cpu_seconds)


def _fresh_channel(
    server: DovecotServer, peer: SmtpPeer, mailbox: tuple[str, str], data_dir: Path
) -> tuple[dict[str, str], Path]:
    """A new data folder and migrated database with the email channel: (environment, database).

    Done before any clock starts, on both sides of the comparison with django-helpdesk.
    """
    database = data_dir / "inbox.sqlite3"
    data_dir.mkdir(parents=True)
    env = {
        "INBOX_DATA_DIR": str(data_dir),
        "INBOX_DATABASE_URL": f"sqlite:///{database}",
        "INBOX_BROKER_URL": "",  # the embedded default, whatever this shell has set
        "INBOX_REALTIME_URL": "",
    }
    upgrade_database(env["INBOX_DATABASE_URL"])
    # fmt: off
    run_cli(
        env, "channel", "add-email", "--name", "Support", "--address", SUPPORT,
        "--imap", server.imap_url(*mailbox), "--smtp", peer.smtp_url(), "--poll-seconds", "5",
    )
    # fmt: on
    return env, database


class _Counts:
    """Tickets and queued acknowledgements, read from the database without disturbing it."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self.connection: sqlite3.Connection | None = None

    def read(self) -> tuple[int, int]:
        if self.connection is None:
            if not self.database.exists():
                return 0, 0
            self.connection = sqlite3.connect(f"file:{self.database}?mode=ro", uri=True)
        try:
            tickets = self.connection.execute("SELECT count(*) FROM ticket").fetchone()[0]
            acks = self.connection.execute(
                "SELECT count(*) FROM outbox WHERE kind = 'acknowledgement'"
            ).fetchone()[0]
        except sqlite3.OperationalError:  # busy for longer than the default timeout
            return 0, 0
        return int(tickets), int(acks)

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


def _children(pid: int) -> list[int]:
    """The parser processes of ``inbox serve``."""
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(line) for line in found.stdout.split()]


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of a running process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/PID/status")


def _load(server: DovecotServer, name: str, raws: list[bytes]) -> tuple[str, str]:
    user, password = f"{name}@example.test", f"pw-{name}"
    server.add_user(user, password)
    server.append_many(user, password, raws)
    return user, password


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mails", type=int, default=3000, help="the full mailbox")
    parser.add_argument("--small", type=int, default=1000, help="the small mailbox (memory)")
    parser.add_argument("--peer", action="store_true", help="measure django-helpdesk as well")
    args = parser.parse_args()
    reason = DovecotServer.available()
    if reason:
        print(f"cannot run: {reason}", file=sys.stderr)
        return 2
    python = helpdesk.ensure_venv() if args.peer else None

    raws = customer_mails(args.mails, to=SUPPORT)
    average = sum(map(len, raws)) / len(raws)
    print(f"{args.mails} mails, {average / 1024:.1f} KiB on average")
    if python:
        print(f"peer: {helpdesk.version(python)} (bench/peer-requirements.txt)")
    workdir = Path(tempfile.mkdtemp(prefix="inbox-bench-"))
    server = DovecotServer()
    smtp = SmtpPeer()
    peer_run = None
    try:
        server.start()
        smtp.start()
        full = _load(server, "full", raws)
        small = _load(server, "small", raws[: args.small])
        polled = _load(server, "poll", raws)
        helpdesk_box = _load(server, "helpdesk", raws) if python else None

        count, seconds = measure_ceiling(server, *full)
        ceiling = count / seconds
        print(f"ceiling (imapclient fetch + parse_mail): {count} mails in {seconds:.2f}s")

        results = [
            run_end_to_end(server, smtp, small, args.small, workdir),
            run_end_to_end(server, smtp, full, args.mails, workdir),
        ]
        poll = run_poll(server, smtp, polled, args.mails, workdir)
        if python and helpdesk_box:
            mailbox = helpdesk.Mailbox(HOST, server.port, *helpdesk_box, address=SUPPORT)
            peer_run = helpdesk.run_get_email(python, mailbox, args.mails, workdir)
    finally:
        smtp.stop()
        server.close()
        shutil.rmtree(workdir, ignore_errors=True)

    print()
    print(f"{'mails':>6} {'end to end':>11} {'mails/s':>8} {'of ceiling':>10} "
          f"{'first ticket':>12} {'acks sent':>10} {'by then':>8} {'CPU':>7} "
          f"{'peak RSS':>9}")  # fmt: skip
    for r in results:
        sent = f"{r.delivered_seconds:.2f}s" if r.delivered_seconds else "not all"
        print(
            f"{r.mails:>6} {r.seconds:>10.2f}s {r.rate:>8.0f} {r.rate / ceiling:>10.0%} "
            f"{r.first_ticket_seconds:>11.2f}s {sent:>10} {r.sent_while_filing:>8} "
            f"{r.cpu_seconds:>6.1f}s "
            f"{r.peak_rss_kib / 1024:>5.0f} MiB"
        )
    small_run, full_run = results
    print()
    print(f"ceiling:      {ceiling:.0f} mails/s")
    print(f"end to end:   {full_run.rate:.0f} mails/s ({args.mails} mails, from process start)")
    print(f"ratio:        {full_run.rate / ceiling:.0%} of the ceiling")
    print(
        f"peak RSS:     {small_run.peak_rss_kib / 1024:.0f} MiB at {args.small} mails, "
        f"{full_run.peak_rss_kib / 1024:.0f} MiB at {args.mails} "
        f"({full_run.peak_rss_kib / small_run.peak_rss_kib:.2f}x)"
    )
    _print_side_by_side(ceiling, full_run, poll, peer_run)
    return 0


def _print_side_by_side(
    ceiling: float, serve_run: EndToEnd, poll: Poll, peer: helpdesk.PeerRun | None
) -> None:
    """Each side's mails per second from the start of its process, its ratios, the targets.

    The targets are about the wall clock. Mails per CPU second are printed beside it because
    they move much less when other work shares the machine; ``inbox serve`` spreads its CPU
    over two processes (filing and parsing), the others use one.
    """
    serve = serve_run.rate
    # (side, mails filed, seconds, CPU seconds)
    rows = [
        ("inbox serve", serve_run.mails, serve_run.seconds, serve_run.cpu_seconds),
        ("inbox poll", poll.mails, poll.seconds, poll.cpu_seconds),
    ]
    if peer:
        rows.append(("django-helpdesk", peer.tickets, peer.seconds, peer.cpu_seconds))
    print()
    print(f"{'from process start':18} {'seconds':>8} {'mails/s':>8} {'of ceiling':>10} "
          f"{'x helpdesk':>10} {'CPU':>8} {'mails/CPU s':>11} {'x helpdesk':>10}")  # fmt: skip
    for name, filed, seconds, cpu in rows:
        rate, per_cpu = filed / seconds, filed / cpu
        times = cpu_times = ""
        if peer and peer.tickets:
            times = f"{rate / peer.rate:.1f}x"
            cpu_times = f"{per_cpu * peer.cpu_seconds / peer.tickets:.1f}x"
        print(
            f"{name:18} {seconds:>7.2f}s {rate:>8.0f} {rate / ceiling:>10.0%} {times:>10} "
            f"{cpu:>7.1f}s {per_cpu:>11.0f} {cpu_times:>10}"
        )
    if peer and not peer.complete:
        print(
            f"django-helpdesk filed {peer.tickets} of {peer.mails} mails as tickets "
            f"({peer.followups} messages, {peer.acknowledgements} acknowledgements, "
            f"{peer.left_in_mailbox} mails left in the mailbox); its rate counts tickets only"
        )
    targets: list[tuple[str, bool | None]] = [
        (f"inbox serve >= {SERVE_RATE} mails/s", serve >= SERVE_RATE),
        (f"inbox serve >= {OF_CEILING:.0%} of the ceiling", serve >= OF_CEILING * ceiling),
        (f"inbox poll >= {OF_CEILING:.0%} of the ceiling", poll.rate >= OF_CEILING * ceiling),
    ]
    if peer:
        # Against a peer that skipped mail a ratio means nothing: not judged then (None).
        judged = peer.complete or None
        targets += [
            (f"inbox serve >= {SERVE_OVER_PEER}x django-helpdesk",
             judged and serve >= SERVE_OVER_PEER * peer.rate),
            (f"inbox poll >= {POLL_OVER_PEER}x django-helpdesk",
             judged and poll.rate >= POLL_OVER_PEER * peer.rate),
        ]  # fmt: skip
    print()
    for target, met in targets:
        verdict = {True: "met", False: "NOT met", None: "not judged, see above"}[met]
        print(f"target {target}: {verdict}")


if __name__ == "__main__":
    sys.exit(main())
