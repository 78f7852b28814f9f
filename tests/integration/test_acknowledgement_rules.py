"""Who gets no acknowledgement: senders who ask for none and addresses nobody reads. Their
mail is still filed as a ticket like any other."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from inbox.db import Database
from inbox.models import Message, Outbox, Ticket
from inbox.settings import Settings
from tests.support.desk import ingest, ingest_batch, mail, make_channel
from workers.parsing import InboundParser

NOT_ANSWERED = [
    pytest.param({"X-Auto-Response-Suppress": "All"}, "Ana <ana@example.org>", id="suppress All"),
    pytest.param(
        {"X-Auto-Response-Suppress": "DR, OOF, AutoReply"},
        "Ana <ana@example.org>",
        id="suppress AutoReply",
    ),
    pytest.param({}, "Shop <noreply@shop.example>", id="noreply"),
    pytest.param({}, "Bank <No-Reply@bank.example>", id="no-reply"),
    pytest.param({}, "Bank <no-reply+alerts@bank.example>", id="tagged no-reply"),
    pytest.param({}, "MAILER-DAEMON@mx.example.net", id="mailer-daemon"),
    pytest.param({}, "postmaster@example.net", id="postmaster"),
]


def _counts(db: Database) -> tuple[int, int, int]:
    """(tickets, inbound messages, acknowledgements)"""
    with db.reading() as session:
        tickets = session.exec(select(func.count()).select_from(Ticket)).one()
        inbound = session.exec(
            select(func.count()).select_from(Message).where(Message.direction == "inbound")
        ).one()
        acks = session.exec(
            select(func.count()).select_from(Outbox).where(Outbox.kind == "acknowledgement")
        ).one()
    return int(tickets), int(inbound), int(acks)


def _mail(headers: dict[str, str], sender: str) -> bytes:
    # A return path, as a real sender's mail has: without one, mail from a mailer daemon is
    # read as a bounce.
    return mail(sender=sender, headers={"Return-Path": "<bounces@example.net>", **headers})


@pytest.mark.parametrize(("headers", "sender"), NOT_ANSWERED)
def test_no_acknowledgement_but_a_ticket(
    db: Database, settings: Settings, headers: dict[str, str], sender: str
) -> None:
    channel = make_channel(db, settings)
    outcome = ingest(db, settings, channel, _mail(headers, sender))

    assert outcome.new_ticket and not outcome.acknowledged
    assert _counts(db) == (1, 1, 0)


@pytest.mark.parametrize(("headers", "sender"), NOT_ANSWERED)
def test_no_acknowledgement_from_a_batch_either(
    db: Database, settings: Settings, headers: dict[str, str], sender: str
) -> None:
    channel = make_channel(db, settings)
    parser = InboundParser(0)
    try:
        ids, result = ingest_batch(db, settings, channel, [_mail(headers, sender)], parser)
    finally:
        parser.close()

    assert result.outcomes[ids[0]].new_ticket
    assert _counts(db) == (1, 1, 0)


@pytest.mark.parametrize(
    ("headers", "sender"),
    [
        pytest.param({"X-Auto-Response-Suppress": "DR, RN, NRN"}, "Ana <ana@example.org>"),
        pytest.param({"X-Auto-Response-Suppress": "None"}, "Ana <ana@example.org>"),
        pytest.param({}, "Noreen Replyson <noreen.reply@example.org>"),
    ],
)
def test_people_and_other_suppressions_are_still_acknowledged(
    db: Database, settings: Settings, headers: dict[str, str], sender: str
) -> None:
    channel = make_channel(db, settings)
    assert ingest(db, settings, channel, _mail(headers, sender)).acknowledged
    assert _counts(db) == (1, 1, 1)
