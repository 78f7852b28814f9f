"""Reading the help centre: the public pages, search, the sitemap, the writers' list and the
managers' report.

Search reads a search box input as the inbox does (``inbox.queries.search.typed_words``):
literal words, each a whole word of the article, the last one also as a prefix; titles
weigh more than bodies. SQLite asks FTS5 (``help_article_fts``), PostgreSQL the tsvectors of
``help_article_search`` (migration 0020).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import case, text
from sqlmodel import Session, col, func, select

from inbox.models import (
    HelpArticle,
    HelpCentreState,
    HelpFeedback,
    HelpSearchMiss,
    HelpVisit,
    utcnow,
)
from inbox.queries.help_categories import CategoryNames, category_name_in, category_names
from inbox.queries.search import Word, fts5_expression, tsquery_expression, typed_words
from inbox.rules.help_articles import (
    DEFAULT_LOCALE,
    VISIT_ENDS_AFTER,
    plain_summary,
    render_markdown,
)

MAX_RESULTS = 20
T = TypeVar("T")
MIN_ANY_WORD_CHARS = 4


@dataclass(frozen=True)
class ArticleSummary:
    id: int
    slug: str
    locale: str
    title: str
    summary: str
    category: str
    status: str
    updated_at: datetime


@dataclass(frozen=True)
class CategoryListing:
    slug: str
    name: str
    articles: list[ArticleSummary]


def _summary(article: HelpArticle, names: CategoryNames) -> ArticleSummary:
    """An article with its category's name in the article's locale."""
    return ArticleSummary(
        id=article.id or 0,
        slug=article.slug,
        locale=article.locale,
        title=article.title,
        summary=plain_summary(article.body_markdown),
        category=names.name(article.category_id, article.locale),
        status=article.status,
        updated_at=article.updated_at,
    )


def available_locales(session: Session) -> list[str]:
    """The desk's default locale and every locale with a published article."""
    found = session.exec(
        select(HelpArticle.locale).where(HelpArticle.status == "published").distinct()
    ).all()
    return sorted({DEFAULT_LOCALE, *found})


def published_by_category(session: Session, locale: str) -> list[CategoryListing]:
    """Every published article of ``locale``, by category (in the categories' order, by
    their names in ``locale``), the uncategorised last under "General"."""
    names = category_names(session)
    articles = session.exec(
        select(HelpArticle)
        .where(HelpArticle.status == "published", HelpArticle.locale == locale)
        .order_by(col(HelpArticle.title))
    ).all()
    grouped: dict[int, list[ArticleSummary]] = {}
    for article in articles:
        grouped.setdefault(article.category_id or 0, []).append(_summary(article, names))
    ordered = sorted(
        (
            (c.position, names.name(c.id, locale), c)
            for c in names.categories.values()
            if (c.id or 0) in grouped
        ),
        key=lambda found: (found[0], found[1].lower()),
    )
    listings = [CategoryListing(c.slug, name, grouped[c.id or 0]) for _, name, c in ordered]
    if 0 in grouped:
        listings.append(CategoryListing("general", "General", grouped[0]))
    return listings


def published_article(session: Session, slug: str, locale: str) -> HelpArticle | None:
    """The published article at ``slug`` in ``locale``, else in the default locale, else in
    any locale (the oldest translation)."""
    return _in_locale(_published_translations(session, slug), locale)


def _published_translations(session: Session, slug: str) -> list[HelpArticle]:
    return list(
        session.exec(
            select(HelpArticle)
            .where(HelpArticle.slug == slug, HelpArticle.status == "published")
            .order_by(col(HelpArticle.id))
        ).all()
    )


def _in_locale(found: list[HelpArticle], locale: str) -> HelpArticle | None:
    for wanted in (locale, DEFAULT_LOCALE):
        for article in found:
            if article.locale == wanted:
                return article
    return found[0] if found else None


def category_name(session: Session, article: HelpArticle) -> str:
    """The article's category by its name in the article's locale."""
    return category_name_in(session, article.category_id, article.locale)


_SQLITE_SEARCH = text(
    "SELECT a.id FROM help_article_fts JOIN help_article a ON a.id = help_article_fts.rowid"
    " WHERE help_article_fts MATCH :q AND a.status = 'published' AND a.locale = :locale"
    " ORDER BY bm25(help_article_fts, 10.0, 1.0), a.id DESC LIMIT :n"
)
_PG_SEARCH = text(
    "SELECT a.id FROM help_article_search s JOIN help_article a ON a.id = s.article_id"
    " WHERE s.document @@ CAST(:q AS tsquery) AND a.status = 'published'"
    " AND a.locale = :locale"
    " ORDER BY s.title @@ CAST(:q AS tsquery) DESC, ts_rank(s.title, CAST(:q AS tsquery)) DESC,"
    " a.id DESC LIMIT :n"
)
# The planner prices a scan of every document as cheap, not counting that each is read out
# of line (TOAST): a few thousand articles already take it there, where the GIN index
# answers in a fraction of the time. The search runs in a savepoint with this set, then
# rolled back, so whatever transaction calls it keeps its own settings.
_PG_USE_THE_INDEX = (
    text("SET LOCAL enable_seqscan = off"),
    text("SET LOCAL enable_indexscan = off"),
)


