"""Setting up a desk through the real actions, for tests that do not need a server process."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

import dramatiq
from sqlalchemy import update
from sqlmodel import col, select

from connectors import RawInbound
from inbox.actions.channels import add_email_channel
from inbox.actions.inbound.filing import (
    FilingResult,
    IngestOutcome,
    process_inbound_item,
    process_inbound_items,
    read_pending_raw,
)
from inbox.actions.inbound.store import store_inbound
from inbox.actions.signin.agents import create_agent
from inbox.actions.signin.tokens import create_api_token
from inbox.actions.tickets import update_ticket
from inbox.blobs import BlobStore
from inbox.db import Database
from inbox.models import (
    Agent,
    AgentSession,
    Channel,
    Outbox,
    SlaPolicy,
    Team,
    TeamMember,
    Ticket,
    utcnow,
)
from inbox.settings import Settings
from inbox.signing import OutboxSeal, SecretBox, hash_token, new_token
from tests.support.apps import app_for
from workers.broker import configure_broker, stop_worker
from workers.parsing import InboundParser
from workers.timers import run_due_timers

PASSWORD = "correct horse battery staple"
_uids = itertools.count(1)


def make_channel(
    db: Database,
    settings: Settings,
    *,
    imap_url: str = "imap://support%40example.com:pw@127.0.0.1:1/INBOX",
    smtp_url: str = "smtp://127.0.0.1:1",
    address: str = "support@example.com",
    name: str = "Support",
) -> int:
    with db.unit_of_work() as session:
        channel = add_email_channel(
            session,
            SecretBox(settings.secret_key),
            name=name,
            address=address,
            imap_url=imap_url,
            smtp_url=smtp_url,
            imap_redacted=imap_url,
            smtp_redacted=smtp_url,
        )
        return channel.id or 0


def make_agent(
    db: Database, email: str = "agent@example.com", role: str = "agent", name: str = "Alex Agent"
) -> tuple[int, str]:
    """An agent and an API token for it."""
    with db.unit_of_work() as session:
        agent = create_agent(session, email=email, name=name, role=role, password=PASSWORD)
        return agent.id or 0, create_api_token(session, agent)


def make_team(db: Database, name: str, *agent_ids: int) -> int:
    """A team with these agents in it; returns its id."""
    with db.unit_of_work() as session:
        team = Team(name=name)
        session.add(team)
        session.flush()
        for agent_id in agent_ids:
            session.add(TeamMember(team_id=team.id or 0, agent_id=agent_id))
        return team.id or 0


def mail(
    *,
    sender: str = "Maria Lopez <maria@example.org>",
    to: str = "support@example.com",
    subject: str = "Locked out",
    body: str = "I cannot sign in.",
    message_id: str | None = "auto",
    headers: dict[str, str] | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(utcnow())
    if message_id == "auto":
        msg["Message-ID"] = make_msgid(domain="example.org")
    elif message_id:
        msg["Message-ID"] = message_id
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(body)
    return msg.as_bytes()


def ingest(db: Database, settings: Settings, channel_id: int, raw: bytes) -> IngestOutcome:
    """Store and process one mail as the mailbox watcher and the worker would."""
    uid = next(_uids)
    with db.unit_of_work() as session:
        ids = store_inbound(
            session,
            channel_id,
            [RawInbound(f"1:{uid}", raw, len(raw), False)],
            cursor={"uidvalidity": 1, "last_uid": uid},
        )
    with db.unit_of_work() as session:
        return process_inbound_item(session, settings, BlobStore(settings.blob_dir), ids[0])


def new_ticket(db: Database, settings: Settings, channel_id: int, **mail_fields: Any) -> str:
    """A ticket opened the way customers open one, by mail; returns its reference."""
    reference = ingest(db, settings, channel_id, mail(**mail_fields)).ticket_reference
    assert reference
    return reference


def ingest_batch(
    db: Database, settings: Settings, channel_id: int, raws: list[bytes], parser: InboundParser
) -> tuple[list[int], FilingResult]:
    """Store several mails at once, then parse and file them in one job, as the worker does."""
    uids = [next(_uids) for _ in raws]
    with db.unit_of_work() as session:
        ids = store_inbound(
            session,
            channel_id,
            [
                RawInbound(f"1:{uid}", raw, len(raw), False)
                for uid, raw in zip(uids, raws, strict=True)
            ],
            cursor={"uidvalidity": 1, "last_uid": uids[-1]},
        )
    with db.reading() as session:
        mails = parser.parse(read_pending_raw(session, ids))
    with db.unit_of_work() as session:
        return ids, process_inbound_items(session, settings, BlobStore(settings.blob_dir), mails)


def outbox_mail(settings: Settings, row: Outbox) -> bytes:
    """The mail an outbox row sends, as its recipient gets it: opened with the desk's key when
    it carries a secret (a code or a reset link waits encrypted)."""
    if row.secret_expires_at is None:
        return row.payload
    return OutboxSeal(settings.secret_key).open(row.payload)


def agent_by_email(db: Database, email: str) -> Agent:
    with db.reading() as session:
        agent = session.exec(select(Agent).where(Agent.email == email)).one()
        return agent


def ticket_by_reference(db: Database, reference: str) -> Ticket:
    with db.reading() as session:
        return session.exec(select(Ticket).where(Ticket.reference == reference)).one()


def channel_by_id(db: Database, channel_id: int) -> Channel:
    with db.reading() as session:
        channel = session.get(Channel, channel_id)
        assert channel is not None
        return channel


def confirm_second_factor(db: Database, agent_id: int, *, at: datetime | None = None) -> None:
    """Stands in for the two-factor sign-in (built elsewhere): every session of this agent
    proved a second factor at ``at`` (now by default)."""
    with db.unit_of_work() as session:
        session.execute(
            update(AgentSession)
            .where(col(AgentSession.agent_id) == agent_id)
            .values(second_factor_at=at or utcnow())
        )


def signed_in_session(
    db: Database, agent_id: int, *, second_factor_at: datetime | None = None
) -> AgentSession:
    """A browser session of this agent, as sign-in leaves it, for calling actions directly."""
    with db.unit_of_work() as session:
        row = AgentSession(
            token_hash=hash_token(new_token()),
            agent_id=agent_id,
            expires_at=utcnow() + timedelta(hours=1),
            second_factor_at=second_factor_at,
        )
        session.add(row)
        session.flush()
        return row


def change_ticket(db: Database, reference: str, actor_email: str, **changes: Any) -> None:
    """What an agent does on the ticket page: ``update_ticket`` as ``actor_email``."""
    with db.unit_of_work() as session:
        ticket = session.exec(select(Ticket).where(Ticket.reference == reference)).one()
        actor = session.exec(select(Agent).where(Agent.email == actor_email)).one()
        update_ticket(session, ticket, actor=actor, **changes)


def set_ticket_columns(db: Database, reference: str, **values: Any) -> None:
    """Columns written straight to the table: times, and what no action sets directly."""
    with db.unit_of_work() as session:
        session.execute(update(Ticket).where(col(Ticket.reference) == reference).values(**values))


def fire_due_timers(settings: Settings) -> Database:
    """The timers due now, fired by a Dramatiq worker of this process as a deployment fires
    them (the in-process broker); returns the runtime's database."""
    rt = app_for(settings)[1]
    worker = dramatiq.Worker(configure_broker(None), worker_threads=1, worker_timeout=100)
    worker.start()
    try:
        run_due_timers(rt)
        for queue in worker.broker.get_declared_queues():
            worker.broker.join(queue, timeout=20_000)
        worker.join()
    finally:
        stop_worker(worker)
    return rt.db


def sla_policies_off(db: Database) -> None:
    """No SLA clocks on this desk (a fresh desk has the default policy), for stories that
    count timers and mail of their own."""
    with db.unit_of_work() as session:
        session.execute(update(SlaPolicy).values(enabled=False))
