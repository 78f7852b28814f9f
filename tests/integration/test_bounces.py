"""Bounces: only one proven to concern a mail the desk sent marks an address undeliverable;
the mark shows in the customer panel, an agent can clear it, the customer clears it by
writing again; and a bounce read twice is filed once."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default as default_policy

from sqlmodel import col, select

from inbox.actions.email_out import send_automatic_email
from inbox.actions.replies import reply_to_customer
from inbox.db import Database
from inbox.models import AuditEvent, CustomerIdentity, InboundItem, Message, Outbox, Ticket
from inbox.models.kinds import MessageKind
from inbox.queries.tickets import find_ticket
from inbox.settings import Settings
from tests.support.bounces import delivery_report
from tests.support.desk import agent_by_email, ingest, mail, make_agent, make_channel
from tests.support.dovecot import DovecotServer
from tests.support.fixtures import MailboxUser
from tests.support.web import Client, csrf_token, sign_in
from workers.parsing import InboundParser
from workers.poll import poll_channels
from workers.runtime import build_runtime

MARIA = "maria@example.org"


def _identity(db: Database, address: str = MARIA) -> CustomerIdentity:
    with db.reading() as session:
        return session.exec(select(CustomerIdentity).where(CustomerIdentity.value == address)).one()


def _ack_headers(db: Database, to: str) -> tuple[str, str]:
    """(Message-ID, Reply-To address) of the acknowledgement sent to ``to``."""
    with db.reading() as session:
        payload = session.exec(
            select(Outbox.payload).where(Outbox.kind == "acknowledgement", Outbox.recipient == to)
        ).one()
    ack = message_from_bytes(payload, policy=default_policy)
    return str(ack["Message-ID"]).strip("<>"), str(ack["Reply-To"]).split("<")[-1].strip(">")


def _bounce_events(db: Database) -> list[Message]:
    with db.reading() as session:
        return list(
            session.exec(
                select(Message).where(
                    Message.kind == MessageKind.SYSTEM, col(Message.display_text).like("bounced%")
                )
            ).all()
        )


def _reply(db: Database, settings: Settings, reference: str) -> str:
    """An agent's reply on the ticket; returns its Message-ID."""
    agent = agent_by_email(db, "agent@example.com")
    with db.unit_of_work() as session:
        ticket = find_ticket(session, reference, settings.reference_prefix)
        return (
            reply_to_customer(session, settings, ticket=ticket, author=agent, body="Hi").external_id
            or ""
        )


def test_a_stranger_s_bounce_for_a_mail_the_desk_never_sent_marks_nothing(
    db: Database, settings: Settings
) -> None:
    channel = make_channel(db, settings)
    reference = ingest(db, settings, channel, mail()).ticket_reference or ""

    forged = delivery_report(recipient=MARIA, original_message_id="made-up-1@attacker.example")
    outcome = ingest(db, settings, channel, forged)

    assert outcome.state == "ignored"
    assert _identity(db).undeliverable_at is None
    with db.unit_of_work() as session:
        ticket = find_ticket(session, reference, settings.reference_prefix)
        assert send_automatic_email(session, settings, ticket=ticket, kind="reminder", body="?")


def test_a_bounce_with_the_desk_s_id_for_someone_else_marks_nobody_else(
    db: Database, settings: Settings
) -> None:
    """The attacker writes in, gets an acknowledgement (a signed Message-ID, a reply token),
    and forges a bounce of it that names the customer."""
    channel = make_channel(db, settings)
    ingest(db, settings, channel, mail())
    attacker = "mallory@attacker.example"
    ingest(db, settings, channel, mail(sender=f"Mallory <{attacker}>"))
    signed_id, token_address = _ack_headers(db, attacker)

    forged = delivery_report(recipient=MARIA, original_message_id=signed_id, reply_to=token_address)
    ingest(db, settings, channel, forged)

    assert _identity(db).undeliverable_at is None
    assert _identity(db, attacker).undeliverable_at is None


def test_a_bounce_of_a_reply_marks_the_address_and_fails_the_reply(
    db: Database, settings: Settings
) -> None:
    channel = make_channel(db, settings)
    make_agent(db)
    reference = ingest(db, settings, channel, mail()).ticket_reference or ""
    reply_id = _reply(db, settings, reference)

    outcome = ingest(
        db, settings, channel, delivery_report(recipient=MARIA, original_message_id=reply_id)
    )

    assert outcome.state == "done" and outcome.ticket_reference == reference
    identity = _identity(db)
    assert identity.undeliverable_at is not None
    assert identity.undeliverable_reason == f"mail on {reference} bounced"
    with db.reading() as session:
        reply = session.exec(select(Message).where(Message.external_id == reply_id)).one()
    assert reply.delivery == "failed"
    assert len(_bounce_events(db)) == 1


