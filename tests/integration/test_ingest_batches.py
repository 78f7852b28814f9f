"""Filing a worker's batch of mail: plainly new mail goes in together, the rest one by one,
and either way every mail lands exactly where it would have landed alone."""

from __future__ import annotations

import itertools
import os
import signal
from collections.abc import Iterator

import pytest
from sqlmodel import col, func, select

from inbox.actions.inbound import email as email_filing
from inbox.actions.tickets import open_ticket
from inbox.db import Database
from inbox.models import Attachment, Customer, InboundItem, Message, Outbox, Ticket
from inbox.rules.references import new_reference
from inbox.settings import Settings, load_settings
from tests.support.desk import ingest, ingest_batch, mail, make_agent, make_channel
from tests.support.web import Client, api_references
from workers.parsing import InboundParser


@pytest.fixture
def parser() -> Iterator[InboundParser]:
    pool = InboundParser(1)
    yield pool
    pool.close()


def _count(db: Database, model: type, *where: object) -> int:
    with db.reading() as session:
        return int(session.exec(select(func.count()).select_from(model).where(*where)).one())


def _states(db: Database, ids: list[int]) -> list[str]:
    with db.reading() as session:
        items = session.exec(
            select(InboundItem).where(col(InboundItem.id).in_(ids)).order_by(col(InboundItem.id))
        ).all()
        return [item.state for item in items]


def test_a_mixed_batch_files_every_mail_as_it_would_alone(
    db: Database, settings: Settings, parser: InboundParser
) -> None:
    channel = make_channel(db, settings)
    earlier = ingest(db, settings, channel, mail(sender="Old Customer <old@example.org>"))
    with db.reading() as session:
        earlier_id = session.exec(
            select(Message.external_id).where(Message.direction == "inbound")
        ).one()
    duplicate = mail(sender="Ana <ana@example.org>", subject="Card declined")
    raws = [
        duplicate,
        mail(sender="Ana <ana@example.org>", subject="Also: refund"),  # same sender again
        duplicate,  # the same mail read twice
        mail(sender="Old Customer <old@example.org>", headers={"In-Reply-To": f"<{earlier_id}>"}),
        mail(sender="Ben <ben@example.org>", subject="Statement"),
        b"\x00\x01 not a mail at all",
        mail(sender="support@example.com", subject="our own address"),
    ]
    ids, result = ingest_batch(db, settings, channel, raws, parser)

    assert _states(db, ids) == [
        "done",
        "done",
        "duplicate",
        "done",
        "done",
        "quarantined",
        "ignored",
    ]
    outcomes = [result.outcomes[i] for i in ids]
    assert [o.new_ticket for o in outcomes[:5]] == [True, True, False, False, True]
    assert outcomes[3].ticket_reference == earlier.ticket_reference  # the reply joined
    assert not result.failures
    with db.reading() as session:
        references = session.exec(select(Ticket.reference)).all()
        customers = session.exec(select(Customer.name)).all()
    assert sorted(customers) == ["Ana", "Ben", "Old Customer"]  # Ana once, not twice
    assert len(set(references)) == 4
    # One acknowledgement per new ticket, none for the reply or the ignored mail.
    assert _count(db, Outbox, Outbox.kind == "acknowledgement") == 1 + 3


def test_the_cap_on_automatic_answers_counts_within_a_batch(
    env: dict[str, str], parser: InboundParser
) -> None:
    settings = load_settings({**env, "INBOX_AUTO_REPLY_LIMIT": "2"})
    db = Database(settings.database_url)
    try:
        channel = make_channel(db, settings)
        raws = [mail(sender="Flood <flood@example.org>", subject=f"try {n}") for n in range(5)]
        ids, result = ingest_batch(db, settings, channel, raws, parser)
        assert [result.outcomes[i].acknowledged for i in ids] == [True, True, False, False, False]
        # Each mail's ticket, message and acknowledgement belong together.
        with db.reading() as session:
            for n, item_id in enumerate(ids):
                ticket = session.exec(
                    select(Ticket).where(
                        Ticket.reference == result.outcomes[item_id].ticket_reference
                    )
                ).one()
                subjects = session.exec(
                    select(Message.subject).where(Message.ticket_id == ticket.id)
                ).all()
                assert ticket.subject == f"try {n}"
                assert sorted(subjects)[-1] == f"try {n}"
                if n < 2:
                    assert sorted(subjects)[0] == f"[{ticket.reference}] try {n}"
        # The cap holds across batches too.
        more, later = ingest_batch(db, settings, channel, raws[:1], parser)
        assert later.outcomes[more[0]].state == "duplicate"
        more, later = ingest_batch(
            db, settings, channel, [mail(sender="flood@example.org")], parser
        )
        assert not later.outcomes[more[0]].acknowledged
    finally:
        db.dispose()


