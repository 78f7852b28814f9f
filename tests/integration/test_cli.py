"""The ``inbox`` command line as an operator types it."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine
from sqlmodel import SQLModel, select

from inbox.db import Database
from inbox.migrate import include_object
from inbox.models import AuditEvent, Channel, Message, Ticket
from tests.support.desk import mail
from tests.support.dovecot import DovecotServer
from tests.support.fixtures import MailboxUser
from tests.support.processes import run_cli, run_cli_unchecked
from tests.support.smtp_peer import SmtpPeer


def test_migrations_match_the_models(db: Database) -> None:
    engine = create_engine(db.url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": include_object})
        diff = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    assert diff == []


def test_db_upgrade_is_repeatable(env: dict[str, str]) -> None:
    assert "up to date" in run_cli(env, "db", "upgrade")
    assert "up to date" in run_cli(env, "db", "upgrade")


def test_agent_create_token_and_unlock(env: dict[str, str], db: Database) -> None:
    out = run_cli(
        env,
        "agent",
        "create",
        "--email",
        "Ops@Example.com",
        "--name",
        "Ops",
        "--role",
        "admin",
        "--password-stdin",
        stdin="a sufficiently long passphrase\n",
    )
    assert "created admin ops@example.com" in out
    token = run_cli(env, "token", "create", "--agent", "ops@example.com").strip().splitlines()[-1]
    assert len(token) >= 40
    assert "unlocked ops@example.com" in run_cli(
        env, "agent", "unlock", "--email", "ops@example.com"
    )
    with db.reading() as session:
        actions = session.exec(select(AuditEvent.action)).all()
    assert {"agent.create", "token.create", "agent.unlock"} <= set(actions)


def test_weak_password_is_refused(env: dict[str, str]) -> None:
    result = run_cli_unchecked(
        env,
        "agent",
        "create",
        "--email",
        "a@example.com",
        "--name",
        "A",
        "--role",
        "agent",
        "--password-stdin",
        stdin="short\n",
    )
    assert result.returncode == 1 and "12 characters" in result.stderr


def test_channel_add_keeps_passwords_out_of_the_database_and_listing(
    env: dict[str, str], db: Database
) -> None:
    run_cli(
        env,
        "channel",
        "add-email",
        "--name",
        "Support",
        "--address",
        "help@example.com",
        "--imap",
        "imaps://help%40example.com:s3cret-imap@imap.example.com/INBOX",
        "--smtp",
        "smtp+starttls://help%40example.com:s3cret-smtp@smtp.example.com:587",
        "--folder",
        "Support Queue",
    )
    listing = run_cli(env, "channel", "list")
    assert "Support" in listing and "s3cret" not in listing
    with db.reading() as session:
        channel = session.exec(select(Channel)).one()
    stored = repr(channel.model_dump())
    assert "s3cret" not in stored
    assert channel.config["folder"] == "Support Queue"


def test_bad_mail_url_is_refused_without_echoing_it(env: dict[str, str]) -> None:
    result = run_cli_unchecked(
        env,
        "channel",
        "add-email",
        "--name",
        "X",
        "--address",
        "x@example.com",
        "--imap",
        "http://u:hunter2@host/",
        "--smtp",
        "smtp://h",
    )
    assert result.returncode == 1 and "hunter2" not in result.stderr + result.stdout


def test_poll_ingests_once_and_prints_what_it_did(
    env: dict[str, str],
    db: Database,
    dovecot: DovecotServer,
    mailbox_user: MailboxUser,
    smtp_peer: SmtpPeer,
) -> None:
    run_cli(
        env,
        "channel",
        "add-email",
        "--name",
        "Support",
        "--address",
        "support@example.test",
        "--imap",
        mailbox_user.imap_url,
        "--smtp",
        smtp_peer.smtp_url(),
    )
    dovecot.append_many(mailbox_user.user, mailbox_user.password, [mail(), mail(subject="two")])
    out = run_cli(env, "poll", "--channel", "Support")
    assert "Support: 2 new mails fetched; 2 new tickets" in out
    assert "Support: 0 new mails fetched; nothing to file" in run_cli(env, "poll")


def test_poll_files_a_backlog_in_batches_once_each_and_sets_aside_what_is_no_mail(
    env: dict[str, str],
    db: Database,
    dovecot: DovecotServer,
    mailbox_user: MailboxUser,
    smtp_peer: SmtpPeer,
) -> None:
    """More mail than one batch holds: every mail is filed once, a mail that arrives twice
    (same Message-ID, in another batch) is one message, and bytes that are no mail at all are
    set aside with their reason instead of stopping the pass."""
    # fmt: off
    run_cli(
        env, "channel", "add-email", "--name", "Support", "--address", "support@example.test",
        "--imap", mailbox_user.imap_url, "--smtp", smtp_peer.smtp_url(),
    )
    # fmt: on
    backlog = [mail(sender=f"Customer {n} <c{n}@example.org>", subject=f"n{n}") for n in range(230)]
    again = backlog[3]
    dovecot.append_many(
        mailbox_user.user, mailbox_user.password, [*backlog, again, b"\x00\xff not a mail"]
    )

    out = run_cli(env, "poll")

    assert "Support: 232 new mails fetched; 1 duplicate, 230 new tickets, 1 quarantined" in out
    with db.reading() as session:
        assert len(session.exec(select(Ticket)).all()) == 230
        inbound = session.exec(select(Message).where(Message.direction == "inbound")).all()
        assert len(inbound) == 230


def test_demo_fills_an_empty_desk_once(env: dict[str, str], db: Database) -> None:
    out = run_cli(env, "demo")
    assert "Sign in as admin@example.com" in out
    with db.reading() as session:
        tickets = session.exec(select(Ticket)).all()
        kinds = set(session.exec(select(Message.kind)).all())
    assert len(tickets) >= 5
    assert {"email", "chat", "social", "call_note", "internal_note"} <= kinds
    with pytest.raises(AssertionError, match="already has tickets"):
        run_cli(env, "demo")
