"""SLA at scale on SQLite: firing one minute's due timers, and the 90-day manager report.

    python bench/sla.py [--tickets 1000000] [--small 10000] [--due 50] [--runs 5]

Two fresh databases in one run, one of ``--small`` tickets and one of ``--tickets``, built
from the models' metadata and filled with bulk SQL (``executemany``), from a fixed seed:
tickets spread over the 90 days before NOW, a fifth of them unresolved with running clocks
and a pending breach timer each (200,000 at a million), the rest resolved with stopped
clocks, met or breached. Exactly ``--due`` timers fall due in the minute measured; every
other pending timer is due later.

The database's triggers log every day of the bulk load as changed, as in production.

1. Rollup: the report's refresher (``refresh_report_rollup``, what the worker's timer runs)
   folds every logged day into the rollup. Timed.
2. Timers: ``sweep_due_timers`` at the end of that minute, then for each timer what the
   worker does (``claim_timer``, ``fire_sla_timer``: a recompute and a system event on the
   ticket, ``finish_timer``), one transaction each. Timed once per size (firing is
   once-only); the script prints both and the ratio of the large to the small. The fired
   clocks make their days stale again; the refresher's next run is timed too.
3. Report: ``sla_report`` for the 90 days in Europe/Berlin (whose midnights cut UTC days), as
   an administrator, ``--runs`` times; p50 and the slowest run; then as a manager of two of
   the five teams (who also sees the tickets assigned to them in the other three). Each
   viewer's report is compared with the same report computed from the clocks alone
   (``use_rollup=False``, the slow way): the script says whether they are identical.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlmodel import SQLModel, select  # noqa: E402

from inbox.actions.report_rollup import stale_report_days  # noqa: E402
from inbox.actions.sla.clocks import fire_sla_timer  # noqa: E402
from inbox.actions.timers import claim_timer, finish_timer, sweep_due_timers  # noqa: E402
from inbox.db import Database  # noqa: E402
from inbox.models import Agent, Channel, Customer, SlaPolicy, Team, TeamMember  # noqa: E402
from inbox.queries.reports.sla import ReportRange, SlaReport, parse_range, sla_report  # noqa: E402
from inbox.queries.tickets import Viewer, viewer_for  # noqa: E402
from workers.sla_actors import refresh_report_rollup  # noqa: E402

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
MINUTE = NOW + timedelta(hours=1)  # the minute whose timers are fired
DAYS = 90
CHUNK = 50_000
TEAMS = 5
AGENTS = 40
CHANNELS = (("Support", "email"), ("Chat", "chat"), ("Phone", "phone"))
PRIORITIES = ("low", "normal", "normal", "normal", "high", "urgent")
FIRST_RESPONSE, RESOLUTION = 60, 600


def stamp(moment: datetime) -> str:
    """How SQLAlchemy stores a UTC datetime on SQLite."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def chunks(rows: Iterator[tuple[object, ...]]) -> Iterator[list[tuple[object, ...]]]:
    batch: list[tuple[object, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def build(path: Path, tickets: int, due: int) -> Database:
    db = Database(f"sqlite:///{path}")
    SQLModel.metadata.create_all(db.engine)
    rng = random.Random(7)
    with db.unit_of_work() as session:  # the few fixed rows; the bulk is plain SQL below
        session.add(
            SlaPolicy(
                name="Round the clock",
                first_response_minutes=FIRST_RESPONSE,
                resolution_minutes=RESOLUTION,
                warn_percents=[],
            )
        )
        session.add_all(Team(name=f"Team {n}") for n in range(TEAMS))
        session.add(Agent(email="admin@example.com", name="Admin", role="admin"))
        session.add_all(
            Agent(email=f"agent{n}@example.com", name=f"Agent {n}", role=role)
            for n, role in enumerate(["manager"] + ["agent"] * (AGENTS - 1))
        )
        session.flush()
        # agent0 (id 2) manages teams 1 and 2 (ids 1 and 2).
        session.add_all(TeamMember(team_id=team_id, agent_id=2) for team_id in (1, 2))
        session.add_all(Channel(kind=kind, name=name) for name, kind in CHANNELS)
        session.add(Customer(name="Customer"))
    with db.engine.begin() as conn:
        run = conn.exec_driver_sql
        unresolved = tickets // 5
        due_ids = set(rng.sample(range(1, tickets + 1), due))
        open_ids = set(rng.sample(range(1, tickets + 1), unresolved)) | due_ids
        ticket_rows = []
        clock_rows = []
        timer_rows = []
        for ticket_id in range(1, tickets + 1):
            created = NOW - timedelta(seconds=rng.randrange(DAYS * 86400))
            channel = rng.randrange(len(CHANNELS))
            is_open = ticket_id in open_ids
            ticket_rows.append(
                (
                    ticket_id,
                    f"HD-{ticket_id:010d}",
                    f"Ticket {ticket_id}",
                    "open" if is_open else "resolved",
                    "open" if is_open else "resolved",
                    rng.choice(PRIORITIES),
                    channel + 1,
                    CHANNELS[channel][1],
                    1,
                    rng.randrange(AGENTS) + 2,
                    rng.randrange(TEAMS) + 1,
                    stamp(created),
                    stamp(created),
                )
            )
            answered = created + timedelta(minutes=rng.randrange(1, 120))
            fr_met = answered <= created + timedelta(minutes=FIRST_RESPONSE)
            used = int((answered - created).total_seconds())
            clock_rows.append(
                (
                    ticket_id,
                    "first_response",
                    "met" if fr_met else "breached",
                    FIRST_RESPONSE,
                    stamp(created),
                    None,
                    stamp(answered),
                    None if fr_met else stamp(created + timedelta(minutes=FIRST_RESPONSE)),
                    FIRST_RESPONSE * 60 - used,
                )
            )
            if is_open:
                deadline = (
                    MINUTE + timedelta(seconds=rng.randrange(60))
                    if ticket_id in due_ids
                    else MINUTE + timedelta(minutes=1, seconds=rng.randrange(30 * 86400))
                )
                clock_rows.append(
                    (
                        ticket_id,
                        "resolution",
                        "running",
                        RESOLUTION,
                        stamp(created),
                        stamp(deadline),
                        None,
                        None,
                        600,
                    )
                )
                timer_rows.append(
                    (
                        f"sla:{ticket_id}:resolution:1:breach",
                        "sla_breach",
                        ticket_id,
                        stamp(deadline),
                        '{"target": "resolution", "cycle": 1}',
                    )
                )
            else:
                resolved = answered + timedelta(minutes=rng.randrange(10, 900))
                used = int((resolved - created).total_seconds())
                met = used <= RESOLUTION * 60
                clock_rows.append(
                    (
                        ticket_id,
                        "resolution",
                        "met" if met else "breached",
                        RESOLUTION,
                        stamp(created),
                        None,
                        stamp(resolved),
                        None if met else stamp(created + timedelta(minutes=RESOLUTION)),
                        RESOLUTION * 60 - used,
                    )
                )
        for batch in chunks(iter(ticket_rows)):
            run(
                "INSERT INTO ticket (id, reference, subject, status, status_category, priority,"
                " channel_id, channel_kind, customer_id, assignee_id, team_id, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                batch,
            )
        for batch in chunks(iter(clock_rows)):
            run(
                "INSERT INTO sla_clock (ticket_id, target, policy_id, cycle, state,"
                " target_minutes, started_at, due_at, stopped_at, breached_at,"
                " remaining_seconds, computed_at) VALUES (?, ?, 1, 1, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(*row, stamp(NOW)) for row in batch],
            )
        for batch in chunks(iter(timer_rows)):
            run(
                "INSERT INTO timer (key, kind, ticket_id, due_at, payload, state)"
                " VALUES (?, ?, ?, ?, ?, 'pending')",
                batch,
            )
        run("ANALYZE")
    return db


def fire_one_minute(db: Database) -> tuple[float, int, int]:
    """What the scheduler and the worker do for the minute's due timers."""
    due_by = MINUTE + timedelta(minutes=1)
    started = time.perf_counter()
    with db.unit_of_work() as session:
        ids = sweep_due_timers(session, now=due_by)
    fired = 0
    for timer_id in ids:
        with db.unit_of_work() as session:
            claimed = claim_timer(session, timer_id, due_by=due_by)
            if claimed is None or claimed.ticket_id is None:
                continue
            fired += fire_sla_timer(
                session,
                kind=claimed.kind,
                ticket_id=claimed.ticket_id,
                payload=claimed.payload,
                now=due_by,
            )
            finish_timer(session, timer_id)
    return time.perf_counter() - started, len(ids), fired


def refresh(db: Database) -> tuple[float, int]:
    """What the refresher's timer does, run after run, until no day is stale."""
    started = time.perf_counter()
    days = 0
    while True:
        seen = refresh_report_rollup(db)
        days += seen
        with db.reading() as session:
            if not seen or not stale_report_days(session, limit=1):
                return time.perf_counter() - started, days


def report_range() -> ReportRange:
    return parse_range(
        (NOW - timedelta(days=DAYS - 1)).date().isoformat(),
        NOW.date().isoformat(),
        "Europe/Berlin",
        default_tz="UTC",
        now=NOW,
    )


def viewer(db: Database, email: str) -> Viewer:
    with db.reading() as session:
        return viewer_for(session, session.exec(select(Agent).where(Agent.email == email)).one())


def report_times(db: Database, who: Viewer, runs: int) -> tuple[list[float], SlaReport]:
    times = []
    for _ in range(runs):
        with db.reading() as session:
            started = time.perf_counter()
            report = sla_report(session, who, report_range(), "policy", NOW)
            times.append(time.perf_counter() - started)
    return times, report


def from_clocks(db: Database, who: Viewer) -> tuple[float, SlaReport]:
    with db.reading() as session:
        started = time.perf_counter()
        report = sla_report(session, who, report_range(), "policy", NOW, use_rollup=False)
        return time.perf_counter() - started, report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--due", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-sla-"))
    try:
        firing: dict[int, float] = {}
        for size in (args.small, args.tickets):
            started = time.perf_counter()
            db = build(workdir / f"{size}.sqlite3", size, args.due)
            print(f"{size:>9,} tickets: built in {time.perf_counter() - started:.1f} s")
            seconds, days = refresh(db)
            print(f"{size:>9,} tickets: rollup refreshed, {days} days, in {seconds:.1f} s")
            seconds, swept, fired = fire_one_minute(db)
            firing[size] = seconds
            print(
                f"{size:>9,} tickets: {swept} due timers swept, claimed and fired "
                f"({fired} still breached at the recompute) in {seconds * 1000:.0f} ms"
            )
            seconds, days = refresh(db)
            print(
                f"{size:>9,} tickets: {days} days stale after firing, refreshed in {seconds:.1f} s"
            )
            for email, runs in (("admin@example.com", args.runs), ("agent0@example.com", 1)):
                who = viewer(db, email)
                times, report = report_times(db, who, runs)
                slow, expected = from_clocks(db, who)
                print(
                    f"{size:>9,} tickets: 90-day SLA report as {who.role}"
                    f" p50 {statistics.median(times):.2f} s, slowest {max(times):.2f} s"
                    f" ({runs} runs); from the clocks alone {slow:.2f} s;"
                    f" {'identical' if report == expected else 'DIFFERENT'}"
                )
            db.dispose()
        ratio = firing[args.tickets] / firing[args.small]
        print(f"timers: {args.tickets:,} / {args.small:,} tickets = {ratio:.2f} (target < 2)")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