def test_attachments_and_bodies_are_kept_when_filed_together(
    db: Database, settings: Settings, parser: InboundParser
) -> None:
    from email.message import EmailMessage

    channel = make_channel(db, settings)
    message = EmailMessage()
    message["From"] = "Ben <ben@example.org>"
    message["To"] = "support@example.com"
    message["Subject"] = "Statement attached"
    message.set_content("Please see the statement.")
    message.add_attachment(
        b"%PDF-1.4 fake", maintype="application", subtype="pdf", filename="s.pdf"
    )
    ids, result = ingest_batch(db, settings, channel, [message.as_bytes(), mail()], parser)
    assert all(result.outcomes[i].new_ticket for i in ids)
    with db.reading() as session:
        attachment = session.exec(select(Attachment)).one()
        body = session.exec(
            select(Message.display_text).where(Message.subject == "Statement attached")
        ).one()
    assert (attachment.filename, attachment.content_type) == ("s.pdf", "application/pdf")
    assert "Please see the statement." in body


def test_mail_filed_together_is_found_by_search(
    client: Client, db: Database, settings: Settings, parser: InboundParser
) -> None:
    """A ticket filed with its first message is indexed with that message: its reference,
    subject, sender's name and address and the message's words all find it; and a ticket
    opened without a message (an agent's note on a call) is found by its subject."""
    channel = make_channel(db, settings)
    raws = [
        mail(sender="Ingrid Haddad <ingrid@example.org>", subject="Chargeback", body="Kiwi"),
        mail(sender="Rahul Novak <rahul@example.org>", subject="Statement", body="Mango"),
    ]
    ids, result = ingest_batch(db, settings, channel, raws, parser)
    first, second = (result.outcomes[i].ticket_reference for i in ids)
    token = make_agent(db, "searcher@example.com", role="admin")[1]

    def found(q: str) -> list[str]:
        return api_references(client, token, q=q)

    for q in ("kiwi", "chargeback", "haddad", "ingrid@example.org", first or ""):
        assert found(q) == [first], q
    assert found("mango novak") == [second]
    with db.unit_of_work() as session:
        opened = open_ticket(
            session,
            prefix=settings.reference_prefix,
            subject="Phone: papaya",
            customer_id=session.exec(select(Customer.id)).first() or 0,
            contact_identity_id=None,
            channel_id=None,
            channel_kind="phone",
        )
        reference = opened.reference
    assert found("papaya") == [reference]


def test_a_batch_that_cannot_go_in_together_is_filed_one_by_one(
    db: Database, settings: Settings, parser: InboundParser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reference collision makes the multi-row insert fail: nothing is lost, the mails are
    filed one at a time (drawing fresh references) and each still gets its ticket."""
    channel = make_channel(db, settings)
    taken = ingest(db, settings, channel, mail(sender="first@example.org")).ticket_reference
    assert taken
    draws = itertools.chain([taken], iter(lambda: new_reference(settings.reference_prefix), None))
    monkeypatch.setattr(email_filing, "new_reference", lambda prefix: next(draws))
    raws = [mail(sender=f"c{n}@example.org", subject=f"case {n}") for n in range(3)]
    ids, result = ingest_batch(db, settings, channel, raws, parser)
    assert _states(db, ids) == ["done"] * 3 and not result.failures
    assert len({result.outcomes[i].ticket_reference for i in ids} | {taken}) == 4
    assert _count(db, Outbox, Outbox.kind == "acknowledgement") == 4


def test_a_parser_process_that_dies_costs_its_batch_one_attempt(
    db: Database, settings: Settings, parser: InboundParser
) -> None:
    """Killed by the kernel (out of memory, say): the batch counts a failure and stays
    pending for its retry; the next batch gets a new parser process."""
    channel = make_channel(db, settings)
    pool = parser._get_pool()
    list(pool.map(abs, [1]))  # the process exists now
    for pid in list(pool._processes):  # type: ignore[attr-defined]
        os.kill(pid, signal.SIGKILL)
    ids, result = ingest_batch(db, settings, channel, [mail(), mail()], parser)
    assert sorted(f.item_id for f in result.failures) == ids
    with db.reading() as session:
        items = session.exec(select(InboundItem).where(col(InboundItem.id).in_(ids))).all()
    assert {(item.state, item.attempts) for item in items} == {("pending", 1)}
    again, later = ingest_batch(db, settings, channel, [mail(sender="next@example.org")], parser)
    assert later.outcomes[again[0]].new_ticket


def test_closing_stops_the_parser_processes_even_one_still_starting() -> None:
    """A desk told to stop does not wait for a parser process to finish importing (seconds
    on a busy machine): its processes are ended, not waited for."""
    pool = InboundParser(1)
    pool.start()  # spawned, and importing
    processes = list(pool._get_pool()._processes.values())  # type: ignore[attr-defined]
    assert processes
    pool.close()
    assert [p.exitcode for p in processes] == [-signal.SIGTERM]
