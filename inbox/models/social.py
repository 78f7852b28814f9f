"""Direct-message conversations on the social platforms, each threaded onto one ticket."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from inbox.models.types import UTCDateTime, utcnow


class SocialConversation(SQLModel, table=True):
    """One platform chat or conversation of a channel (a Telegram chat id, a Messenger PSID,
    a WhatsApp number, an X conversation): its messages go on ``ticket_id`` while that ticket
    may take them. ``recipient`` is whom replies go to; ``last_inbound_at`` when the customer
    last wrote, which opens the platforms' reply windows (24 hours, 7 days with Messenger's
    HUMAN_AGENT tag)."""

    __tablename__ = "social_conversation"
    __table_args__ = (
        UniqueConstraint("channel_id", "chat_key", name="uq_social_conversation_chat"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel_id: int = Field(foreign_key="channel.id")
    chat_key: str = Field(max_length=200)
    recipient: str = Field(max_length=200)
    identity_id: int | None = Field(default=None, foreign_key="customer_identity.id")
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    last_inbound_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
