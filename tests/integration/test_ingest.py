"""Ingestion as an agent sees it: which ticket a mail lands on, and who gets an automatic answer."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default as default_policy

from sqlmodel import col, select

from inbox.actions.replies import reply_to_customer
from inbox.db import Database
from inbox.models import (
    Customer,
    CustomerIdentity,
    InboundItem,
    Message,
    Outbox,
    Ticket,
    TicketLink,
)
from inbox.queries.tickets import find_ticket
from inbox.settings import Settings
from tests.support.desk import agent_by_email, ingest, mail, make_agent, make_channel


def _acks(db: Database) -> list[Outbox]:
    with db.reading() as session:
        return list(session.exec(select(Outbox).where(Outbox.kind == "acknowledgement")).all())


def _ticket(db: Database, reference: str | None) -> Ticket:
    assert reference
    with db.reading() as session:
        return session.exec(select(Ticket).where(Ticket.reference == reference)).one()


def _ack_mail(db: Database) -> tuple[str, str, str]:
    """(Message-ID, Reply-To, Subject) of the newest acknowledgement."""
    parsed = message_from_bytes(_acks(db)[-1].payload, policy=default_policy)
    return (
        str(parsed["Message-ID"]).strip("<>"),
        str(parsed["Reply-To"]),
        str(parsed["Subject"]),
    )


def test_new_mail_opens_ticket_with_customer_identity_and_acknowledgement(
    db: Database, settings: Settings
) -> None:
    channel = make_channel(db, settings)
    outcome = ingest(db, settings, channel, mail(subject="Locked out", body="Help me please"))

    assert outcome.new_ticket and outcome.acknowledged
    ticket = _ticket(db, outcome.ticket_reference)
    with db.reading() as session:
        customer = session.get(Customer, ticket.customer_id)
        identity = session.exec(select(CustomerIdentity)).one()
        message = session.exec(select(Message).where(Message.direction == "inbound")).one()
    assert customer is not None and customer.name == "Maria Lopez"
    assert (identity.kind, identity.value) == ("email", "maria@example.org")
    assert message.thread_reason == "new_ticket"
    assert "Help me please" in message.body_text
    ack = message_from_bytes(_acks(db)[0].payload, policy=default_policy)
    assert ack["Subject"] == f"[{ticket.reference}] Locked out"
    assert ticket.reference in ack.get_content()
    assert ack["Auto-Submitted"] == "auto-replied"
    assert str(ack["To"]).endswith("<maria@example.org>")


def test_reply_to_acknowledgement_joins_ticket_by_reply_token(
    db: Database, settings: Settings
) -> None:
    channel = make_channel(db, settings)
    first = ingest(db, settings, channel, mail())
    _msgid, reply_to, subject = _ack_mail(db)
    reply_to_address = reply_to.split("<")[-1].rstrip(">")

    second = ingest(db, settings, channel, mail(to=reply_to_address, subject="Re: " + subject))

    assert second.ticket_reference == first.ticket_reference and not second.new_ticket
    with db.reading() as session:
        reasons = session.exec(
            select(Message.thread_reason).where(Message.direction == "inbound")
        ).all()
    assert list(reasons) == ["new_ticket", "reply_token"]
    assert len(_acks(db)) == 1


def test_reply_to_a_merged_ticket_goes_where_the_conversation_went(
    db: Database, settings: Settings
) -> None:
    from inbox.actions.merge import merge_tickets

    channel = make_channel(db, settings)
    source = ingest(db, settings, channel, mail(subject="Card stolen"))
    _msgid, reply_to, subject = _ack_mail(db)
    target = ingest(db, settings, channel, mail(subject="Also: card stolen"))
    make_agent(db, "agent@example.com")
    with db.unit_of_work() as session:
        tickets = {
            t.reference: t
            for t in session.exec(
                select(Ticket).where(
                    col(Ticket.reference).in_([source.ticket_reference, target.ticket_reference])
                )
            ).all()
        }
        merge_tickets(
            session,
            actor=session.merge(agent_by_email(db, "agent@example.com")),
            source=tickets[source.ticket_reference or ""],
            target=tickets[target.ticket_reference or ""],
        )
    reply_to_address = reply_to.split("<")[-1].rstrip(">")

    reply = ingest(db, settings, channel, mail(to=reply_to_address, subject="Re: " + subject))

    assert reply.ticket_reference == target.ticket_reference and not reply.new_ticket
    assert _ticket(db, source.ticket_reference).status_category == "closed"


def test_reply_with_in_reply_to_joins_ticket_by_signed_message_id(
    db: Database, settings: Settings
) -> None:
    channel = make_channel(db, settings)
    first = ingest(db, settings, channel, mail())
    msgid, _reply_to, _subject = _ack_mail(db)

    second = ingest(
        db, settings, channel, mail(subject="thanks", headers={"In-Reply-To": f"<{msgid}>"})
    )

    assert second.ticket_reference == first.ticket_reference
    with db.reading() as session:
        last = session.exec(select(Message).order_by(col(Message.id).desc())).first()
    assert last is not None and last.thread_reason == "message_id"


def test_subject_tag_from_the_customer_joins_the_ticket(db: Database, settings: Settings) -> None:
    channel = make_channel(db, settings)
    first = ingest(db, settings, channel, mail())
    second = ingest(
        db, settings, channel, mail(subject=f"Re: [{first.ticket_reference}] Locked out")
    )
    assert second.ticket_reference == first.ticket_reference
    with db.reading() as session:
        last = session.exec(select(Message).order_by(col(Message.id).desc())).first()
    assert last is not None and last.thread_reason == "subject_tag"


def test_stranger_quoting_a_reference_gets_a_new_linked_ticket(
    db: Database, settings: Settings
) -> None:
    channel = make_channel(db, settings)
    victim = ingest(db, settings, channel, mail())
    attack = ingest(
        db,
        settings,
        channel,
        mail(
            sender="Mallory <mallory@evil.test>", subject=f"[{victim.ticket_reference}] unlock it"
        ),
    )

    assert attack.new_ticket and attack.ticket_reference != victim.ticket_reference
    new_ticket = _ticket(db, attack.ticket_reference)
    old_ticket = _ticket(db, victim.ticket_reference)
    with db.reading() as session:
        link = session.exec(select(TicketLink)).one()
        on_old = session.exec(select(Message).where(Message.ticket_id == old_ticket.id)).all()
    assert (link.ticket_id, link.other_ticket_id, link.kind) == (
        new_ticket.id,
        old_ticket.id,
        "possible_followup",
    )
    assert all("mallory" not in m.author_label for m in on_old)


def test_same_mail_read_twice_is_stored_once(db: Database, settings: Settings) -> None:
    channel = make_channel(db, settings)
    raw = mail()
    first = ingest(db, settings, channel, raw)
    again = ingest(db, settings, channel, raw)
    assert first.state == "done" and again.state == "duplicate"
    with db.reading() as session:
        assert len(session.exec(select(Message).where(Message.direction == "inbound")).all()) == 1


def test_mail_without_message_id_delivered_twice_is_stored_once(
    db: Database, settings: Settings
) -> None:
    channel = make_channel(db, settings)
    raw = mail(message_id=None)
    assert ingest(db, settings, channel, raw).state == "done"
    assert ingest(db, settings, channel, raw).state == "duplicate"


def test_no_acknowledgement_to_automatic_bulk_or_list_mail(
    db: Database, settings: Settings
) -> None:
    channel = make_channel(db, settings)
    for number, headers in enumerate(
        [
            {"Auto-Submitted": "auto-replied"},
            {"Precedence": "bulk"},
            {"List-Id": "<news.example.org>"},
            {"X-Autoreply": "yes"},
        ]
    ):
        outcome = ingest(
            db, settings, channel, mail(sender=f"robot{number}@example.org", headers=headers)
        )
        assert outcome.new_ticket and not outcome.acknowledged
    assert _acks(db) == []


def test_our_own_mail_coming_back_is_ignored(db: Database, settings: Settings) -> None:
    channel = make_channel(db, settings)
    ingest(db, settings, channel, mail())
    ack = _acks(db)[0].payload
    outcome = ingest(db, settings, channel, ack)
    assert outcome.state == "ignored"
    assert len(_acks(db)) == 1


def test_acknowledgements_per_sender_are_capped(db: Database, settings: Settings) -> None:
    channel = make_channel(db, settings)
    outcomes = [
        ingest(db, settings, channel, mail(subject=f"mail {n}"))
        for n in range(settings.auto_reply_limit + 3)
    ]
    assert all(o.new_ticket for o in outcomes)
    assert len(_acks(db)) == settings.auto_reply_limit


def test_acknowledgement_echoes_no_links_from_a_stranger(db: Database, settings: Settings) -> None:
    channel = make_channel(db, settings)
    ingest(
        db,
        settings,
        channel,
        mail(
            subject="Verify at https://evil.example/login now",
            body="Click http://evil.example/reset to reset",
        ),
    )
    payload = _acks(db)[0].payload.decode()
    assert "evil.example" not in payload


def test_bounce_marks_address_undeliverable_and_fails_the_reply(
    db: Database, settings: Settings
) -> None:
    channel = make_channel(db, settings)
    make_agent(db)
    first = ingest(db, settings, channel, mail())
    agent = agent_by_email(db, "agent@example.com")
    with db.unit_of_work() as session:
        ticket = find_ticket(session, first.ticket_reference or "", settings.reference_prefix)
        reply = reply_to_customer(
            session, settings, ticket=ticket, author=agent, body="Try again now"
        )
        reply_id = reply.external_id
    dsn = _dsn(recipient="maria@example.org", original_message_id=reply_id or "")
    outcome = ingest(db, settings, channel, dsn)
    assert outcome.state == "done" and not outcome.new_ticket
    with db.reading() as session:
        identity = session.exec(select(CustomerIdentity)).one()
        message = session.exec(select(Message).where(Message.external_id == reply_id)).one()
        tickets = session.exec(select(Ticket)).all()
    assert identity.undeliverable_at is not None
    assert message.delivery == "failed"
    assert len(tickets) == 1


def test_unparseable_input_is_quarantined_and_kept_raw(db: Database, settings: Settings) -> None:
    channel = make_channel(db, settings)
    garbage = b"\x00\x01\x02" * 500
    outcome = ingest(db, settings, channel, garbage)
    assert outcome.state == "quarantined"
    with db.reading() as session:
        item = session.exec(select(InboundItem)).one()
    assert item.raw == garbage


def _dsn(*, recipient: str, original_message_id: str) -> bytes:
    boundary = "dsn-boundary"
    return (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\r\n"
        "To: support@example.com\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "Message-ID: <bounce-1@mx.example.com>\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n'
        "\r\n"
        f"--{boundary}\r\n"
        "Content-Type: text/plain\r\n\r\n"
        "Your message could not be delivered.\r\n"
        f"--{boundary}\r\n"
        "Content-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.com\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\n"
        "Action: failed\r\n"
        "Status: 5.1.1\r\n\r\n"
        f"--{boundary}\r\n"
        "Content-Type: text/rfc822-headers\r\n\r\n"
        f"Message-ID: <{original_message_id}>\r\n"
        f"To: {recipient}\r\n"
        "Subject: Re: your request\r\n"
        f"--{boundary}--\r\n"
    ).encode()