def test_a_bounce_proven_by_the_reply_token_alone_marks_the_address(
    db: Database, settings: Settings
) -> None:
    """A mail system that returns the headers with a rewritten Message-ID still keeps the
    Reply-To, with its signed ticket token."""
    channel = make_channel(db, settings)
    reference = ingest(db, settings, channel, mail()).ticket_reference or ""
    _signed_id, token_address = _ack_headers(db, MARIA)

    dsn = delivery_report(
        recipient=MARIA, original_message_id="rewritten@relay.example", reply_to=token_address
    )
    assert ingest(db, settings, channel, dsn).ticket_reference == reference
    assert _identity(db).undeliverable_at is not None


def test_the_mark_clears_when_the_customer_writes_again(db: Database, settings: Settings) -> None:
    channel = make_channel(db, settings)
    ingest(db, settings, channel, mail())
    signed_id, _ = _ack_headers(db, MARIA)
    ingest(db, settings, channel, delivery_report(recipient=MARIA, original_message_id=signed_id))
    assert _identity(db).undeliverable_at is not None

    again = ingest(db, settings, channel, mail(subject="I am still here"))

    assert _identity(db).undeliverable_at is None
    assert again.new_ticket and again.acknowledged


def test_an_agent_sees_the_mark_in_the_customer_panel_and_clears_it(
    db: Database, settings: Settings, client: Client
) -> None:
    channel = make_channel(db, settings)
    make_agent(db)
    reference = ingest(db, settings, channel, mail()).ticket_reference or ""
    reply_id = _reply(db, settings, reference)
    ingest(db, settings, channel, delivery_report(recipient=MARIA, original_message_id=reply_id))
    sign_in(client)

    panel = client.get(f"/tickets/{reference}/customer").text
    identity_id = _identity(db).id
    action = f"/tickets/{reference}/identities/{identity_id}/deliverable"
    assert "undeliverable since" in panel and f'action="{action}"' in panel

    cleared = client.post(action, data={"_csrf_token": csrf_token(panel)})

    assert cleared.status_code == 200
    assert "undeliverable" not in cleared.text
    assert _identity(db).undeliverable_at is None
    with db.reading() as session:
        audit = session.exec(
            select(AuditEvent).where(AuditEvent.action == "identity.undeliverable_cleared")
        ).one()
        agent = agent_by_email(db, "agent@example.com")
    assert audit.actor_agent_id == agent.id and audit.detail["address"] == MARIA
    assert audit.detail["ticket"] == reference


def test_an_agent_cannot_clear_an_address_of_another_customer(
    db: Database, settings: Settings, client: Client
) -> None:
    channel = make_channel(db, settings)
    make_agent(db)
    reference = ingest(db, settings, channel, mail()).ticket_reference or ""
    ingest(db, settings, channel, mail(sender="Ana <ana@example.org>"))
    other = _identity(db, "ana@example.org")
    sign_in(client)
    page = client.get(f"/tickets/{reference}").text

    refused = client.post(
        f"/tickets/{reference}/identities/{other.id}/deliverable",
        data={"_csrf_token": csrf_token(page)},
    )
    assert refused.status_code == 404


def test_a_bounce_read_again_after_the_mailbox_was_renumbered_is_filed_once(
    db: Database, settings: Settings
) -> None:
    """``ingest`` stores each copy under a new UID, as a re-read after a UIDVALIDITY change
    does."""
    channel = make_channel(db, settings)
    make_agent(db)
    reference = ingest(db, settings, channel, mail()).ticket_reference or ""
    dsn = delivery_report(recipient=MARIA, original_message_id=_reply(db, settings, reference))

    first = ingest(db, settings, channel, dsn)
    second = ingest(db, settings, channel, dsn)

    assert (first.state, second.state) == ("done", "duplicate")
    assert len(_bounce_events(db)) == 1
    with db.reading() as session:
        ticket = session.exec(select(Ticket).where(Ticket.reference == reference)).one()
        states = session.exec(select(InboundItem.state).order_by(col(InboundItem.id))).all()
    assert ticket.reference == reference
    assert list(states)[-2:] == ["done", "duplicate"]


def test_a_bounce_in_a_mailbox_whose_uidvalidity_changed_is_filed_once(
    db: Database, settings: Settings, dovecot: DovecotServer, mailbox_user: MailboxUser
) -> None:
    user, password = mailbox_user.user, mailbox_user.password
    make_channel(db, settings, imap_url=mailbox_user.imap_url)
    make_agent(db)
    dovecot.append(user, password, mail())
    _sync(settings)
    with db.reading() as session:
        reference = session.exec(select(Ticket.reference)).one()
    dovecot.append(
        user,
        password,
        delivery_report(recipient=MARIA, original_message_id=_reply(db, settings, reference)),
    )
    _sync(settings)
    assert len(_bounce_events(db)) == 1

    dovecot.reset_uidvalidity(user)
    _sync(settings)

    assert len(_bounce_events(db)) == 1
    with db.reading() as session:
        states = sorted(session.exec(select(InboundItem.state)).all())
    assert states == ["done", "done", "duplicate", "duplicate"]


def _sync(settings: Settings) -> None:
    """Read the mailbox and file what it stored, as ``inbox poll`` does."""
    rt = build_runtime(settings, InboundParser(0))
    try:
        poll_channels(rt)
    finally:
        rt.db.dispose()
