"""Stage two of the inbound pipeline: stored items become customers, identities, tickets and
messages, for every channel kind on one path.

Stage one (``inbox.actions.inbound.store``) stored each item raw with its channel and the
platform's own id. Here items are read (``read_pending_raw``), parsed outside the write
transaction by their kind's reader (``inbox.parsing``: pure, in another process where there is
one), then filed together in one
transaction by ``process_inbound_items``: each kind's filing (``FILINGS``, keyed by channel
kind) writes plainly new items in a few multi-row statements and the rest one at a time, each
in its own savepoint, so one bad item never takes its neighbours down. An item that fails is
counted, and quarantined after a few failures. Filing is idempotent: items no longer pending
are left alone, so a worker killed half way simply runs it again.

What differs per kind (threading by mail headers, a chat conversation or a platform's chat
id; what a new ticket sends back) is the kind's :class:`KindFiling`; a new channel kind adds
its own to ``FILINGS`` and leaves this module as it is.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import select as sql_select
from sqlalchemy import update
from sqlmodel import Session, col, select

from inbox.actions.chat.filing import ChatFiling
from inbox.actions.inbound.email import EmailFiling
from inbox.actions.inbound.items import IngestOutcome, finish_item, savepoint
from inbox.actions.inbound.social import SocialFiling
from inbox.actions.rows import table_of
from inbox.blobs import BlobStore
from inbox.models import Channel, InboundItem, Ticket, utcnow
from inbox.models.kinds import ChannelKind
from inbox.parsing.items import Arrival, PendingRaw
from inbox.parsing.readers import read_pending
from inbox.settings import Settings

log = logging.getLogger(__name__)

MAX_PROCESS_ATTEMPTS = 3
# What a truncated item (only its header block was downloaded) counts towards a batch.
TRUNCATED_BYTES = 64 * 1024


class FilingBatch(Protocol):
    """What a kind looks up once for a whole batch (items already filed, answers sent)."""

    def filed(self, channel_id: int, item: Any, outcome: IngestOutcome) -> None:
        """Count an item whose savepoint committed, for the items after it."""
        ...


class KindFiling(Protocol):
    """One channel kind's part of filing: how its items thread and what they write."""

    def batch(
        self, session: Session, settings: Settings, channel_ids: set[int], items: Sequence[Any]
    ) -> FilingBatch: ...

    def plainly_new(self, settings: Settings, channel: Channel, item: Any, batch: Any) -> bool:
        """Whether the item may be filed in bulk with others like it: one that can only open
        a new ticket (mail, chat), or, for direct messages, also the next message of a
        conversation whose ticket takes it as it is. Asked in item order."""
        ...

    def file_new(
        self,
        session: Session,
        settings: Settings,
        blobs: BlobStore,
        channel: Channel,
        items: Sequence[Any],
        batch: Any,
    ) -> dict[int, IngestOutcome]:
        """The items ``plainly_new`` let through, in a few statements; raises to have them
        filed one by one instead."""
        ...

    def file_one(
        self,
        session: Session,
        settings: Settings,
        blobs: BlobStore,
        row: InboundItem,
        item: Any,
        batch: Any,
    ) -> IngestOutcome: ...

    def file_anyway(
        self,
        session: Session,
        settings: Settings,
        blobs: BlobStore,
        channel: Channel,
        row: InboundItem,
    ) -> Ticket:
        """A new ticket from an item in the quarantine, on an agent's word: threaded nowhere,
        answered by nobody (``inbox.actions.inbound.set_aside``)."""
        ...


FILINGS: dict[str, KindFiling] = {
    ChannelKind.EMAIL: EmailFiling(),
    ChannelKind.CHAT: ChatFiling(),
    **{
        kind: SocialFiling()
        for kind in (
            ChannelKind.TELEGRAM,
            ChannelKind.MESSENGER,
            ChannelKind.INSTAGRAM,
            ChannelKind.WHATSAPP,
            ChannelKind.X,
        )
    },
}


@dataclass(frozen=True)
class FilingFailure:
    item_id: int
    error: Exception
    quarantined: bool


