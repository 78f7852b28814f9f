"""Thin actors: take ids, re-read state, call one action. Delivery is at-least-once."""

from __future__ import annotations

import logging
import time

import dramatiq
from sqlmodel import col, select

import connectors
from connectors import PUSHED_KINDS
from connectors.base import DeliverySession, Outbound
from connectors.errors import (
    CredentialsRefused,
    PermanentConnectorError,
    TransientConnectorError,
)
from inbox.actions.channels import record_channel_health
from inbox.actions.outbox import (
    ClaimedDelivery,
    claim_deliveries,
    record_delivery_failure,
    record_delivery_sent,
)
from inbox.models import Channel
from inbox.queries.social import pushed_items_waiting
from workers.broker import ensure_broker
from workers.filing import Again, file_inbound
from workers.filing_bell import FilingBell
from workers.runtime import Runtime, get_runtime

ensure_broker()

# Items filed per job, at most, when a job takes along the pushed items waiting.
INBOUND_BATCH = 100
# How long one job files pushed items before it leaves the rest to the next job.
PUSHED_SECONDS = 10.0
# How long a job that finds only a few pushed items waits for more to join them.
PUSHED_GATHER_SECONDS = 0.05
# Pushed items filed per transaction: a webhook's store waits for at most one of them.
PUSHED_PER_TRANSACTION = 25

log = logging.getLogger(__name__)


@dramatiq.actor(queue_name="inbound", max_retries=0, time_limit=120_000)
def process_inbound(item_ids: list[int]) -> None:
    """Stored items become messages (``workers.filing``); a retry is a job of its own. No
    ids: the job ``PUSHED_FILING`` rang for, which files what the webhooks stored."""

    def again(ids: list[int], /, *, delayed: bool) -> None:
        process_inbound.send_with_options(args=(ids,), delay=1000 if delayed else None)

    rt = get_runtime()
    if not item_ids:
        if PUSHED_FILING.start():
            try:
                _file_pushed(rt, again)
            finally:
                PUSHED_FILING.finish()
        return
    if len(item_ids) < INBOUND_BATCH:  # a webhook's one event: take the others waiting along
        item_ids = [*item_ids, *_pushed_waiting(rt, item_ids)]
    file_inbound(rt, item_ids, again)


def _file_pushed(rt: Runtime, again: Again) -> None:
    """Batch after batch, until a batch takes all that waits; for ``PUSHED_SECONDS`` at most,
    then the next job goes on (a worker thread is not held for ever in a flood)."""
    deadline = time.monotonic() + PUSHED_SECONDS
    item_ids = _pushed_waiting(rt, [])
    if 0 < len(item_ids) < INBOUND_BATCH:
        # Only a few: in a flood more come within moments, and a batch that waits for them
        # shares its transactions' fixed costs (and the SLA recompute's after it) with them.
        time.sleep(PUSHED_GATHER_SECONDS)
        item_ids = _pushed_waiting(rt, [])
    while True:
        if item_ids:
            file_inbound(rt, item_ids, again, per_transaction=PUSHED_PER_TRANSACTION)
        if len(item_ids) < INBOUND_BATCH:
            return
        if time.monotonic() > deadline:
            PUSHED_FILING.ring()  # a job runs: the next is queued when this one finishes
            return
        item_ids = _pushed_waiting(rt, [])


def _pushed_waiting(rt: Runtime, item_ids: list[int]) -> list[int]:
    with rt.db.reading() as session:
        return pushed_items_waiting(
            session, PUSHED_KINDS, exclude=item_ids, limit=INBOUND_BATCH - len(item_ids)
        )


# Where jobs run in this process: one filing job at a time for what the webhooks stored.
PUSHED_FILING = FilingBell(lambda: process_inbound.send([]))


# Lower priority than filing mail: in a flood, every mail becomes a ticket first and the
# acknowledgements follow, instead of both crawling along together.
@dramatiq.actor(queue_name="outbox", max_retries=0, time_limit=900_000, priority=10)
def deliver_outbox_items(outbox_ids: list[int]) -> None:
    """The rows are claimed together, then each is sent and recorded on its own; rows of one
    channel share one connection to its server, and after a transient failure the rest of
    that channel's rows go back to the queue instead of waiting on the server in turn."""
    rt = get_runtime()
    with rt.db.unit_of_work() as session:
        claimed = claim_deliveries(session, outbox_ids)
        channel_ids = {item.channel_id for item in claimed if item.channel_id}
        channels = {
            channel.id: channel
            for channel in session.exec(select(Channel).where(col(Channel.id).in_(channel_ids)))
        }
    connections: dict[int, DeliverySession] = {}
    unreachable: dict[int | None, TransientConnectorError] = {}
    try:
        for item in claimed:
            failed = unreachable.get(item.channel_id)
            if failed is not None:
                # Its server just failed us: back to the queue, with the others' backoff and
                # the wait the platform asked for.
                _record_failure(
                    item.outbox_id, str(failed), permanent=False, retry_after=failed.retry_after
                )
                continue
            error = _deliver(rt, item, channels.get(item.channel_id), connections)
            if error is not None:
                unreachable[item.channel_id] = error
    finally:
        for connection in connections.values():
            connection.close()


@dramatiq.actor(queue_name="outbox", max_retries=0, time_limit=75_000, priority=10)
def deliver_outbox_item(outbox_id: int) -> None:
    """One row: the job shape queued before rows were delivered in runs."""
    deliver_outbox_items([outbox_id])


def _deliver(
    rt: Runtime,
    claimed: ClaimedDelivery,
    channel: Channel | None,
    connections: dict[int, DeliverySession],
) -> TransientConnectorError | None:
    """Send one claimed row and record the outcome; returns a transient failure."""
    outbox_id = claimed.outbox_id
    if channel is None or channel.id is None:
        _record_failure(outbox_id, "the channel of this message no longer exists", permanent=True)
        return None
    try:
        payload = rt.seal.open(claimed.payload) if claimed.sealed else claimed.payload
        payload = claimed.as_sent(payload, rt.blobs)  # a reply's files, from the blob store
        outbound = Outbound(sender=claimed.sender, recipients=claimed.recipients, payload=payload)
        connection = connections.get(channel.id)
        if connection is None:
            connector = connectors.get(channel.kind)
            connection = connector.open_session(rt.box.open(channel.secrets_encrypted))
            connections[channel.id] = connection
        report = connection.deliver(outbound)
    except TransientConnectorError as exc:
        _record_failure(outbox_id, str(exc), permanent=False, retry_after=exc.retry_after)
        return exc
    except CredentialsRefused as exc:
        # Nothing gets through until an administrator replaces the token: the channel is red.
        _record_failure(outbox_id, str(exc), permanent=True)
        with rt.db.unit_of_work() as session:
            record_channel_health(session, channel.id, "failing", str(exc))
    except (PermanentConnectorError, LookupError, ValueError) as exc:
        _record_failure(outbox_id, str(exc), permanent=True)
    else:
        with rt.db.unit_of_work() as session:
            record_delivery_sent(session, claimed, external_id=report.external_id)
    return None


def _record_failure(
    outbox_id: int, error: str, *, permanent: bool, retry_after: float | None = None
) -> None:
    rt = get_runtime()
    with rt.db.unit_of_work() as session:
        record_delivery_failure(
            session,
            outbox_id,
            error,
            permanent=permanent,
            retry_base_seconds=rt.settings.retry_base_seconds,
            retry_after=retry_after,
        )
