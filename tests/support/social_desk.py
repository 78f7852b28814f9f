"""Social channels in tests: adding one, filing what is stored, sending what is queued."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from inbox.actions.replies import reply_to_customer
from inbox.actions.social_channels import add_social_channel
from inbox.db import Database
from inbox.models import Agent, Channel, InboundItem, Message, Outbox, Ticket, utcnow
from inbox.settings import Settings
from inbox.signing import SecretBox
from workers.actors import deliver_outbox_items
from workers.filing import file_inbound
from workers.runtime import Runtime


def add_channel(
    db: Database,
    settings: Settings,
    kind: str,
    *,
    name: str = "",
    account_id: str = "",
    secrets: dict[str, str],
    values: dict[str, Any] | None = None,
) -> int:
    with db.unit_of_work() as session:
        channel = add_social_channel(
            session,
            SecretBox(settings.secret_key),
            kind=kind,
            name=name or kind.title(),
            account_id=account_id,
            secrets=secrets,
            settings=values,
        )
        return channel.id or 0


def file_pending(rt: Runtime) -> None:
    """Files every pending item, trying failed ones again as the filing job would."""
    for _ in range(4):
        with rt.db.reading() as session:
            ids = [
                i or 0
                for i in session.exec(
                    select(InboundItem.id).where(InboundItem.state == "pending")
                ).all()
            ]
        if not ids:
            return
        file_inbound(rt, ids, lambda again, *, delayed: None)


def reply(db: Database, settings: Settings, reference: str, agent_id: int, body: str) -> int:
    """An agent's reply through ``reply_to_customer``; returns the message id."""
    with db.unit_of_work() as session:
        ticket = session.exec(select(Ticket).where(Ticket.reference == reference)).one()
        agent = session.get(Agent, agent_id)
        assert agent is not None
        message = reply_to_customer(session, settings, ticket=ticket, author=agent, body=body)
        return message.id or 0


def send_due(db: Database) -> list[int]:
    """Runs the delivery job for every outbound row that is due now."""
    with db.reading() as session:
        ids = [
            i or 0
            for i in session.exec(
                select(Outbox.id).where(
                    col(Outbox.state).in_(("queued", "sending")),
                    col(Outbox.next_attempt_at) <= utcnow(),
                )
            ).all()
        ]
    if ids:
        deliver_outbox_items(ids)
    return ids


def make_due(db: Database) -> None:
    """Moves every waiting retry to now, as time passing would."""
    with db.unit_of_work() as session:
        for row in session.exec(select(Outbox).where(Outbox.state == "queued")).all():
            row.next_attempt_at = utcnow()
            session.add(row)


def messages_of(db: Database, reference: str) -> list[Message]:
    with db.reading() as session:
        ticket = session.exec(select(Ticket).where(Ticket.reference == reference)).one()
        return list(
            session.exec(
                select(Message).where(Message.ticket_id == ticket.id).order_by(col(Message.id))
            ).all()
        )


def tickets_of_channel(db: Database, channel_id: int) -> list[Ticket]:
    with db.reading() as session:
        return list(
            session.exec(
                select(Ticket).where(Ticket.channel_id == channel_id).order_by(col(Ticket.id))
            ).all()
        )


def channel(db: Database, channel_id: int) -> Channel:
    with db.reading() as session:
        found = session.get(Channel, channel_id)
        assert found is not None
        return found
