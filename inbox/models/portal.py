"""The customer portal: the single-use sign-in links mailed to a customer's address, and the
sessions they open. Only hashes of the tokens are kept, as for agents' sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from inbox.models.types import UTCDateTime, utcnow


class PortalLink(SQLModel, table=True):
    """A sign-in link mailed to one email identity: expires, works once."""

    __tablename__ = "portal_link"

    id: int | None = Field(default=None, primary_key=True)
    identity_id: int = Field(foreign_key="customer_identity.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class PortalSession(SQLModel, table=True):
    """A customer's signed-in browser: nothing like an agent's session, and no agent page or
    API route reads it."""

    __tablename__ = "portal_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    identity_id: int = Field(foreign_key="customer_identity.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
