"""SLA work: recompute a ticket's clocks after a committed change, and fire its warning and
breach timers. Thin: each run re-reads the ticket and calls one action."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import dramatiq

from inbox.actions.report_rollup import read_report_day, stale_report_days, store_report_day
from inbox.actions.sla.clocks import SlaSettingsChanged, fire_sla_moment, recompute_sla_many
from inbox.actions.sla.digests import DIGEST_TIMER, flush_alert_mail
from inbox.actions.sla.escalations import escalate_sla_moment
from inbox.actions.timers import ClaimedTimer, set_timer
from inbox.db import Database
from inbox.events import Event, MessageAdded, TicketChanged, TicketCreated
from inbox.models import utcnow
from inbox.queries.sla import tickets_with_sla_work, unresolved_ticket_ids
from workers.broker import ensure_broker, jobs_run_here
from workers.filing_bell import BatchBell
from workers.runtime import Runtime, get_runtime
from workers.timers import timer_handler

ensure_broker()

# Tickets per job when a policy change recomputes every unresolved ticket.
RECOMPUTE_PAGE = 200
# Tickets per job after committed changes: mail filed in bulk is recomputed in bulk too,
# reading what it needs for the whole job at once (``recompute_sla_many``).
RECOMPUTE_JOB_SIZE = 100
# Tickets per transaction of such a job.
RECOMPUTE_TRANSACTION = 25
# The SLA report's rollup: how often stale days are looked for, and how many days one run
# refreshes before it lets other timers go first (it comes back at once for the rest).
REPORT_REFRESH_TIMER = "sla_report_refresh"
REPORT_REFRESH_EVERY = timedelta(seconds=30)
REPORT_DAYS_PER_RUN = 10


# After filing mail (priority 0) and before delivering it (10): in a flood every mail becomes
# a ticket first. A clock counts from the ticket's own times, so a late recompute moves no
# deadline.
@dramatiq.actor(queue_name="sla", max_retries=5, min_backoff=1_000, time_limit=120_000, priority=5)
def recompute_tickets_sla(ticket_ids: list[int]) -> None:
    """A few tickets to a transaction (in id order, so concurrent jobs lock alike). Without
    ids: the job ``CHANGED_TICKETS`` rang for, which recomputes what changed since."""
    rt = get_runtime()
    if ticket_ids:
        _recompute_changed(rt, ticket_ids)
        return
    if not CHANGED_TICKETS.start():
        return  # the job running takes them
    try:
        while batch := CHANGED_TICKETS.take(RECOMPUTE_JOB_SIZE):
            try:
                _recompute_changed(rt, batch)
            except Exception:
                # A job of their own, retried with backoff like any other.
                recompute_tickets_sla.send(batch)
                raise
    finally:
        CHANGED_TICKETS.finish()


def _recompute_changed(rt: Runtime, ticket_ids: list[int]) -> None:
    with rt.db.reading() as session:
        ticket_ids = tickets_with_sla_work(session, ticket_ids)
    # Background work, in short transactions: a request waiting to write (a webhook storing
    # an event) goes first, and waits for at most a few tickets' recompute.
    for start in range(0, len(ticket_ids), RECOMPUTE_TRANSACTION):
        with rt.db.unit_of_work(background=True) as session:
            recompute_sla_many(session, ticket_ids[start : start + RECOMPUTE_TRANSACTION], utcnow())


# Where jobs run in this process: one recompute job at a time takes every ticket changed
# meanwhile. A chat desk changes hundreds of tickets a second, each by one message; a job
# each would read the policies, lock the writer and commit for every one of them.
CHANGED_TICKETS = BatchBell(lambda: recompute_tickets_sla.send([]))


@dramatiq.actor(queue_name="sla", max_retries=5, min_backoff=1_000, time_limit=600_000)
def recompute_unresolved_sla(after_id: int = 0) -> None:
    """Every unresolved ticket, a page per job, a few tickets to a transaction."""
    rt = get_runtime()
    with rt.db.reading() as session:
        ids = unresolved_ticket_ids(session, after_id=after_id, limit=RECOMPUTE_PAGE)
    for start in range(0, len(ids), RECOMPUTE_JOB_SIZE):
        with rt.db.unit_of_work() as session:
            recompute_sla_many(session, ids[start : start + RECOMPUTE_JOB_SIZE], utcnow())
    if len(ids) == RECOMPUTE_PAGE:
        recompute_unresolved_sla.send(ids[-1])


def enqueue_sla_recomputes(events: Sequence[Event]) -> None:
    ticket_ids = sorted(
        {e.ticket_id for e in events if isinstance(e, TicketCreated | TicketChanged | MessageAdded)}
    )
    if ticket_ids and jobs_run_here():
        CHANGED_TICKETS.add(ticket_ids)
        ticket_ids = []
    for start in range(0, len(ticket_ids), RECOMPUTE_JOB_SIZE):
        recompute_tickets_sla.send(ticket_ids[start : start + RECOMPUTE_JOB_SIZE])
    if any(isinstance(e, SlaSettingsChanged) for e in events):
        recompute_unresolved_sla.send(0)


def _fire(rt: Runtime, timer: ClaimedTimer) -> datetime | None:
    """A warning or deadline: the ticket hears of it, then the policy's escalation rules act,
    in the same transaction."""
    if timer.ticket_id is None:
        return None
    now = max(utcnow(), timer.due_at)
    with rt.db.unit_of_work() as session:
        moment = fire_sla_moment(
            session, kind=timer.kind, ticket_id=timer.ticket_id, payload=timer.payload, now=now
        )
        if moment is not None:
            escalate_sla_moment(session, moment, now)
    return None


def _flush_digest(rt: Runtime, timer: ClaimedTimer) -> datetime | None:
    """One agent's waiting SLA alerts leave in one mail."""
    with rt.db.unit_of_work() as session:
        flush_alert_mail(
            session,
            rt.settings,
            agent_id=int(timer.payload["agent_id"]),
            now=max(utcnow(), timer.due_at),
        )
    return None


timer_handler("sla_warning")(_fire)
timer_handler("sla_breach")(_fire)
timer_handler(DIGEST_TIMER)(_flush_digest)


def refresh_report_rollup(db: Database, *, limit: int = REPORT_DAYS_PER_RUN) -> int:
    """Fold the logged changes of up to ``limit`` stale days into the report's rollup, a day
    per transaction, the clocks read before the write lock is taken. Returns the days seen."""
    with db.reading() as session:
        days = stale_report_days(session, limit=limit)
    for day in days:
        with db.reading() as session:
            computed = read_report_day(session, day)
        with db.unit_of_work() as session:
            store_report_day(session, computed)
    return len(days)


def ensure_report_refresh(db: Database) -> None:
    """The refresher's timer, set once; it sets itself again after every run."""
    with db.unit_of_work() as session:
        set_timer(session, kind=REPORT_REFRESH_TIMER, key=REPORT_REFRESH_TIMER, due_at=utcnow())


@timer_handler(REPORT_REFRESH_TIMER)
def _refresh_report(rt: Runtime, timer: ClaimedTimer) -> datetime | None:
    more = refresh_report_rollup(rt.db) == REPORT_DAYS_PER_RUN
    return utcnow() if more else utcnow() + REPORT_REFRESH_EVERY
