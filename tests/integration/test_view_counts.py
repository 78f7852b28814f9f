"""The sidebar's counts, kept as tickets change, answer exactly what counting the tickets
answers: for an administrator and for an agent who sees their teams' tickets, after every
kind of change a desk sees (opening, assigning, moving team or channel, changing status or
priority, snoozing and waking, merging and undoing it, deleting, bulk statements), one
writer after another and several at once."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import ColumnElement, Table, delete, text, update
from sqlalchemy import select as core_select
from sqlmodel import Session, SQLModel, col, select

from inbox.actions.followups import cancel_followup, snooze_ticket, wake_followup
from inbox.actions.merge import active_merge_of, merge_tickets, unmerge_ticket
from inbox.actions.tickets import add_status, open_ticket, update_ticket
from inbox.actions.views import save_view
from inbox.db import Database
from inbox.errors import DomainError
from inbox.models import (
    PRIORITIES,
    Agent,
    Team,
    TeamMember,
    Ticket,
    TicketSnooze,
    TicketStatus,
    utcnow,
)
from inbox.models.counts import UNASSIGNED, TicketCount
from inbox.queries.tickets import TicketFilters, Viewer, count_tickets, viewer_for
from inbox.queries.views import EVERYTHING, view_counts
from inbox.settings import Settings
from tests.support.desk import make_agent, make_channel, new_ticket

PREFIX = "HD"
STATUSES = ["new", "open", "escalated", "waiting on customer", "on hold", "resolved", "closed"]
CUSTOM_STATUSES = {"escalated": "open", "on hold": "waiting_on_third_party"}
ZONE = ZoneInfo("UTC")
# Saved views with filters the kept counts answer, and some they leave to ``count_tickets``.
SAVED = [
    TicketFilters(view="open", priority="urgent"),
    TicketFilters(view="open", status="escalated"),
    TicketFilters(view="open", status="open"),
    TicketFilters(view="waiting", team="none"),
    TicketFilters(view="open", assignee="cy@example.com"),
    TicketFilters(view="open", assignee="nobody@example.com"),
    TicketFilters(view="mine", assignee="none"),
    TicketFilters(view="mine", priority="high", channel="Billing"),
    TicketFilters(view="unassigned", channel="email"),
    TicketFilters(view="snoozed", team="Gamma"),
    TicketFilters(view="open", team="Gamma", assignee="me"),
    TicketFilters(view="unassigned", assignee="none", status="waiting_on_third_party"),
    TicketFilters(view="open", tag="vip"),
    TicketFilters(view="breaching", priority="high"),
    TicketFilters(view="all", status="closed"),
]


def _shared(filters: TicketFilters) -> bool:
    """The administrator keeps the views by channel, status or priority to themselves, so
    that Ana's sidebar asks for none of these (the counts are then read summed over them)."""
    return not (filters.channel or filters.status or filters.priority)


@pytest.fixture
def desk(db: Database, settings: Settings) -> Iterator[dict[str, int]]:
    """Two channels, three teams, an administrator, the agent Ana in teams Alpha and Beta,
    Bo in Gamma, Cy in Alpha, Dee in none; two statuses of the desk's own; the saved views."""
    channels = {
        "Support": make_channel(db, settings),
        "Billing": make_channel(db, settings, name="Billing", address="billing@example.com"),
    }
    ids = {
        email.split("@")[0]: make_agent(db, email, role=role)[0]
        for email, role in (
            ("admin@example.com", "admin"),
            ("ana@example.com", "agent"),
            ("bo@example.com", "agent"),
            ("cy@example.com", "manager"),
            ("dee@example.com", "agent"),
        )
    }
    with db.unit_of_work() as session:
        teams = {name: Team(name=name) for name in ("Alpha", "Beta", "Gamma")}
        session.add_all(teams.values())
        session.flush()
        for team, agent in (("Alpha", "ana"), ("Beta", "ana"), ("Gamma", "bo"), ("Alpha", "cy")):
            session.add(TeamMember(team_id=teams[team].id or 0, agent_id=ids[agent]))
        admin = session.get(Agent, ids["admin"])
        assert admin is not None
        for name, category in CUSTOM_STATUSES.items():
            add_status(session, name=name, category=category, actor=admin)
        for n, filters in enumerate(SAVED):
            save_view(
                session, owner=admin, name=f"saved {n}", filters=filters, shared=_shared(filters)
            )
    yield {**ids, **{f"channel:{k}": v for k, v in channels.items()}}
    with db.unit_of_work() as session:  # statuses outlive a test's tables on PostgreSQL
        session.execute(delete(TicketStatus).where(col(TicketStatus.name).in_(CUSTOM_STATUSES)))


