"""Live chat: the visitors of a chat channel, their conversations, and what each
conversation showed the visitor, numbered in order (``seq``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from inbox.models.types import UTCDateTime, utcnow

CONVERSATION_STATES = ("open", "ended")
ENTRY_AUTHORS = ("visitor", "agent", "system")
# How a conversation reaches an agent: waiting in its queue (offered to one agent at a time),
# taken by an agent, or left as a message while the desk was away or its queue full.
ROUTINGS = ("queued", "taken", "message")


class ChatVisitor(SQLModel, table=True):
    """One browser's visitor on one chat channel, known again by its signed token. Verified
    only when the site signed its user's id with the channel's identity secret; an email
    typed into the form is kept as a claim and joins no customer."""

    __tablename__ = "chat_visitor"

    id: int | None = Field(default=None, primary_key=True)
    channel_id: int = Field(foreign_key="channel.id", index=True)
    name: str = Field(default="", max_length=200)
    claimed_email: str = Field(default="", max_length=320)
    # When the visitor followed the confirmation link mailed to ``claimed_email``: from then on
    # the address is theirs, and agents' answers may be mailed to it.
    email_proven_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # The site's own id of its signed-in user, when the site proved it (``identity.hash``).
    external_id: str | None = Field(default=None, max_length=200)
    verified: bool = False
    customer_id: int | None = Field(default=None, foreign_key="customer.id")
    identity_id: int | None = Field(default=None, foreign_key="customer_identity.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ChatConversation(SQLModel, table=True):
    """A visitor's chat, from the first message (which opens its ticket) to its end."""

    __tablename__ = "chat_conversation"
    __table_args__ = (
        Index("ix_chat_conversation_visitor_state", "visitor_id", "state"),
        Index("ix_chat_conversation_queue", "channel_id", "state", "routing", "queued_at"),
        Index("ix_chat_conversation_agent", "agent_id", "state"),
        Index("ix_chat_conversation_created_at", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel_id: int = Field(foreign_key="channel.id")
    visitor_id: int = Field(foreign_key="chat_visitor.id")
    ticket_id: int = Field(foreign_key="ticket.id", unique=True)
    state: str = Field(default="open", max_length=16)
    last_seq: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_activity_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    routing: str = Field(default="message", max_length=16)  # until it enters a queue
    # The queue: the channel's team (None: every agent), and since when the visitor waits.
    team_id: int | None = Field(default=None, foreign_key="team.id")
    queued_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # The agent the waiting chat is offered to now, and since when.
    offered_agent_id: int | None = Field(default=None, foreign_key="agent.id")
    offered_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # The agent who took it.
    agent_id: int | None = Field(default=None, foreign_key="agent.id")
    taken_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class AgentChatStatus(SQLModel, table=True):
    """An agent's part in live chat: their availability, how many chats at once, when their
    console was last heard from (gone for two minutes counts as away) and when they were last
    offered a chat (ties take turns)."""

    __tablename__ = "agent_chat_status"

    agent_id: int = Field(foreign_key="agent.id", primary_key=True)
    status: str = Field(default="offline", max_length=16)
    chat_limit: int = 3
    console_seen_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    last_offer_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class ChatEntry(SQLModel, table=True):
    """One message the visitor sees, in the conversation's order. A visitor's message keeps
    its ``client_id``, unique in the conversation, so a resend is stored once."""

    __tablename__ = "chat_entry"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq", name="uq_chat_entry_seq"),
        UniqueConstraint("conversation_id", "client_id", name="uq_chat_entry_client"),
    )

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="chat_conversation.id")
    seq: int
    author: str = Field(max_length=16)
    name: str = Field(default="", max_length=200)
    text: str = Field(default="", sa_column=Column(Text, nullable=False))
    client_id: str | None = Field(default=None, max_length=64)
    message_id: int | None = Field(default=None, foreign_key="message.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
