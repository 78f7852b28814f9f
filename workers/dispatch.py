"""Turns committed domain events into queued jobs.

The work is in the tables before any job is queued: a job only says "look now". When the
broker cannot take one (Redis or RabbitMQ down), the change that caused it stays committed
and its answer stays a success; the scheduler's sweeps queue the work once the broker is
back (outbox rows, stored mail, due timers). So a broker outage delays work, and an agent's
reply shows as queued, never as an error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from inbox.actions.outbox import release_enqueue_leases
from inbox.db import Database
from inbox.events import Event, InboundStored, OutboxQueued, SocialDetailsWanted

# Registering the timer handlers of these workflows:
from workers import (  # noqa: F401
    blob_sweep,
    chat_actors,
    followup_actors,
    search_upkeep,
    unlock_actors,
)
from workers.actors import PUSHED_FILING, deliver_outbox_items, process_inbound
from workers.broker import jobs_run_here
from workers.sla_actors import enqueue_sla_recomputes
from workers.social_details import complete_social_message
from workers.timers import enqueue_due_timers

log = logging.getLogger(__name__)

# Stored mail is filed this many items per job (and transaction): a mailbox watcher's whole
# fetch, so that the fixed cost of a transaction (its reads, statements and commit) is shared
# by a hundred mails; filing them holds the write lock for about a tenth of a second.
INBOUND_JOB_SIZE = 100
# Outbound rows per delivery job, sharing one connection: a crash mid-run delays the rest
# of the run by at most their sending leases.
OUTBOX_JOB_SIZE = 10


def job_dispatcher(db: Database) -> Callable[[list[Event]], None]:
    """The dispatcher for ``db.on_commit``: each kind of job is queued on its own, and one the
    broker refuses is left to the sweeps."""

    def enqueue_jobs(events: list[Event]) -> None:
        stored = [e for e in events if isinstance(e, InboundStored)]
        inbound_ids = [e.item_id for e in stored if not e.pushed]
        pushed_ids = [e.item_id for e in stored if e.pushed]
        outbox_ids = [e.outbox_id for e in events if isinstance(e, OutboxQueued)]
        _or_leave_to_sweep("filing stored mail", lambda: enqueue_inbound(inbound_ids))
        _or_leave_to_sweep("filing webhook events", lambda: enqueue_pushed(pushed_ids))
        if not _or_leave_to_sweep("sending mail", lambda: enqueue_outbox(outbox_ids)):
            release_outbox_leases(db, outbox_ids)
        _or_leave_to_sweep("firing timers", lambda: enqueue_due_timers(events))
        _or_leave_to_sweep("SLA recomputes", lambda: enqueue_sla_recomputes(events))
        _or_leave_to_sweep("direct messages' details", lambda: enqueue_social_details(events))

    return enqueue_jobs


def _or_leave_to_sweep(what: str, enqueue: Callable[[], None]) -> bool:
    try:
        enqueue()
    except Exception as exc:  # whatever the broker's client raises: the commit stands
        log.warning("the broker did not take the jobs for %s, left to the sweeps: %s", what, exc)
        return False
    return True


def release_outbox_leases(db: Database, outbox_ids: Sequence[int]) -> None:
    """Outbox rows whose jobs were not queued are swept again on the scheduler's next pass."""
    if not outbox_ids:
        return
    try:
        with db.unit_of_work() as session:
            release_enqueue_leases(session, outbox_ids)
    except Exception as exc:  # they are swept anyway, once their enqueue lease runs out
        log.warning("outbox rows %s stay leased: %s", list(outbox_ids), exc)


def enqueue_outbox(outbox_ids: Sequence[int]) -> None:
    for start in range(0, len(outbox_ids), OUTBOX_JOB_SIZE):
        deliver_outbox_items.send(list(outbox_ids[start : start + OUTBOX_JOB_SIZE]))


def enqueue_social_details(events: Sequence[Event]) -> None:
    """Best effort: a job the broker loses leaves a sender unnamed or a file unfetched."""
    for event in events:
        if isinstance(event, SocialDetailsWanted):
            complete_social_message.send(event.message_id)


def enqueue_pushed(item_ids: Sequence[int]) -> None:
    """Events a webhook stored: where jobs run in this process, the one filing job at a time
    (``PUSHED_FILING``) looks at them; else a job each, which takes the others along."""
    if not item_ids:
        return
    if jobs_run_here():
        PUSHED_FILING.ring()
    else:
        enqueue_inbound(item_ids)


def enqueue_inbound(item_ids: Sequence[int], *, per_job: int = INBOUND_JOB_SIZE) -> None:
    for start in range(0, len(item_ids), per_job):
        process_inbound.send(list(item_ids[start : start + per_job]))
