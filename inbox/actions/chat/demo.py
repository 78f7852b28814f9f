"""The demo's live chat: its chat channel serves this desk's own pages (``/chat/demo``), and a
visitor's conversation is under way, written through the same paths as a real one."""

from __future__ import annotations

import secrets

from sqlmodel import Session, select

from inbox.actions.chat.channels import DEFAULT_LIMITS
from inbox.actions.chat.messages import take_visitor_message
from inbox.actions.replies import reply_to_customer
from inbox.blobs import BlobStore
from inbox.models import Agent, Channel, ChatVisitor, Ticket
from inbox.settings import Settings
from inbox.signing import SecretBox


def load_chat_demo(
    session: Session, settings: Settings, channel: Channel, agent: Agent
) -> list[str]:
    channel.config = {
        "widget_key": "w" + secrets.token_urlsafe(18),
        "origins": [settings.base_url],
        **DEFAULT_LIMITS,
    }
    channel.secrets_encrypted = SecretBox(settings.secret_key).seal(
        {"identity_secret": secrets.token_urlsafe(32)}
    )
    channel.enabled, channel.health = True, "ok"
    session.add(channel)
    visitor = ChatVisitor(
        channel_id=channel.id or 0, name="Lea Novak", claimed_email="lea@example.org"
    )
    session.add(visitor)
    session.flush()
    blobs = BlobStore(settings.blob_dir)
    ack = None
    for n, text in enumerate(
        ("Hi! My transfer to my landlord shows as pending since yesterday.", "Is that normal?")
    ):
        ack = take_visitor_message(
            session, settings, blobs, visitor=visitor, client_id=f"demo-{n}", text=text
        )
    assert ack is not None
    ticket = session.exec(select(Ticket).where(Ticket.reference == ack.reference)).one()
    reply_to_customer(
        session,
        settings,
        ticket=ticket,
        author=agent,
        body="Hello Lea, let me look at it. Transfers are held for checks for up to a day.",
    )
    return [
        f"A live chat is open on {ack.reference}; try the widget at {settings.base_url}/chat/demo"
    ]
