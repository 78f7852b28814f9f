"""SLA work: recompute a ticket's clocks after a committed change, and fire its warning and
breach timers. Thin: each run re-reads the ticket and calls one action."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import dramatiq

from inbox.actions.escalations import escalate_sla_moment
from inbox.actions.sla import SlaSettingsChanged, fire_sla_moment, recompute_sla
from inbox.actions.sla_digests import DIGEST_TIMER, flush_alert_mail
from inbox.actions.timers import ClaimedTimer
from inbox.events import Event, MessageAdded, TicketChanged, TicketCreated
from inbox.models import utcnow
from inbox.queries.sla import tickets_with_sla_work, unresolved_ticket_ids
from workers.broker import ensure_broker
from workers.runtime import Runtime, get_runtime
from workers.timers import timer_handler

ensure_broker()

# Tickets per job when a policy change recomputes every unresolved ticket.
RECOMPUTE_PAGE = 200
# Tickets per job after committed changes: mail filed in bulk shares transactions.
RECOMPUTE_JOB_SIZE = 25


# After filing mail (priority 0) and before delivering it (10): in a flood every mail becomes
# a ticket first. A clock counts from the ticket's own times, so a late recompute moves no
# deadline.
@dramatiq.actor(queue_name="sla", max_retries=5, min_backoff=1_000, time_limit=120_000, priority=5)
def recompute_tickets_sla(ticket_ids: list[int]) -> None:
    """A few tickets in one transaction (in id order, so concurrent jobs lock alike)."""
    rt = get_runtime()
    with rt.db.reading() as session:
        ticket_ids = tickets_with_sla_work(session, ticket_ids)
    if not ticket_ids:
        return
    with rt.db.unit_of_work() as session:
        now = utcnow()
        for ticket_id in sorted(ticket_ids):
            recompute_sla(session, ticket_id, now)


@dramatiq.actor(queue_name="sla", max_retries=5, min_backoff=1_000, time_limit=600_000)
def recompute_unresolved_sla(after_id: int = 0) -> None:
    """Every unresolved ticket, a page per job, a few tickets to a transaction."""
    rt = get_runtime()
    with rt.db.reading() as session:
        ids = unresolved_ticket_ids(session, after_id=after_id, limit=RECOMPUTE_PAGE)
    for start in range(0, len(ids), RECOMPUTE_JOB_SIZE):
        with rt.db.unit_of_work() as session:
            now = utcnow()
            for ticket_id in ids[start : start + RECOMPUTE_JOB_SIZE]:
                recompute_sla(session, ticket_id, now)
    if len(ids) == RECOMPUTE_PAGE:
        recompute_unresolved_sla.send(ids[-1])


def enqueue_sla_recomputes(events: Sequence[Event]) -> None:
    ticket_ids = sorted(
        {e.ticket_id for e in events if isinstance(e, TicketCreated | TicketChanged | MessageAdded)}
    )
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
