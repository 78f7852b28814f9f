"""Saved inbox views: a name for a set of filters and a sort, personal or shared."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from inbox.models.types import UTCDateTime, utcnow


class SavedView(SQLModel, table=True):
    __tablename__ = "saved_view"
    __table_args__ = (UniqueConstraint("owner_id", "name", name="uq_saved_view_owner_name"),)

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="agent.id")
    name: str = Field(max_length=80)
    shared: bool = Field(default=False, index=True)
    # The list's query parameters (view, filters, sort), allowlisted when saved.
    query: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