@dataclass
class FilingResult:
    outcomes: dict[int, IngestOutcome] = field(default_factory=dict)
    failures: list[FilingFailure] = field(default_factory=list)


def pending_batches(
    session: Session, item_ids: Sequence[int], *, max_bytes: int, max_items: int | None = None
) -> list[list[int]]:
    """The items still pending, in id order, cut into groups of about ``max_bytes`` stored
    bytes (an item bigger than that alone), and of ``max_items`` at most: what is read,
    parsed and filed together, so that a batch of big mails is never all in memory at once.
    Sizes come from the rows' ``size`` column; the bytes themselves are not read here."""
    groups: list[list[int]] = []
    total = 0
    for item_id, size, truncated in session.exec(
        select(InboundItem.id, InboundItem.size, InboundItem.truncated)
        .where(col(InboundItem.id).in_(item_ids), InboundItem.state == "pending")
        .order_by(col(InboundItem.id))
    ).all():
        cost = TRUNCATED_BYTES if truncated else size
        full = max_items is not None and groups and len(groups[-1]) >= max_items
        if not groups or total + cost > max_bytes or full:
            groups.append([])
            total = 0
        groups[-1].append(item_id or 0)
        total += cost
    return groups


def read_pending_raw(session: Session, item_ids: Sequence[int]) -> list[PendingRaw]:
    """The stored bytes of the items that are still pending, to be parsed before (and
    outside) the write transaction that files them."""
    item = table_of(InboundItem).c
    rows = session.execute(
        sql_select(item.id, table_of(Channel).c.kind, item.raw, item.size, item.truncated)
        .join_from(table_of(InboundItem), table_of(Channel))
        .where(item.id.in_(item_ids), item.state == "pending")
        .order_by(item.id)
    ).all()
    return [
        PendingRaw(item_id or 0, kind, raw, size, truncated)
        for item_id, kind, raw, size, truncated in rows
    ]


def process_inbound_item(
    session: Session, settings: Settings, blobs: BlobStore, item_id: int
) -> IngestOutcome:
    """Parse and file one item in the caller's transaction; errors propagate to the caller."""
    row = session.get(InboundItem, item_id, with_for_update=True, populate_existing=True)
    if row is None or row.state != "pending":
        return IngestOutcome(state=row.state if row else "missing")
    channel = session.get(Channel, row.channel_id)
    assert channel is not None
    item = read_pending(PendingRaw(item_id, channel.kind, row.raw, row.size, row.truncated))
    if item.error is not None:
        raise item.error
    kind = FILINGS[channel.kind]
    batch = kind.batch(session, settings, {row.channel_id}, [item])
    return kind.file_one(session, settings, blobs, row, item, batch)


