"""Stage two of the inbound pipeline as a worker runs it: stored items become messages.

One routine for ``process_inbound`` (the actor behind ``inbox serve`` and ``inbox worker``)
and for ``inbox poll``, so both file alike and as fast: the raw items are read, parsed outside
the write transaction (in the parser processes where there are some), then filed together in
one (``process_inbound_items``), a group of about ``INBOX_INGEST_BATCH_BYTES`` at a time. A
mail that fails is rolled back alone, counted, and tried again by itself; one that keeps
failing is quarantined. If the transaction as a whole fails, each item is tried on its own.
Its transactions are background work: a request waiting to write (a webhook storing an
event) goes first.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from inbox.actions.inbound.filing import (
    FilingFailure,
    IngestOutcome,
    claim_for_filing,
    pending_batches,
    process_inbound_items,
    read_pending_raw,
    record_processing_failure,
)
from workers.runtime import Runtime

log = logging.getLogger(__name__)


class Again(Protocol):
    """How the caller runs items once more: ``delayed`` after a failure, at once after a
    split."""

    def __call__(self, ids: list[int], /, *, delayed: bool) -> None: ...


def file_inbound(
    rt: Runtime, item_ids: Sequence[int], again: Again, *, per_transaction: int | None = None
) -> dict[int, IngestOutcome]:
    """File the items that are still pending, a group of about ``ingest_batch_bytes`` (and
    ``per_transaction`` items, if given) at a time; returns the outcome of each one filed or
    quarantined."""
    with rt.db.reading() as session:
        groups = pending_batches(
            session,
            item_ids,
            max_bytes=rt.settings.ingest_batch_bytes,
            max_items=per_transaction,
        )
    outcomes: dict[int, IngestOutcome] = {}
    for group in groups:
        outcomes.update(_file_together(rt, group, again))
    return outcomes


def _file_together(rt: Runtime, item_ids: Sequence[int], again: Again) -> dict[int, IngestOutcome]:
    with rt.db.unit_of_work(background=True) as session:
        item_ids, given_up = claim_for_filing(session, item_ids)
    outcomes: dict[int, IngestOutcome] = {i: IngestOutcome("quarantined") for i in given_up}
    if not item_ids:
        return outcomes
    try:
        with rt.db.reading() as session:
            pending = read_pending_raw(session, item_ids)
        arrivals = rt.parser.parse(pending)
        if not arrivals:
            return outcomes
        with rt.db.unit_of_work(background=True) as session:
            result = process_inbound_items(session, rt.settings, rt.blobs, arrivals, claimed=True)
    except Exception as exc:
        if len(item_ids) > 1:
            log.exception("filing inbound items %s together failed; one at a time now", item_ids)
            for item_id in item_ids:
                again([item_id], delayed=False)
            return outcomes
        log.exception("processing inbound item %s failed", item_ids[0])
        with rt.db.unit_of_work(background=True) as session:
            quarantined = record_processing_failure(
                session, item_ids[0], f"{type(exc).__name__}: {exc}", claimed=True
            )
        failures = [FilingFailure(item_ids[0], exc, quarantined)]
    else:
        for failure in result.failures:
            log.error("processing inbound item %s failed", failure.item_id, exc_info=failure.error)
        failures = result.failures
        outcomes.update(result.outcomes)
    for failure in failures:
        if failure.quarantined:
            outcomes[failure.item_id] = IngestOutcome("quarantined")
        else:
            again([failure.item_id], delayed=True)
    return outcomes
