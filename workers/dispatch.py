"""Turns committed domain events into queued jobs."""

from __future__ import annotations

from collections.abc import Sequence

from inbox.events import Event, InboundStored, OutboxQueued

# Registering the timer handlers of these workflows:
from workers import followup_actors, search_upkeep, unlock_actors  # noqa: F401
from workers.actors import deliver_outbox_items, process_inbound
from workers.sla_actors import enqueue_sla_recomputes
from workers.timers import enqueue_due_timers

# Stored mail is filed this many items per job (and transaction): a mailbox watcher's whole
# fetch, so that the fixed cost of a transaction (its reads, statements and commit) is shared
# by a hundred mails; filing them holds the write lock for about a tenth of a second.
INBOUND_JOB_SIZE = 100
# Outbound rows per delivery job, sharing one connection: a crash mid-run delays the rest
# of the run by at most their sending leases.
OUTBOX_JOB_SIZE = 10


def enqueue_jobs(events: list[Event]) -> None:
    enqueue_inbound([e.item_id for e in events if isinstance(e, InboundStored)])
    enqueue_outbox([e.outbox_id for e in events if isinstance(e, OutboxQueued)])
    enqueue_due_timers(events)
    enqueue_sla_recomputes(events)


def enqueue_outbox(outbox_ids: Sequence[int]) -> None:
    for start in range(0, len(outbox_ids), OUTBOX_JOB_SIZE):
        deliver_outbox_items.send(list(outbox_ids[start : start + OUTBOX_JOB_SIZE]))


def enqueue_inbound(item_ids: Sequence[int], *, per_job: int = INBOUND_JOB_SIZE) -> None:
    for start in range(0, len(item_ids), per_job):
        process_inbound.send(list(item_ids[start : start + per_job]))