def _viewers(session: Session, desk: dict[str, int]) -> list[Viewer]:
    agents = [session.get(Agent, desk[name]) for name in ("admin", "ana", "dee")]
    return [viewer_for(session, agent) for agent in agents if agent is not None]


def assert_counts_match(db: Database, desk: dict[str, int], now: datetime, step: str) -> None:
    """Every view of the sidebar, for the administrator, for Ana and for Dee (who sees only
    tickets of no team and her own): the count shown is ``count_tickets``' answer."""
    with db.reading() as session:
        for viewer in _viewers(session, desk):
            groups = view_counts(session, viewer, prefix=PREFIX, now=now)
            shown = {link.key: link.count for link in groups.all()}
            counted = {
                link.key: None
                if link.filters == EVERYTHING
                else count_tickets(
                    session, prefix=PREFIX, filters=link.filters, viewer=viewer, now=now
                )
                for link in groups.all()
            }
            seen = [f for f in SAVED if viewer.sees_everything or _shared(f)]
            assert len(groups.saved) == len(seen)
            assert shown == counted, f"after {step}, as {viewer.email}"


def _pick(session: Session, rng: random.Random, *conditions: ColumnElement[bool]) -> Ticket | None:
    ids = session.exec(select(Ticket.id).where(*conditions)).all()
    return session.get(Ticket, rng.choice(ids), with_for_update=True) if ids else None


def _delete_ticket(session: Session, ticket_id: int) -> None:
    """What no action does yet: a ticket deleted with everything that refers to it."""
    _purge(session, SQLModel.metadata.tables["ticket"], "id", [ticket_id])


def _purge(session: Session, table: Table, column: str, values: list[object]) -> None:
    if not values:
        return
    if "id" in table.c:
        ids = list(
            session.connection().execute(core_select(table.c.id).where(table.c[column].in_(values)))
        )
        for child in SQLModel.metadata.sorted_tables:
            for fk in child.foreign_keys:
                if fk.column.table is table and fk.column.name == "id":
                    _purge(session, child, fk.parent.name, [row[0] for row in ids])
    session.connection().execute(delete(table).where(table.c[column].in_(values)))


