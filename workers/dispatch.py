"""Turns committed domain events into queued jobs."""

from __future__ import annotations

from inbox.events import Event, InboundStored, OutboxQueued
from workers.actors import deliver_outbox_item, process_inbound


def enqueue_jobs(events: list[Event]) -> None:
    for event in events:
        if isinstance(event, InboundStored):
            process_inbound.send(event.item_id)
        elif isinstance(event, OutboxQueued):
            deliver_outbox_item.send(event.outbox_id)