def search_articles(
    session: Session, q: str, locale: str, *, limit: int = 10, any_word: bool = False
) -> list[ArticleSummary]:
    """The published articles of ``locale`` that have every word typed, best first. The one
    search of the help centre: its page, the suggestions while a visitor types, the links in
    acknowledgements and the composer's article picker all call it. Articles whose title
    matches come first: SQLite ranks by BM25 with the title weighing ten times the body;
    PostgreSQL ranks the titles' matches.

    ``any_word``: for finished text that was not written as a search (a mail's subject),
    articles with any of its words of ``MIN_ANY_WORD_CHARS`` or more, the rarest words
    weighing most."""
    words = tuple(typed_words(q))
    if any_word:
        words = tuple(Word(w.text) for w in words if len(w.text) >= MIN_ANY_WORD_CHARS)
    if not words:
        return []
    sqlite = session.get_bind().dialect.name == "sqlite"
    if any_word:
        one = fts5_expression if sqlite else tsquery_expression
        expression = (" OR " if sqlite else " | ").join(one((w,)) for w in words)
    else:
        expression = fts5_expression(words) if sqlite else tsquery_expression(words)
    params = {"q": expression, "locale": locale, "n": min(limit, MAX_RESULTS)}
    if sqlite:
        ids = session.execute(_SQLITE_SEARCH, params).scalars().all()
    else:
        savepoint = session.begin_nested()
        try:
            for statement in _PG_USE_THE_INDEX:
                session.execute(statement)
            ids = session.execute(_PG_SEARCH, params).scalars().all()
        finally:
            savepoint.rollback()
    if not ids:
        return []
    rows = {a.id: a for a in session.exec(select(HelpArticle).where(col(HelpArticle.id).in_(ids)))}
    names = category_names(session)
    return [_summary(rows[i], names) for i in ids if i in rows]


@dataclass(frozen=True)
class SitemapEntry:
    slug: str
    locale: str
    updated_at: datetime


def sitemap_entries(session: Session) -> list[SitemapEntry]:
    rows = session.exec(
        select(HelpArticle.slug, HelpArticle.locale, HelpArticle.updated_at)
        .where(HelpArticle.status == "published")
        .order_by(col(HelpArticle.slug), col(HelpArticle.locale))
    ).all()
    return [SitemapEntry(slug, locale, updated) for slug, locale, updated in rows]


def all_articles(session: Session) -> list[ArticleSummary]:
    """Every article, drafts included, newest change first: for writers and the API."""
    names = category_names(session)
    articles = session.exec(
        select(HelpArticle).order_by(col(HelpArticle.updated_at).desc(), col(HelpArticle.id))
    ).all()
    return [_summary(a, names) for a in articles]


def articles_with_categories(
    session: Session, *, status: str | None = None, locale: str | None = None
) -> list[tuple[HelpArticle, str]]:
    """Articles (drafts included unless ``status`` says otherwise) with their category's
    name in the article's locale, the most recently changed first."""
    query = select(HelpArticle).order_by(
        col(HelpArticle.updated_at).desc(), col(HelpArticle.id).desc()
    )
    if status is not None:
        query = query.where(HelpArticle.status == status)
    if locale is not None:
        query = query.where(HelpArticle.locale == locale)
    names = category_names(session)
    return [(a, names.name(a.category_id, a.locale)) for a in session.exec(query)]


@dataclass(frozen=True)
class ArticleFigures:
    id: int
    title: str
    slug: str
    locale: str
    status: str
    views: int
    helpful_yes: int
    helpful_no: int

    @property
    def helpful_share(self) -> int | None:
        """Per cent of answers that said yes; None without answers."""
        answers = self.helpful_yes + self.helpful_no
        return round(100 * self.helpful_yes / answers) if answers else None


@dataclass(frozen=True)
class MissedSearch:
    term: str
    locale: str
    count: int
    last_at: datetime


@dataclass(frozen=True)
class FeedbackComment:
    article_title: str
    helpful: bool
    comment: str
    created_at: datetime


@dataclass(frozen=True)
class Deflection:
    """The chat visits of the last ``days`` that opened an article the widget suggested and
    are over: the visitor wrote (``wrote``), or an hour passed without a word."""

    days: int
    visits: int
    wrote: int

    @property
    def deflected(self) -> int:
        return self.visits - self.wrote

    @property
    def deflected_share(self) -> int | None:
        return round(100 * self.deflected / self.visits) if self.visits else None


