"""The public help centre: categories, articles per locale, images, readers' feedback and
the searches that found nothing.

An article exists once per locale: the same ``slug`` in two locales is one article and its
translation. Search reads hand-made index tables kept by triggers (migration 0020): FTS5 on
SQLite, a tsvector per article on PostgreSQL, as the inbox's search does.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from inbox.models.types import UTCDateTime, utcnow

ARTICLE_STATUSES = ("draft", "published")


class HelpCategory(SQLModel, table=True):
    """A group of articles, at ``/help/categories/{slug}``; ``name`` is its name in the desk's
    default locale (``HelpCategoryName`` holds the others)."""

    __tablename__ = "help_category"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=100, unique=True)
    name: str = Field(max_length=100)
    position: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class HelpCategoryName(SQLModel, table=True):
    """A category's name in a locale other than the desk's default, whose name is
    ``HelpCategory.name``: categories exist per locale as articles do. A locale without one
    shows the default name."""

    __tablename__ = "help_category_name"
    __table_args__ = (
        UniqueConstraint("category_id", "locale", name="uq_help_category_name_locale"),
    )

    id: int | None = Field(default=None, primary_key=True)
    category_id: int = Field(foreign_key="help_category.id")
    locale: str = Field(max_length=16)
    name: str = Field(max_length=100)


class HelpArticle(SQLModel, table=True):
    __tablename__ = "help_article"
    __table_args__ = (
        UniqueConstraint("locale", "slug", name="uq_help_article_locale_slug"),
        Index("ix_help_article_listing", "status", "locale", "category_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=120)
    locale: str = Field(max_length=16)
    title: str = Field(max_length=200)
    body_markdown: str = Field(default="", sa_column=Column(Text, nullable=False))
    category_id: int | None = Field(default=None, foreign_key="help_category.id", index=True)
    status: str = Field(default="draft", max_length=16)
    views: int = 0
    helpful_yes: int = 0
    helpful_no: int = 0
    created_by_id: int | None = Field(default=None, foreign_key="agent.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    published_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime()))


class HelpImage(SQLModel, table=True):
    """An image uploaded for articles; the bytes are in the blob store under their SHA-256."""

    __tablename__ = "help_image"

    id: int | None = Field(default=None, primary_key=True)
    content_hash: str = Field(max_length=64, unique=True)
    content_type: str = Field(max_length=64)
    size: int
    filename: str = Field(max_length=255)
    uploaded_by_id: int | None = Field(default=None, foreign_key="agent.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class HelpFeedback(SQLModel, table=True):
    """One reader's "Was this helpful?": yes or no, and what they wrote, if anything."""

    __tablename__ = "help_feedback"

    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(foreign_key="help_article.id", index=True)
    helpful: bool
    comment: str = Field(default="", max_length=2000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class HelpSearchMiss(SQLModel, table=True):
    """A search that found nothing, counted per normalised term and locale."""

    __tablename__ = "help_search_miss"
    __table_args__ = (UniqueConstraint("locale", "term", name="uq_help_search_miss_term"),)

    id: int | None = Field(default=None, primary_key=True)
    term: str = Field(max_length=200)
    locale: str = Field(max_length=16)
    count: int = 0
    last_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class HelpVisit(SQLModel, table=True):
    """A chat visitor who opened an article the widget suggested while they typed their topic
    (``article_id``: the first one; none once that article is deleted). ``ticket_id`` is the
    ticket they opened by writing after all; a visit that stays without one is a question the
    help centre answered (a deflection)."""

    __tablename__ = "help_visit"

    id: int | None = Field(default=None, primary_key=True)
    visit_key: str = Field(max_length=64, unique=True)
    article_id: int | None = Field(default=None, foreign_key="help_article.id")
    opened_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id")


class HelpCentreState(SQLModel, table=True):
    """One row: the revision of what the public pages show, a new random value at every
    publish, unpublish, and change or deletion of a published article. Every web process
    keeps its cached pages under the revision they were built from."""

    __tablename__ = "help_centre_state"

    id: int | None = Field(default=None, primary_key=True)
    revision: str = Field(default="", max_length=32)
