"""The SLA report read through its rollup shows a manager exactly what the report computed
from the clocks shows, whatever changed since the last refresh, in any zone, for any scope.

The desk of ``test_reports`` (four tickets on day D ten days ago, one today), with its clocks
kept by the real actions; and a larger desk of generated clocks, changed at random.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from alembic import command
from sqlalchemy import delete, insert, update
from sqlmodel import Session, col, select

from inbox.actions.report_rollup import read_report_day, stale_report_days, store_report_day
from inbox.db import Database
from inbox.migrate import alembic_config
from inbox.models import (
    Agent,
    Channel,
    Customer,
    SlaClock,
    SlaPolicy,
    Team,
    TeamMember,
    Ticket,
    Timer,
    utcnow,
)
from inbox.queries.reports.rollup import stale_days
from inbox.queries.reports.sla import (
    GROUPS,
    ReportRange,
    SlaReport,
    parse_range,
    report_parts,
    sla_report,
)
from inbox.queries.tickets import Viewer, viewer_for
from inbox.settings import Settings
from tests.support.desk import fire_due_timers
from tests.support.report_desk import DAY, ReportDesk, minutes
from workers.sla_actors import (
    REPORT_DAYS_PER_RUN,
    REPORT_REFRESH_TIMER,
    ensure_report_refresh,
    refresh_report_rollup,
)

ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu")


def viewer(db: Database, email: str) -> Viewer:
    with db.reading() as session:
        agent = session.exec(select(Agent).where(Agent.email == email)).one()
        return viewer_for(session, agent)


def span(first: date, last: date, tz: str) -> ReportRange:
    return parse_range(first.isoformat(), last.isoformat(), tz, default_tz="UTC", now=utcnow())


def both_ways(db: Database, who: Viewer, rng: ReportRange, group: str) -> tuple[SlaReport, ...]:
    """The report through the rollup, and computed from the clocks alone."""
    now = utcnow()
    with db.reading() as session:
        return tuple(
            sla_report(session, who, rng, group, now, use_rollup=use) for use in (True, False)
        )


def assert_exact(db: Database, who: Viewer, rng: ReportRange, group: str = "policy") -> SlaReport:
    through_rollup, from_clocks = both_ways(db, who, rng, group)
    assert through_rollup == from_clocks
    return through_rollup


def refresh_all(db: Database) -> None:
    while refresh_report_rollup(db) == REPORT_DAYS_PER_RUN:
        pass


def covered_days(db: Database, who: Viewer, rng: ReportRange) -> list[date]:
    with db.reading() as session:
        return report_parts(session, who, rng).clean_days


@pytest.fixture
def small_desk(db: Database, settings: Settings) -> ReportDesk:
    desk = ReportDesk(db, settings)
    t1 = desk.story("T1", "Billing", minutes(0), "Card declined")
    t1.agent_replies(minutes(10))
    t1.changed(minutes(100), status="resolved")
    t3 = desk.story("T3", "Fraud", minutes(0), "Chargeback")
    t3.agent_replies(minutes(90))
    t3.changed(minutes(700), status="resolved")
    desk.story("T4", "Fraud", datetime.combine(DAY, time(23, 30), tzinfo=UTC), "Stolen card")
    desk.recompute_all()
    desk.stories = {"T1": t1, "T3": t3}  # type: ignore[attr-defined]
    return desk


WEEK = (DAY - timedelta(days=3), DAY + timedelta(days=3))


def test_a_new_desk_reports_from_the_clocks_until_the_refresher_has_run(
    small_desk: ReportDesk, db: Database
) -> None:
    admin = viewer(db, "admin@example.com")
    rng = span(*WEEK, "UTC")
    with db.reading() as session:
        assert DAY in stale_days(session, *WEEK)
    assert DAY not in covered_days(db, admin, rng)
    refresh_all(db)
    with db.reading() as session:
        assert stale_days(session, *WEEK) == set()
    assert DAY in covered_days(db, admin, rng)
    report = assert_exact(db, admin, rng)
    totals = {t.target: (t.met, t.breached, t.open) for t in report.totals}
    assert totals["first_response"] == (1, 2, 0)


@pytest.mark.parametrize("zone", ZONES)
def test_every_figure_matches_the_clocks_in_every_zone_and_grouping(
    small_desk: ReportDesk, db: Database, zone: str
) -> None:
    refresh_all(db)
    for email in ("admin@example.com", "manager@example.com"):
        who = viewer(db, email)
        for group in GROUPS:
            assert_exact(db, who, span(*WEEK, zone), group)


def test_moving_a_ticket_to_another_team_shows_at_once_for_a_scoped_manager(
    small_desk: ReportDesk, db: Database
) -> None:
    refresh_all(db)
    manager = viewer(db, "manager@example.com")
    rng = span(*WEEK, "Europe/Berlin")
    before = assert_exact(db, manager, rng, "team")
    assert {c.group_label for c in before.compliance} == {"Billing"}
    small_desk.stories["T3"].changed(minutes(800), team="Billing")  # type: ignore[attr-defined]
    with db.reading() as session:
        assert DAY in stale_days(session, *WEEK)
    after = assert_exact(db, manager, rng, "team")
    first_response = {t.target: t for t in after.totals}["first_response"]
    assert (first_response.met, first_response.breached) == (1, 1)
    refresh_all(db)
    assert DAY in covered_days(db, manager, rng)
    assert assert_exact(db, manager, rng, "team") == after


def test_a_managers_own_ticket_in_another_team_counts_from_the_clocks(
    small_desk: ReportDesk, db: Database
) -> None:
    refresh_all(db)
    manager = viewer(db, "manager@example.com")
    rng = span(*WEEK, "UTC")
    small_desk.stories["T3"].changed(  # type: ignore[attr-defined]
        minutes(800), assignee_email="manager@example.com"
    )
    refresh_all(db)
    assert DAY in covered_days(db, manager, rng)
    report = assert_exact(db, manager, rng, "agent")
    resolution = {t.target: t for t in report.totals}["resolution"]
    assert (resolution.met, resolution.breached) == (1, 1)  # T1 of Billing, and T3 of Fraud


def test_a_reopened_ticket_restarts_its_clock_and_the_report_follows(
    small_desk: ReportDesk, db: Database
) -> None:
    refresh_all(db)
    admin = viewer(db, "admin@example.com")
    rng = span(*WEEK, "Asia/Kolkata")
    t1 = small_desk.stories["T1"]  # type: ignore[attr-defined]
    before = {t.target: (t.met, t.breached) for t in assert_exact(db, admin, rng).totals}
    assert before["resolution"] == (1, 2)
    t1.customer_writes(minutes(200))
    t1.changed(minutes(200), status="open")
    small_desk.recompute_all()
    reopened = assert_exact(db, admin, rng)
    # Running again since minute 200, ten days ago: past its 600 minutes, no longer stopped.
    assert {t.target: (t.met, t.breached) for t in reopened.totals}["resolution"] == (0, 3)
    assert {t.target: t.count for t in reopened.times}["resolution"] == 1
    refresh_all(db)
    assert assert_exact(db, admin, rng) == reopened


def test_a_refresh_leaves_a_day_stale_when_it_changed_meanwhile(
    small_desk: ReportDesk, db: Database
) -> None:
    refresh_all(db)
    small_desk.stories["T1"].changed(minutes(300), priority="urgent")  # type: ignore[attr-defined]
    with db.reading() as session:
        computed = read_report_day(session, DAY)
    small_desk.stories["T3"].changed(minutes(300), priority="low")  # type: ignore[attr-defined]
    with db.unit_of_work() as session:
        assert store_report_day(session, computed)
    with db.reading() as session:
        assert stale_report_days(session, limit=10) == [DAY]
    admin = viewer(db, "admin@example.com")
    assert_exact(db, admin, span(*WEEK, "UTC"), "priority")
    refresh_all(db)
    with db.reading() as session:
        assert stale_report_days(session, limit=10) == []
    assert_exact(db, admin, span(*WEEK, "UTC"), "priority")


def test_of_two_refreshes_of_one_day_the_later_stores_nothing(
    small_desk: ReportDesk, db: Database
) -> None:
    with db.reading() as session:
        first = read_report_day(session, DAY)
        second = read_report_day(session, DAY)
    with db.unit_of_work() as session:
        assert store_report_day(session, first)
    with db.unit_of_work() as session:
        assert not store_report_day(session, second)
    with db.reading() as session:
        assert DAY not in stale_days(session, *WEEK)
    assert_exact(db, viewer(db, "admin@example.com"), span(*WEEK, "UTC"))


# A larger desk: generated tickets and clocks over ten days, changed at random.

TEAMS = 3
AGENTS = 4
START = datetime.combine(utcnow().date() - timedelta(days=12), time(), tzinfo=UTC)


def _generated_desk(db: Database, rnd: random.Random, tickets: int) -> None:
    with db.unit_of_work() as session:
        policy = SlaPolicy(name="Generated", first_response_minutes=60, resolution_minutes=600)
        channels = [Channel(kind="email", name="Mail"), Channel(kind="chat", name="Chat")]
        teams = [Team(name=f"Team {n}") for n in range(TEAMS)]
        agents = [
            Agent(email=f"a{n}@example.com", name=f"A{n}", role="manager") for n in range(AGENTS)
        ]
        customer = Customer(name="Customer")
        session.add_all([policy, *channels, *teams, *agents, customer])
        session.flush()
        session.add(TeamMember(team_id=teams[0].id or 0, agent_id=agents[0].id or 0))
        session.add(TeamMember(team_id=teams[1].id or 0, agent_id=agents[0].id or 0))
        for n in range(tickets):
            created = START + timedelta(seconds=rnd.randrange(10 * 86400))
            ticket = Ticket(
                reference=f"GEN-{n}",
                customer_id=customer.id or 0,
                channel_id=rnd.choice([c.id for c in channels] + [None]),
                team_id=rnd.choice([t.id for t in teams] + [None]),
                assignee_id=rnd.choice([a.id for a in agents] + [None]),
                priority=rnd.choice(["low", "normal", "high"]),
                created_at=created,
            )
            session.add(ticket)
            session.flush()
            for target, limit in (("first_response", 60), ("resolution", 600)):
                session.add(_clock(rnd, ticket.id or 0, target, limit, created, policy.id))


def _clock(
    rnd: random.Random, ticket_id: int, target: str, limit: int, created: datetime, policy: Any
) -> SlaClock:
    used = rnd.randrange(-30, limit * 120)
    stopped = rnd.random() < 0.8
    breached = used > limit * 60
    return SlaClock(
        ticket_id=ticket_id,
        target=target,
        policy_id=policy,
        state=("breached" if breached else "met") if stopped else "running",
        target_minutes=limit,
        started_at=created,
        stopped_at=created + timedelta(seconds=used * 1.5 + rnd.random()) if stopped else None,
        breached_at=created + timedelta(minutes=limit) if breached else None,
        remaining_seconds=limit * 60 - used,
    )


def _change_at_random(session: Session, rnd: random.Random) -> None:
    ids = list(session.exec(select(Ticket.id)).all())
    teams = [*list(session.exec(select(Team.id)).all()), None]
    for ticket_id in rnd.sample(ids, 15):
        session.execute(
            update(Ticket).where(col(Ticket.id) == ticket_id).values(team_id=rnd.choice(teams))
        )
    for ticket_id in rnd.sample(ids, 15):
        session.execute(
            update(SlaClock)
            .where(col(SlaClock.ticket_id) == ticket_id, col(SlaClock.target) == "resolution")
            .values(
                state="met",
                stopped_at=utcnow(),
                breached_at=None,
                remaining_seconds=rnd.randrange(0, 36000),
            )
        )
    for ticket_id in rnd.sample(ids, 5):
        session.execute(delete(SlaClock).where(col(SlaClock.ticket_id) == ticket_id))
    created = START + timedelta(days=3, seconds=rnd.randrange(86400))
    session.execute(
        insert(Ticket).values(
            reference=f"GEN-late-{rnd.random()}",
            customer_id=session.exec(select(Customer.id)).first(),
            created_at=created,
            updated_at=created,
        )
    )


def test_generated_desk_matches_the_clocks_before_and_after_random_changes(
    db: Database,
) -> None:
    rnd = random.Random(11)
    _generated_desk(db, rnd, tickets=600)
    refresh_all(db)
    rng = span(START.date(), START.date() + timedelta(days=9), "UTC")
    viewers = [viewer(db, "a0@example.com"), viewer(db, "a2@example.com")]
    with db.unit_of_work() as session:
        session.add(Agent(email="root@example.com", name="Root", role="admin"))
    viewers.append(viewer(db, "root@example.com"))
    assert len(covered_days(db, viewers[-1], rng)) == 10
    for round_ in range(3):
        for who in viewers:
            for zone in ("UTC", "Pacific/Chatham", "America/Los_Angeles"):
                zoned = span(START.date(), START.date() + timedelta(days=9), zone)
                assert_exact(db, who, zoned, GROUPS[round_ % len(GROUPS)])
        with db.unit_of_work() as session:
            _change_at_random(session, rnd)
        if round_ == 1:
            refresh_all(db)


def test_the_workers_timer_refreshes_stale_days_and_sets_itself_again(
    small_desk: ReportDesk, settings: Settings
) -> None:
    ensure_report_refresh(small_desk.db)
    ensure_report_refresh(small_desk.db)  # the scheduler of every process sets it; one timer
    db = fire_due_timers(settings)
    with db.reading() as session:
        timer = session.exec(select(Timer).where(Timer.kind == REPORT_REFRESH_TIMER)).one()
        assert stale_report_days(session, limit=10) == []
    assert timer.state == "pending"
    assert timer.due_at > utcnow()


def test_upgrading_an_existing_desk_leaves_its_days_to_the_refresher(
    small_desk: ReportDesk, db: Database
) -> None:
    config = alembic_config(db.url)
    db.dispose()
    command.downgrade(config, "0010")
    command.upgrade(config, "heads")
    with db.reading() as session:
        assert stale_report_days(session, limit=10) == [DAY]
    refresh_all(db)
    admin = viewer(db, "admin@example.com")
    assert DAY in covered_days(db, admin, span(*WEEK, "UTC"))
    assert_exact(db, admin, span(*WEEK, "Europe/Berlin"))