def random_change(
    db: Database, settings: Settings, desk: dict[str, int], rng: random.Random, now: datetime
) -> str:
    """One change a desk sees, through the actions where there is one; returns its name."""
    kind = rng.choice(
        [
            "mail", "open", "assign", "team", "status", "status", "priority", "snooze",
            "snooze", "wake", "cancel", "merge", "unmerge", "delete", "channel", "due", "bulk",
        ]
    )  # fmt: skip
    agents = [f"{name}@example.com" for name in ("admin", "ana", "bo", "cy", "dee")]
    if kind == "mail":
        channel = desk[rng.choice(["channel:Support", "channel:Billing"])]
        new_ticket(db, settings, channel, sender=f"c{rng.randint(1, 6)}@example.org")
        return kind
    with db.unit_of_work() as session:
        admin = session.get(Agent, desk["admin"])
        assert admin is not None
        ticket = _pick(session, rng)
        if ticket is None:
            return "nothing"
        if kind == "open":
            open_ticket(
                session,
                prefix=PREFIX,
                subject="By phone",
                customer_id=ticket.customer_id,
                contact_identity_id=None,
                channel_id=rng.choice([None, desk["channel:Support"]]),
                channel_kind="email",
            )
        elif kind == "assign":
            choice = rng.choice([None, *agents])
            update_ticket(
                session, ticket, actor=admin, assignee_email=choice, clear_assignee=choice is None
            )
        elif kind == "team":
            team = rng.choice([None, "Alpha", "Beta", "Gamma"])
            update_ticket(session, ticket, actor=admin, team=team, clear_team=team is None)
        elif kind == "status":
            update_ticket(session, ticket, actor=admin, status=rng.choice(STATUSES))
        elif kind == "priority":
            update_ticket(session, ticket, actor=admin, priority=rng.choice(PRIORITIES))
        elif kind == "snooze":
            try:
                snooze_ticket(
                    session,
                    ticket,
                    agent=admin,
                    until=utcnow() + timedelta(days=rng.randint(1, 5)),
                    kind=rng.choice(["snooze", "snooze", "reminder"]),
                    now=utcnow(),
                    zone=ZONE,
                )
            except DomainError:
                return "snooze refused"
        elif kind in ("wake", "cancel"):
            snooze = session.exec(
                select(TicketSnooze).where(col(TicketSnooze.state) == "pending")
            ).first()
            if snooze is None:
                return "nothing to wake"
            if kind == "wake":
                wake_followup(session, snooze.id or 0, now=utcnow())
            else:
                target = session.get(Ticket, snooze.ticket_id)
                assert target is not None
                cancel_followup(session, target, agent=admin)
        elif kind == "merge":
            other = _pick(session, rng, col(Ticket.id) != ticket.id)
            if other is None:
                return "nothing to merge"
            try:
                merge_tickets(session, actor=admin, source=ticket, target=other)
            except DomainError:
                return "merge refused"
        elif kind == "unmerge":
            if active_merge_of(session, ticket) is None:
                return "nothing to unmerge"
            try:
                unmerge_ticket(session, actor=admin, source=ticket)
            except DomainError:
                return "unmerge refused"
        elif kind == "delete":
            _delete_ticket(session, ticket.id or 0)
        elif kind == "channel":  # a statement of its own, as a script or a fix-up would write
            session.execute(
                update(Ticket)
                .where(col(Ticket.id) == ticket.id)
                .values(channel_id=rng.choice([None, desk["channel:Billing"]]))
            )
        elif kind == "due":
            due = now + timedelta(hours=rng.uniform(-10, 10))
            session.execute(
                update(Ticket).where(col(Ticket.id) == ticket.id).values(sla_due_at=due)
            )
        else:  # several tickets in one statement
            session.execute(
                update(Ticket)
                .where(col(Ticket.id) % 3 == rng.randint(0, 2))
                .values(status="open", status_category="open", resolved_at=None)
            )
    return kind


@pytest.fixture
def started_desk(
    db: Database, settings: Settings, desk: dict[str, int]
) -> tuple[dict[str, int], datetime]:
    """Eight tickets by mail, spread over teams, assignees and statuses."""
    now = datetime.now(UTC).replace(microsecond=0)
    rng = random.Random(5)
    for n in range(8):
        channel = desk["channel:Support" if n % 2 else "channel:Billing"]
        new_ticket(db, settings, channel, sender=f"c{n}@example.org", subject=f"Help {n}")
    with db.unit_of_work() as session:
        admin = session.get(Agent, desk["admin"])
        assert admin is not None
        for n, ticket in enumerate(session.exec(select(Ticket)).all()):
            update_ticket(
                session,
                ticket,
                actor=admin,
                team=[None, "Alpha", "Beta", "Gamma"][n % 4],
                clear_team=n % 4 == 0,
                assignee_email=[None, "ana@example.com", "bo@example.com", "dee@example.com"][
                    n % 4
                ],
                clear_assignee=n % 4 == 0,
                status=STATUSES[n % len(STATUSES)],
            )
            session.execute(
                update(Ticket)
                .where(col(Ticket.id) == ticket.id)
                .values(sla_due_at=now + timedelta(hours=rng.uniform(-6, 8)))
            )
    return desk, now