def process_inbound_items(
    session: Session,
    settings: Settings,
    blobs: BlobStore,
    items: Sequence[Arrival],
    *,
    claimed: bool = False,
) -> FilingResult:
    """File already parsed items in one transaction.

    Plainly new items are filed in bulk per channel. Everything else, and plain items whose
    group failed, are filed one at a time, each in its own savepoint: an item that raises is
    rolled back alone and counted (``record_processing_failure``); the others are filed.
    Items no longer pending (another worker, an earlier run) are left alone, so running the
    same ids twice files nothing twice. ``claimed``: the caller counted this attempt of every
    item already (``claim_for_filing``).
    """
    result = FilingResult()
    channels_of = dict(
        session.exec(
            select(InboundItem.id, InboundItem.channel_id)
            .where(
                col(InboundItem.id).in_([i.item_id for i in items]),
                InboundItem.state == "pending",
            )
            .with_for_update()
        ).all()
    )
    pending = sorted((i for i in items if i.item_id in channels_of), key=lambda i: i.item_id)
    channels = {
        c.id or 0: c
        for c in session.exec(select(Channel).where(col(Channel.id).in_(set(channels_of.values()))))
    }
    kinds = {channel.kind for channel in channels.values()}
    batches = {
        kind: FILINGS[kind].batch(
            session,
            settings,
            {i for i, c in channels.items() if c.kind == kind},
            # Unread items (a reader's crash) are not the kind's to look at.
            [
                i
                for i in pending
                if i.error is None and channels[channels_of[i.item_id]].kind == kind
            ],
        )
        for kind in kinds
    }
    plain: dict[int, list[Arrival]] = {}
    one_by_one: list[Arrival] = []
    seen: set[tuple[int, str]] = set()
    for item in pending:
        channel = channels[channels_of[item.item_id]]
        kind, batch = FILINGS[channel.kind], batches[channel.kind]
        key = (channel.id or 0, item.external_id)
        # A second copy of one message in a batch is filed alone, as the duplicate it is.
        if (
            key not in seen
            and item.error is None
            and kind.plainly_new(settings, channel, item, batch)
        ):
            plain.setdefault(channel.id or 0, []).append(item)
        else:
            one_by_one.append(item)
        seen.add(key)
    for channel_id, group in plain.items():
        channel = channels[channel_id]
        kind, batch = FILINGS[channel.kind], batches[channel.kind]
        try:
            with savepoint(session):
                outcomes = kind.file_new(session, settings, blobs, channel, group, batch)
        except Exception:
            log.warning(
                "filing %d new items together failed; one at a time now", len(group), exc_info=True
            )
            one_by_one.extend(group)
            continue
        for item in group:
            batch.filed(channel_id, item, outcomes[item.item_id])
        result.outcomes.update(outcomes)
    for item in sorted(one_by_one, key=lambda i: i.item_id):
        channel = channels[channels_of[item.item_id]]
        kind, batch = FILINGS[channel.kind], batches[channel.kind]
        try:
            if item.error is not None:
                raise item.error
            with savepoint(session):
                row = session.get(InboundItem, item.item_id)
                assert row is not None
                outcome = kind.file_one(session, settings, blobs, row, item, batch)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            quarantined = record_processing_failure(session, item.item_id, error, claimed=claimed)
            result.failures.append(FilingFailure(item.item_id, exc, quarantined))
        else:
            batch.filed(channel.id or 0, item, outcome)
            result.outcomes[item.item_id] = outcome
    return result


def claim_for_filing(session: Session, item_ids: Sequence[int]) -> tuple[list[int], list[int]]:
    """Count an attempt for each pending item before it is read and filed, committed on its
    own, so that an item whose filing takes its worker down (killed for its memory, a crash
    in a library) is counted too. One that has used up its attempts is quarantined instead:
    (items to file, items quarantined)."""
    # The ids and counts alone: the rows carry the items' raw bytes, which this step needs not.
    rows = session.execute(
        sql_select(InboundItem.id, InboundItem.attempts)  # type: ignore[call-overload]
        .where(col(InboundItem.id).in_(item_ids), InboundItem.state == "pending")
        .order_by(col(InboundItem.id))
        .with_for_update()
    ).all()
    claimed = [item_id for item_id, attempts in rows if attempts < MAX_PROCESS_ATTEMPTS]
    quarantined: list[int] = []
    if claimed:
        session.execute(
            update(InboundItem)
            .where(col(InboundItem.id).in_(claimed))
            .values(attempts=InboundItem.attempts + 1)
        )
    for item_id, attempts in rows:
        if attempts >= MAX_PROCESS_ATTEMPTS:
            reason = f"processing failed or stopped its worker {attempts} times"
            session.execute(
                update(InboundItem)
                .where(col(InboundItem.id) == item_id)
                .values(state="quarantined", reason=reason, processed_at=utcnow(), lease_until=None)
            )
            quarantined.append(item_id)
    return claimed, quarantined


def record_processing_failure(
    session: Session, item_id: int, error: str, *, claimed: bool = False
) -> bool:
    """Count a crash while processing (unless ``claim_for_filing`` counted the attempt
    already); quarantine after a few. True when quarantined."""
    item = session.get(InboundItem, item_id, with_for_update=True)
    if item is None or item.state != "pending":
        return False
    if not claimed:
        item.attempts += 1
    if item.attempts >= MAX_PROCESS_ATTEMPTS:
        finish_item(
            session, item, "quarantined", f"processing failed {item.attempts} times: {error}"
        )
        return True
    session.add(item)
    return False
