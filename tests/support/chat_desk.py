"""Live chat on a desk's database, for in-process tests: a chat channel with routing settings,
a visitor's first message filed as the socket files it, and an agent's availability."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from inbox.actions.chat.channels import add_chat_channel
from inbox.actions.chat.messages import ChatAck, take_visitor_message
from inbox.actions.chat.routing import set_availability
from inbox.blobs import BlobStore
from inbox.db import Database
from inbox.models import Agent, ChatVisitor, utcnow
from inbox.settings import Settings
from inbox.signing import SecretBox

SITE = "https://shop.example.test"


def chat_channel(db: Database, settings: Settings, name: str = "Chat", **config: Any) -> int:
    """A chat channel with these routing settings in its config; its id."""
    with db.unit_of_work() as session:
        channel = add_chat_channel(
            session, SecretBox(settings.secret_key), name=name, origins=[SITE]
        ).channel
        channel.config = {**channel.config, **config}
        session.add(channel)
        session.flush()
        return channel.id or 0


def visitor_writes(
    db: Database,
    settings: Settings,
    channel_id: int,
    name: str,
    *,
    text: str | None = None,
    claimed_email: str = "",
) -> ChatAck:
    """A new visitor's first message on the widget, filed at once as on the socket."""
    with db.unit_of_work() as session:
        visitor = ChatVisitor(channel_id=channel_id, name=name, claimed_email=claimed_email)
        session.add(visitor)
        session.flush()
        ack = take_visitor_message(
            session,
            settings,
            BlobStore(settings.blob_dir),
            visitor=visitor,
            client_id=uuid.uuid4().hex,
            text=text or f"Hello, this is {name}",
        )
        assert ack is not None and ack.seq == 1
        return ack


def set_available(
    db: Database,
    agent_id: int,
    now: datetime | None = None,
    status: str = "available",
    limit: int | None = None,
) -> None:
    """What the agent sets in their console (at ``now``)."""
    with db.unit_of_work() as session:
        found = session.get(Agent, agent_id)
        assert found is not None
        set_availability(session, found, now=now or utcnow(), status=status, limit=limit)