def test_every_count_equals_counting_the_tickets_after_each_change(
    db: Database, settings: Settings, started_desk: tuple[dict[str, int], datetime]
) -> None:
    desk, now = started_desk
    assert_counts_match(db, desk, now, "the start")
    rng = random.Random(15)
    done: list[str] = []
    for n in range(120):
        done.append(random_change(db, settings, desk, rng, now))
        assert_counts_match(db, desk, now, f"change {n}: {done[-1]}")
    # Every kind of change happened, and the counts were not all zero along the way.
    assert {"mail", "assign", "team", "status", "snooze", "merge", "delete"} <= set(done)
    with db.reading() as session:
        assert sum(session.exec(select(TicketCount.n)).all()) > 0


def test_counts_stay_exact_under_concurrent_writers(
    db: Database, settings: Settings, started_desk: tuple[dict[str, int], datetime]
) -> None:
    """Four writers at once, each moving two tickets per transaction between the same few
    keys and holding them a while: none waits for another on the counts (on PostgreSQL a
    busy key gets a row of its own), none fails, and the counts add up."""
    desk, now = started_desk
    with db.reading() as session:
        ids = list(session.exec(select(Ticket.id).order_by(col(Ticket.id))).all())
    errors: list[BaseException] = []

    def writer(seed: int) -> None:
        rng = random.Random(seed)
        try:
            for _ in range(12):
                with db.unit_of_work() as session:
                    admin = session.get(Agent, desk["admin"])
                    assert admin is not None
                    for ticket_id in sorted(rng.sample(ids, 2)):  # rows locked in one order
                        ticket = session.get(Ticket, ticket_id, with_for_update=True)
                        assert ticket is not None
                        update_ticket(
                            session,
                            ticket,
                            actor=admin,
                            team=rng.choice(["Alpha", "Beta"]),
                            status=rng.choice(["open", "escalated", "resolved"]),
                            assignee_email=rng.choice(["ana@example.com", "cy@example.com"]),
                        )
                        session.flush()
                        threading.Event().wait(rng.uniform(0, 0.02))
        except BaseException as exc:  # reported by the test below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert_counts_match(db, desk, now, "the concurrent writers")


def test_writers_moving_tickets_between_the_same_keys_never_wait_for_each_other(
    db: Database, started_desk: tuple[dict[str, int], datetime]
) -> None:
    """One transaction moves a ticket from Alpha to Beta, another a ticket alike from Beta
    to Alpha, before either commits: each needs a count the other changed. Counts updated
    in place would make the second wait for the first (and two such transactions that go on
    to move more tickets could deadlock); here the second goes through at once."""
    if db.is_sqlite:
        pytest.skip("SQLite has one writer at a time")
    desk, now = started_desk
    with db.unit_of_work() as session:
        teams = dict(session.exec(select(Team.name, Team.id)).all())
        first_id, second_id = session.exec(select(Ticket.id).order_by(col(Ticket.id))).all()[:2]
        for ticket_id, team in ((first_id, "Alpha"), (second_id, "Beta")):
            session.execute(
                update(Ticket)
                .where(col(Ticket.id) == ticket_id)
                .values(
                    team_id=teams[team],
                    assignee_id=None,
                    status="open",
                    status_category="open",
                    priority="normal",
                    channel_id=desk["channel:Support"],
                )
            )
    first, second = Session(db.engine), Session(db.engine)
    try:
        for session in (first, second):
            session.execute(text("SET LOCAL lock_timeout = '2s'"))
        first.execute(
            update(Ticket).where(col(Ticket.id) == first_id).values(team_id=teams["Beta"])
        )
        second.execute(
            update(Ticket).where(col(Ticket.id) == second_id).values(team_id=teams["Alpha"])
        )
        second.commit()
        first.commit()
    finally:
        first.close()
        second.close()
    assert_counts_match(db, desk, now, "two writers crossing")
    with db.reading() as session:  # the second writer counted in rows of its own
        alpha_rows = session.exec(
            select(TicketCount.id).where(
                TicketCount.team_key == teams["Alpha"],
                TicketCount.assignee_key == UNASSIGNED,
                TicketCount.status == "open",
                TicketCount.priority == "normal",
                TicketCount.channel_key == desk["channel:Support"],
            )
        ).all()
    assert len(alpha_rows) >= 2
