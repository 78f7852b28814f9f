"""Channels and the raw inbound items they deliver."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from inbox.models.types import UTCDateTime, utcnow

INBOUND_STATES = ("pending", "done", "duplicate", "ignored", "quarantined")
# What did not become a message and is listed in the quarantine: ``quarantined`` could not be
# processed, ``ignored`` was set aside on purpose (a loop, our own mail, an unknown bounce).
SET_ASIDE_STATES = ("quarantined", "ignored")


class Channel(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)
    name: str = Field(max_length=100, unique=True)
    address: str = Field(default="", max_length=320)
    # Validated, non-secret settings; secrets are encrypted separately.
    config: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    secrets_encrypted: str = Field(default="", sa_column=Column(Text, nullable=False))
    # Where the pull side stands, e.g. {"uidvalidity": 7, "last_uid": 1234} for IMAP.
    cursor: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    poll_seconds: int = 60
    enabled: bool = True
    # Control headers in inbound mail count only for a channel an administrator trusts.
    trusted: bool = False
    health: str = Field(default="unknown", max_length=16)  # unknown, ok, degraded, failing
    health_detail: str = Field(default="", max_length=1000)
    last_polled_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # One watcher at a time per channel, even with several schedulers.
    lease_owner: str | None = Field(default=None, max_length=100)
    lease_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class InboundItem(SQLModel, table=True):
    """Raw bytes as received, stored before parsing so nothing is ever lost."""

    __tablename__ = "inbound_item"
    __table_args__ = (
        UniqueConstraint("channel_id", "remote_key", name="uq_inbound_channel_remote"),
        Index("ix_inbound_state_lease", "state", "lease_until"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel_id: int = Field(foreign_key="channel.id")
    remote_key: str = Field(max_length=200)
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    size: int
    truncated: bool = False
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    state: str = Field(default="pending", max_length=16)
    reason: str = Field(default="", max_length=1000)
    attempts: int = 0
    lease_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    processed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
