"""Customers and the identities by which they reach us on each channel."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from inbox.models.types import UTCDateTime, utcnow


class Customer(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # A merge points the absorbed customer at the survivor; clearing it undoes the merge.
    merged_into_id: int | None = Field(default=None, foreign_key="customer.id", index=True)


class CustomerIdentity(SQLModel, table=True):
    __tablename__ = "customer_identity"
    __table_args__ = (UniqueConstraint("kind", "value", name="uq_identity_kind_value"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    kind: str = Field(max_length=32)
    value: str = Field(max_length=320)
    verified_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    # Set when mail to this address bounced permanently.
    undeliverable_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))
    undeliverable_reason: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