@dataclass(frozen=True)
class HelpReport:
    articles: list[ArticleFigures]
    missed_searches: list[MissedSearch]
    comments: list[FeedbackComment]
    total_views: int
    total_yes: int
    total_no: int
    deflection: Deflection


def help_report(session: Session, *, limit: int = 50) -> HelpReport:
    """Views and helpfulness per article (most viewed first), the searches that found
    nothing (most frequent first) and the latest comments."""
    articles = [
        ArticleFigures(
            a.id or 0, a.title, a.slug, a.locale, a.status, a.views, a.helpful_yes, a.helpful_no
        )
        for a in session.exec(
            select(HelpArticle)
            .order_by(col(HelpArticle.views).desc(), col(HelpArticle.id))
            .limit(limit)
        )
    ]
    misses = [
        MissedSearch(m.term, m.locale, m.count, m.last_at)
        for m in session.exec(
            select(HelpSearchMiss)
            .order_by(col(HelpSearchMiss.count).desc(), col(HelpSearchMiss.last_at).desc())
            .limit(limit)
        )
    ]
    comments = [
        FeedbackComment(title, helpful, comment, created)
        for title, helpful, comment, created in session.exec(
            select(
                HelpArticle.title,
                HelpFeedback.helpful,
                HelpFeedback.comment,
                HelpFeedback.created_at,
            )
            .join(HelpArticle, col(HelpArticle.id) == HelpFeedback.article_id)
            .where(HelpFeedback.comment != "")
            .order_by(col(HelpFeedback.id).desc())
            .limit(limit)
        )
    ]
    views, yes, no = session.exec(
        select(
            func.coalesce(func.sum(HelpArticle.views), 0),
            func.coalesce(func.sum(HelpArticle.helpful_yes), 0),
            func.coalesce(func.sum(HelpArticle.helpful_no), 0),
        )
    ).one()
    return HelpReport(
        articles, misses, comments, int(views), int(yes), int(no), deflection(session)
    )


def deflection(session: Session, *, days: int = 30) -> Deflection:
    now = utcnow()
    wrote = col(HelpVisit.ticket_id).is_not(None)
    visits, wrote_count = session.exec(
        select(
            func.count(),
            func.coalesce(func.sum(case((wrote, 1), else_=0)), 0),
        ).where(
            col(HelpVisit.opened_at) >= now - timedelta(days=days),
            wrote | (col(HelpVisit.opened_at) < now - VISIT_ENDS_AFTER),
        )
    ).one()
    return Deflection(days, int(visits), int(wrote_count))


@dataclass(frozen=True)
class PublishedArticle:
    """What an article's public page shows, ready to render."""

    id: int
    slug: str
    locale: str
    title: str
    body_html: str
    description: str
    category: str
    translations: list[str]
    updated_at: datetime


def published_page(session: Session, slug: str, locale: str) -> PublishedArticle | None:
    """An article's page, built when the cache has none: its translations in one read, its
    category's name in another."""
    found = _published_translations(session, slug)
    article = _in_locale(found, locale)
    if article is None:
        return None
    return PublishedArticle(
        id=article.id or 0,
        slug=article.slug,
        locale=article.locale,
        title=article.title,
        body_html=render_markdown(article.body_markdown),
        description=plain_summary(article.body_markdown, 160),
        category=category_name(session, article),
        translations=sorted(a.locale for a in found),
        updated_at=article.updated_at,
    )


def help_revision(session: Session) -> str:
    """The revision of the published help centre (``HelpCentreState``)."""
    found = session.exec(select(HelpCentreState.revision).where(HelpCentreState.id == 1)).first()
    return found or ""


class PublishedCache:
    """What the public pages show, built once per revision of the help centre and kept in
    this process (the newest ``size`` entries). Any process may publish: each request reads
    the revision, one row by its key, and what was built under another is built again."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, tuple[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def reader(self, session: Session) -> CacheReader:
        return CacheReader(self, session, help_revision(session))

    def _get(self, revision: str, key: Hashable, build: Callable[[], T]) -> T:
        with self._lock:
            found = self._entries.get(key)
            if found is not None and found[0] == revision:
                self._entries.move_to_end(key)
                return found[1]
        value = build()
        with self._lock:
            self._entries[key] = (revision, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value


@dataclass(frozen=True)
class CacheReader:
    """The cache at one revision, for one request."""

    cache: PublishedCache
    session: Session
    revision: str

    def get(self, key: Hashable, build: Callable[[Session], T]) -> T:
        return self.cache._get(self.revision, key, lambda: build(self.session))
