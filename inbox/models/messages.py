"""Messages on every channel, and their attachments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from inbox.models.types import UTCDateTime, utcnow

# Which signal joined an inbound message to its ticket.
THREAD_REASONS = (
    "new_ticket",
    "reply_token",
    "message_id",
    "subject_tag",
    "possible_followup",
    "conversation",  # the platform's chat or conversation of a direct message
)
# How far we trust that the sender is who the From header says.
VERIFICATION_LEVELS = ("unverified", "reply_token", "authenticated", "agent")
# ``delivered`` and ``read`` on channels that report them (WhatsApp).
DELIVERY_STATES = ("queued", "sent", "failed", "delivered", "read")


class Message(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("channel_id", "external_id", name="uq_message_channel_external"),
        Index("ix_message_ticket_created", "ticket_id", "created_at"),
        # Replies name the Message-IDs they answer, without knowing the channel.
        Index("ix_message_external_id", "external_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id")
    kind: str = Field(max_length=32)
    direction: str = Field(max_length=16)
    channel_id: int | None = Field(default=None, foreign_key="channel.id")
    channel_kind: str = Field(default="", max_length=32)
    author_agent_id: int | None = Field(default=None, foreign_key="agent.id")
    author_identity_id: int | None = Field(default=None, foreign_key="customer_identity.id")
    author_label: str = Field(default="", max_length=400)
    subject: str = Field(default="", max_length=998)
    body_text: str = Field(default="", sa_column=Column(Text, nullable=False))
    # Only the new part of a reply, without the quoted history, for display.
    display_text: str = Field(default="", sa_column=Column(Text, nullable=False))
    body_html: str | None = Field(default=None, sa_column=Column(Text))
    external_id: str | None = Field(default=None, max_length=998)
    inbound_item_id: int | None = Field(default=None, foreign_key="inbound_item.id")
    thread_reason: str | None = Field(default=None, max_length=32)
    verification: str = Field(default="unverified", max_length=32)
    delivery: str | None = Field(default=None, max_length=16)
    delivery_error: str | None = Field(default=None, max_length=1000)
    is_automatic: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Attachment(SQLModel, table=True):
    """File metadata; the bytes live in the blob store under their SHA-256."""

    id: int | None = Field(default=None, primary_key=True)
    message_id: int = Field(foreign_key="message.id", index=True)
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=255)
    size: int
    content_hash: str = Field(max_length=64, index=True)
    content_id: str | None = Field(default=None, max_length=255)
    inline: bool = False
