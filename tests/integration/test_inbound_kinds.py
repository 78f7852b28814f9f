"""A channel kind the desk does not ship goes through the inbound pipeline with nothing but its
reader and its filing registered: what live chat and the social channels will do."""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from sqlmodel import Session, col, select

from connectors.base import RawInbound
from inbox.actions.customers import resolve_customer
from inbox.actions.inbound import filing
from inbox.actions.inbound.items import IngestOutcome, finish_item
from inbox.actions.inbound.store import store_inbound
from inbox.actions.tickets import open_ticket
from inbox.blobs import BlobStore
from inbox.db import Database
from inbox.models import Channel, InboundItem, Message, Ticket
from inbox.models.kinds import Direction, MessageKind
from inbox.parsing import readers
from inbox.parsing.items import PendingRaw
from inbox.settings import Settings
from workers.filing import file_inbound
from workers.parsing import InboundParser
from workers.runtime import build_runtime

KIND = "pigeon"


@dataclass(frozen=True)
class Note:
    item_id: int
    external_id: str
    sender: str
    text: str
    error: None = None


def read_note(pending: PendingRaw) -> Note:
    body = json.loads(pending.raw)
    return Note(pending.item_id, body["id"], body["from"], body["text"])


class NoteBatch:
    def __init__(self) -> None:
        self.filed_ids: list[str] = []

    def filed(self, channel_id: int, item: Any, outcome: IngestOutcome) -> None:
        self.filed_ids.append(item.external_id)


class NoteFiling:
    """Every note opens a ticket of its own, one at a time."""

    def batch(
        self, session: Session, settings: Settings, channel_ids: set[int], items: Sequence[Any]
    ) -> NoteBatch:
        return NoteBatch()

    def plainly_new(self, settings: Settings, channel: Channel, item: Any, batch: Any) -> bool:
        return False

    def file_new(self, *args: Any) -> dict[int, IngestOutcome]:
        raise AssertionError("never asked: no note is plainly new")

    def file_one(
        self,
        session: Session,
        settings: Settings,
        blobs: BlobStore,
        row: InboundItem,
        item: Note,
        batch: NoteBatch,
    ) -> IngestOutcome:
        customer, identity = resolve_customer(
            session, kind="email", value=item.sender, name=item.sender
        )
        ticket = open_ticket(
            session,
            prefix=settings.reference_prefix,
            subject=item.text[:40],
            customer_id=customer.id or 0,
            contact_identity_id=identity.id,
            channel_id=row.channel_id,
            channel_kind=KIND,
        )
        session.add(
            Message(
                ticket_id=ticket.id or 0,
                kind=MessageKind.SOCIAL,
                direction=Direction.INBOUND,
                identity_id=identity.id,
                external_id=item.external_id,
                body_text=item.text,
                display_text=item.text,
            )
        )
        finish_item(session, row, "done", "")
        return IngestOutcome("done", ticket.reference, new_ticket=True)


@pytest.fixture
def pigeons(monkeypatch: pytest.MonkeyPatch, db: Database) -> int:
    monkeypatch.setitem(readers.READERS, KIND, read_note)
    monkeypatch.setitem(filing.FILINGS, KIND, NoteFiling())
    with db.unit_of_work() as session:
        channel = Channel(kind=KIND, name="Pigeons")
        session.add(channel)
        session.flush()
        return channel.id or 0


def note(external_id: str, sender: str, text: str) -> bytes:
    return json.dumps({"id": external_id, "from": sender, "text": text}).encode()


def test_a_new_kind_is_stored_raw_then_filed_by_its_own_reader_and_filing(
    db: Database, settings: Settings, pigeons: int
) -> None:
    raws = [
        note("n1", "ana@example.org", "My card was declined"),
        note("n2", "ben@example.org", "Locked out"),
        b"not json at all",
    ]
    with db.unit_of_work() as session:
        ids = store_inbound(
            session, pigeons, [RawInbound(f"k{i}", raw, len(raw)) for i, raw in enumerate(raws)]
        )
    rt = build_runtime(settings, InboundParser(0))
    retried: list[int] = []

    outcomes = file_inbound(rt, ids, lambda again, *, delayed: retried.extend(again))

    assert sorted(o.state for o in outcomes.values()) == ["done", "done"]
    with db.reading() as session:
        tickets = session.exec(select(Ticket).order_by(col(Ticket.id))).all()
        assert [(t.subject, t.channel_kind) for t in tickets] == [
            ("My card was declined", KIND),
            ("Locked out", KIND),
        ]
        texts = session.exec(select(Message.body_text).order_by(col(Message.id))).all()
        assert list(texts) == ["My card was declined", "Locked out"]
        broken = session.get(InboundItem, ids[2])
        assert broken is not None and broken.state == "pending" and broken.attempts == 1
    assert retried == [ids[2]]  # the unreadable item failed alone, to be tried again


def test_an_item_of_a_kind_nobody_reads_fails_alone_and_is_quarantined_in_the_end(
    db: Database, settings: Settings, pigeons: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    with db.unit_of_work() as session:
        raw = note("n1", "a@example.org", "x")
        [item_id] = store_inbound(session, pigeons, [RawInbound("k1", raw, len(raw))])
    monkeypatch.delitem(readers.READERS, KIND)
    rt = build_runtime(settings, InboundParser(0))
    for _ in range(filing.MAX_PROCESS_ATTEMPTS):
        outcomes = file_inbound(rt, [item_id], lambda again, *, delayed: None)
    assert outcomes == {item_id: IngestOutcome("quarantined")}
    with db.reading() as session:
        item = session.get(InboundItem, item_id)
        assert item is not None and "no reader for 'pigeon' items" in item.reason


class DyingFiling(NoteFiling):
    """Takes its worker down, as the kernel does to a process that ran out of memory."""

    def file_one(self, *args: Any) -> IngestOutcome:
        os._exit(9)


def _file_and_die(settings: Settings, item_id: int) -> None:
    """In a process of its own: file the item with a filing that kills the process."""
    readers.READERS[KIND] = read_note
    filing.FILINGS[KIND] = DyingFiling()
    file_inbound(build_runtime(settings, InboundParser(0)), [item_id], lambda *a, **k: None)


def test_an_item_whose_filing_keeps_killing_its_worker_is_quarantined_in_the_end(
    db: Database, settings: Settings, pigeons: int
) -> None:
    with db.unit_of_work() as session:
        raw = note("n1", "a@example.org", "x")
        [item_id] = store_inbound(session, pigeons, [RawInbound("k1", raw, len(raw))])
    spawn = multiprocessing.get_context("spawn")
    for _ in range(filing.MAX_PROCESS_ATTEMPTS):
        worker = spawn.Process(target=_file_and_die, args=(settings, item_id))
        worker.start()
        worker.join(timeout=60)
        assert worker.exitcode == 9  # died while filing, leaving the item pending
    rt = build_runtime(settings, InboundParser(0))

    outcomes = file_inbound(rt, [item_id], lambda *a, **k: None)

    assert outcomes == {item_id: IngestOutcome("quarantined")}
    with db.reading() as session:
        item = session.get(InboundItem, item_id)
        assert item is not None and item.state == "quarantined"
        assert "stopped its worker 3 times" in item.reason
        assert session.exec(select(Ticket)).first() is None
