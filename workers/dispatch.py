"""Turns committed domain events into queued jobs."""

from __future__ import annotations

from collections.abc import Sequence

from inbox.events import Event, InboundStored, OutboxQueued
from workers.actors import deliver_outbox_item, process_inbound

# Stored mail is filed this many items per job (and transaction): enough to share the fixed
# cost of a transaction, few enough that a write lock is never held for long.
INBOUND_JOB_SIZE = 25


def enqueue_jobs(events: list[Event]) -> None:
    enqueue_inbound([e.item_id for e in events if isinstance(e, InboundStored)])
    for event in events:
        if isinstance(event, OutboxQueued):
            deliver_outbox_item.send(event.outbox_id)


def enqueue_inbound(item_ids: Sequence[int], *, per_job: int = INBOUND_JOB_SIZE) -> None:
    for start in range(0, len(item_ids), per_job):
        process_inbound.send(list(item_ids[start : start + per_job]))
