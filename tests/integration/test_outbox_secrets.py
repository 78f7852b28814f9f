"""Secrets in the outbox: one-time sign-in codes, account verification codes and password-reset
links wait there encrypted, and are wiped once sent or expired. The tables are read as
whoever gets hold of a copy of the database reads them: with SQL, without the desk's key."""

from __future__ import annotations

import re
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, cast

from sqlalchemy import MetaData, text, update
from sqlalchemy import select as table_rows
from sqlmodel import col, select

from inbox.actions.directory import EmbeddedDirectory, add_directory_account
from inbox.actions.outbox import wipe_expired_secrets
from inbox.actions.signin.password_reset import request_password_reset
from inbox.actions.signin.two_factor import send_sign_in_code
from inbox.db import Database
from inbox.models import Agent, Outbox, utcnow
from inbox.settings import Settings
from tests.support.apps import app_for
from tests.support.desk import make_agent, make_channel, new_ticket, outbox_mail
from tests.support.smtp_peer import SmtpPeer
from workers.actors import deliver_outbox_items
from workers.scheduler import run_due_work

SECRET_KINDS = ("sign_in_code", "account_code", "password_reset")


def _queue_every_kind_of_secret(db: Database, settings: Settings) -> None:
    """A sign-in code and a reset link for an agent, a verification code for a customer."""
    make_agent(db, "manager@example.com", role="manager", name="Max")
    with db.unit_of_work() as session:
        add_directory_account(
            session,
            account_id="acc-1",
            name="Maria",
            email="maria@example.org",
            phone=None,
            status="locked",
        )
        manager = session.exec(select(Agent).where(Agent.email == "manager@example.com")).one()
        assert send_sign_in_code(session, settings, manager)
        request_password_reset(
            session, settings, email="manager@example.com", address="203.0.113.9"
        )
    EmbeddedDirectory(db, settings).send_code("acc-1")


def _raw_rows(db: Database) -> list[dict[str, Any]]:
    """The outbox rows of secret kinds as stored: every column, read with plain SQL."""
    with db.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT * FROM outbox"
                " WHERE kind IN ('sign_in_code', 'account_code', 'password_reset')"
            )
        ).mappings()
        return [dict(row) for row in rows]


def _stored_text(db: Database) -> str:
    """Everything every table holds, as text."""
    parts: list[str] = []
    tables = MetaData()
    with db.engine.connect() as connection:
        tables.reflect(connection)
        for table in tables.sorted_tables:
            for row in connection.execute(table_rows(table)):
                for value in row:
                    parts.append(
                        value.decode("latin-1") if isinstance(value, bytes) else str(value)
                    )
    return "\n".join(parts)


def _mail(raw: bytes) -> EmailMessage:
    return cast(EmailMessage, message_from_bytes(raw, policy=policy.default))


def _secret_in(mail: EmailMessage) -> str:
    """The code or the reset link's token a mail carries."""
    body = mail.get_content()
    found = re.search(r"token=(\S+)", body) or re.search(r"\b(\d{6})\b", body)
    assert found, body
    return found.group(1)


def test_codes_and_reset_links_wait_encrypted_and_are_wiped_once_sent(
    db: Database, settings: Settings, smtp_peer: SmtpPeer
) -> None:
    make_channel(db, settings, smtp_url=smtp_peer.smtp_url())
    _queue_every_kind_of_secret(db, settings)

    stored = _raw_rows(db)
    assert sorted(row["kind"] for row in stored) == sorted(SECRET_KINDS)
    with db.reading() as session:
        rows = session.exec(select(Outbox).where(col(Outbox.kind).in_(SECRET_KINDS))).all()
        secrets = {row.kind: _secret_in(_mail(outbox_mail(settings, row))) for row in rows}
    everything = _stored_text(db)
    for row in stored:
        payload = bytes(row["payload"])
        assert secrets[row["kind"]].encode() not in payload
        for phrase in (b"Subject:", b"verification code", b"sign-in code", b"/password/reset"):
            assert phrase not in payload, (row["kind"], phrase)
    # The reset link's token is long enough to look for anywhere: no table holds it.
    assert secrets["password_reset"] not in everything

    app_for(settings)  # the worker's runtime: this desk's database and key
    deliver_outbox_items([row["id"] for row in stored])

    received = smtp_peer.wait_for(3)
    assert sorted(_secret_in(r.message) for r in received) == sorted(secrets.values())
    for row in _raw_rows(db):
        assert row["state"] == "sent" and row["wiped_at"] is not None
        assert bytes(row["payload"]) == b""


def test_a_secret_that_expires_unsent_is_wiped_by_the_scheduler_and_never_sent(
    db: Database, settings: Settings, smtp_peer: SmtpPeer
) -> None:
    make_channel(db, settings, smtp_url=smtp_peer.smtp_url())
    _queue_every_kind_of_secret(db, settings)
    with db.unit_of_work() as session:  # the SMTP server was away until after they expired
        session.execute(
            update(Outbox)
            .where(col(Outbox.kind).in_(SECRET_KINDS))
            .values(secret_expires_at=utcnow() - timedelta(seconds=1))
        )

    rt = app_for(settings)[1]
    run_due_work(rt)  # one pass of the scheduler

    stored = _raw_rows(db)
    assert len(stored) == 3
    for row in stored:
        assert bytes(row["payload"]) == b"" and row["wiped_at"] is not None
        assert row["state"] == "failed" and "expired" in row["last_error"]
    deliver_outbox_items([row["id"] for row in stored])  # a job still in the broker
    assert smtp_peer.attempts == 0
    with db.unit_of_work() as session:
        assert wipe_expired_secrets(session) == 0  # once is enough


def test_mail_that_carries_no_secret_is_neither_sealed_nor_wiped(
    db: Database, settings: Settings, smtp_peer: SmtpPeer
) -> None:
    channel_id = make_channel(db, settings, smtp_url=smtp_peer.smtp_url())
    new_ticket(db, settings, channel_id, subject="Card declined")  # acknowledged by mail
    with db.reading() as session:
        ack = session.exec(select(Outbox).where(Outbox.kind == "acknowledgement")).one()
    assert ack.secret_expires_at is None and b"Card declined" in ack.payload
    app_for(settings)
    deliver_outbox_items([ack.id or 0])
    smtp_peer.wait_for(1)
    with db.reading() as session:
        sent = session.get(Outbox, ack.id)
        assert sent is not None and sent.state == "sent" and sent.payload == ack.payload
