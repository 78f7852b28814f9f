"""The public help centre: no sign-in, readable without JavaScript.

Articles are shown in the visitor's locale (``inbox.web.help.locale``); their Markdown is
rendered and sanitised once per text (``inbox.rules.help_articles.render_markdown``).
Opening an article counts a view (in memory, written in batches: ``inbox.web.help.views``);
"Was this helpful?" is a plain form.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote_plus

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from msgspec import Struct
from sqlmodel import Session, select

from inbox.actions.help import note_search_miss, note_visit_opened, record_feedback
from inbox.blobs import BlobStore
from inbox.db import Database
from inbox.errors import NotFound
from inbox.models import HelpImage
from inbox.queries.help import (
    PublishedCache,
    available_locales,
    published_article,
    published_by_category,
    published_page,
    search_articles,
    sitemap_entries,
)
from inbox.rules.help_articles import DEFAULT_LOCALE, locale_name
from inbox.settings import Settings
from inbox.web.auth import PUBLIC
from inbox.web.forms import FormBody
from inbox.web.help.locale import LOCALE_COOKIE, request_locale, with_locale
from inbox.web.help.throttle import AddressWindow
from inbox.web.help.views import ArticleViews

HelpRequest = Request[Any, Any, Any]
SUGGESTIONS = 5
# What the public pages show, per revision of the help centre, in this process.
PUBLISHED = PublishedCache()
# Searches and suggestions per network address and minute, in this process.
SEARCHES = AddressWindow(limit=120, window=60.0)
MAX_SUGGEST_CHARS = 200


class Suggestion(Struct, kw_only=True):
    title: str
    url: str
    summary: str


class Suggestions(Struct, kw_only=True):
    """``GET /help/suggest?q=``: the best few published articles for what is typed."""

    items: list[Suggestion]


@contextmanager
def cached_reading(db: Database) -> Iterator[Session]:
    """A session for the pages that come from the cache, whose one read is the help
    centre's revision: on PostgreSQL without a transaction around it (each statement is its
    own snapshot there anyway), one round trip to the server instead of three."""
    with db.reading() as session:
        if not db.is_sqlite:
            session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        yield session


def _client(request: HelpRequest, settings: Settings) -> str:
    peer = request.client.host if request.client else ""
    hops = settings.trusted_proxy_hops
    if hops <= 0:
        return peer
    entries = [
        e.strip()
        for h in request.headers.getall("x-forwarded-for", [])
        for e in h.split(",")
        if e.strip()
    ]
    return entries[-hops] if len(entries) >= hops else peer


class HelpPages(Controller):
    path = "/help"
    include_in_schema = False

    def _page(
        self,
        request: HelpRequest,
        settings: Settings,
        template: str,
        context: dict[str, Any],
        *,
        path: str,
        locale: str,
        chosen: bool,
        locales: list[str],
        status_code: int = 200,
    ) -> Template:
        """A help-centre page in ``locale``, with its canonical address and the switcher's
        links to ``locales``; ``path`` is the page's address without a locale; ``chosen``:
        the visitor just picked the locale, remember it."""
        base = settings.base_url.rstrip("/")
        context.update(
            locale=locale,
            locale_name=locale_name,
            switcher=[(code, with_locale(path, code)) for code in locales],
            canonical=base + with_locale(path, locale),
            alternates=[(code, base + with_locale(path, code)) for code in locales],
            home=with_locale("/help", locale),
            lang_param="" if locale == DEFAULT_LOCALE else locale,
        )
        cookies = [
            Cookie(key=LOCALE_COOKIE, value=locale, max_age=365 * 86400, samesite="lax", path="/")
        ]
        return Template(
            template,
            context=context,
            status_code=status_code,
            cookies=cookies if chosen else None,
        )

    @get("/", opt=PUBLIC, sync_to_thread=True)
    def index(
        self,
        request: HelpRequest,
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> Template:
        with cached_reading(db) as session:
            cached = PUBLISHED.reader(session)
            locales = cached.get("locales", available_locales)
            locale, chosen = request_locale(request, locales)
            categories = cached.get(("index", locale), lambda s: published_by_category(s, locale))
        return self._page(
            request,
            settings,
            "pages/help/index.html",
            {"categories": categories},
            path="/help",
            locale=locale,
            chosen=chosen,
            locales=locales,
        )

    @get("/categories/{slug:str}", opt=PUBLIC, sync_to_thread=True)
    def category(
        self,
        request: HelpRequest,
        slug: FromPath[str],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> Template:
        with cached_reading(db) as session:
            cached = PUBLISHED.reader(session)
            locales = cached.get("locales", available_locales)
            locale, chosen = request_locale(request, locales)
            categories = cached.get(("index", locale), lambda s: published_by_category(s, locale))
        listing = next((c for c in categories if c.slug == slug), None)
        if listing is None:
            raise NotFound("no such category")
        return self._page(
            request,
            settings,
            "pages/help/category.html",
            {"category": listing},
            path=f"/help/categories/{slug}",
            locale=locale,
            chosen=chosen,
            locales=locales,
        )

    @get("/articles/{slug:str}", opt=PUBLIC, sync_to_thread=True)
    def article(
        self,
        request: HelpRequest,
        slug: FromPath[str],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        thanks: FromQuery[bool] = False,
        visit: FromQuery[str] = "",
    ) -> Template:
        """Shows the article in the visitor's locale, else in the desk's default, else in
        the language it was written in, and counts a view. The one read is the help
        centre's revision: the page itself nearly always comes from the cache, and the view
        is written with the next batch. ``visit``: opened from the chat widget's
        suggestions, during that visit (a write of its own)."""
        if visit:
            SEARCHES.check(_client(request, settings))
        with cached_reading(db) as session:
            cached = PUBLISHED.reader(session)
            locales = cached.get("locales", available_locales)
            locale, chosen = request_locale(request, locales)
            article = cached.get(
                ("article", slug, locale), lambda s: published_page(s, slug, locale)
            )
        if article is None:
            raise NotFound("no such article")
        views: ArticleViews = request.app.state.help_views
        views.add(article.id)
        if visit:
            with db.unit_of_work() as session:
                note_visit_opened(session, visit, article.id)
        return self._page(
            request,
            settings,
            "pages/help/article.html",
            {"article": article, "description": article.description, "thanks": thanks},
            path=f"/help/articles/{article.slug}",
            locale=article.locale,
            chosen=chosen,
            locales=article.translations,
        )

    @post("/articles/{slug:str}/feedback", opt=PUBLIC, sync_to_thread=True)
    def feedback(
        self,
        request: HelpRequest,
        slug: FromPath[str],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        data: FormBody,
    ) -> Redirect:
        """Yes or no, and a comment if the reader wrote one; then the article again."""
        locale = data.get("lang", "") or DEFAULT_LOCALE
        with db.unit_of_work() as session:
            article = published_article(session, slug, locale)
            if article is None:
                raise NotFound("no such article")
            record_feedback(
                session,
                article,
                helpful=data.get("helpful") == "yes",
                comment=data.get("comment", ""),
                address=_client(request, settings),
            )
            target = with_locale(f"/help/articles/{article.slug}?thanks=1", article.locale)
        return Redirect(target + "#feedback", status_code=303)

    @get("/search", opt=PUBLIC, sync_to_thread=True)
    def search(
        self,
        request: HelpRequest,
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        q: FromQuery[str] = "",
    ) -> Template:
        """Search, noting what found nothing for the managers' report."""
        q = q[:MAX_SUGGEST_CHARS]
        if q.strip():
            SEARCHES.check(_client(request, settings))
        with db.reading() as session:
            locales = PUBLISHED.reader(session).get("locales", available_locales)
            locale, chosen = request_locale(request, locales)
            results = search_articles(session, q, locale, limit=20) if q.strip() else []
        if q.strip() and not results:
            with db.unit_of_work() as session:
                note_search_miss(session, q, locale)
        return self._page(
            request,
            settings,
            "pages/help/search.html",
            {"q": q, "results": results},
            path="/help/search" + (f"?q={quote_plus(q)}" if q else ""),
            locale=locale,
            chosen=chosen,
            locales=locales,
        )

    @get("/sitemap.xml", opt=PUBLIC, sync_to_thread=True)
    def sitemap(
        self, db: NamedDependency[Database], settings: NamedDependency[Settings]
    ) -> Template:
        return _sitemap(db, settings)

    @get("/suggest", opt=PUBLIC, sync_to_thread=True)
    def suggest(
        self,
        request: HelpRequest,
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        q: FromQuery[str] = "",
        lang: FromQuery[str] = "",
    ) -> Response[Suggestions]:
        """For a form that suggests articles while someone types (the chat widget's topic):
        at most ``SUGGESTIONS`` titles with their addresses: those with every word typed, else
        those with any of its longer words. Records no missed search: the words are
        unfinished."""
        if q.strip():
            SEARCHES.check(_client(request, settings))
        with db.reading() as session:
            locales = PUBLISHED.reader(session).get("locales", available_locales)
            locale = request_locale(request, locales)[0]
            q = q[:MAX_SUGGEST_CHARS]
            found = search_articles(session, q, locale, limit=SUGGESTIONS)
            if not found:  # a topic written as a sentence: any of its longer words
                found = search_articles(session, q, locale, limit=SUGGESTIONS, any_word=True)
        base = settings.base_url.rstrip("/")
        items = [
            Suggestion(
                title=a.title,
                url=base + with_locale(f"/help/articles/{a.slug}", a.locale),
                summary=a.summary,
            )
            for a in found
        ]
        return Response(
            Suggestions(items=items),
            headers={"Cache-Control": "no-store", "Access-Control-Allow-Origin": "*"},
        )

    @get("/images/{content_hash:str}", opt=PUBLIC, sync_to_thread=True)
    def image(
        self,
        content_hash: FromPath[str],
        db: NamedDependency[Database],
        blobs: NamedDependency[BlobStore],
    ) -> Response[bytes]:
        """An image uploaded for articles: only the types the upload allows, never HTML or
        SVG; its address is its content, so it may be kept forever."""
        with db.reading() as session:
            image = session.exec(
                select(HelpImage).where(HelpImage.content_hash == content_hash)
            ).first()
        if image is None:
            raise NotFound("no such image")
        return Response(
            blobs.get(image.content_hash),
            media_type=image.content_type,
            headers={"Cache-Control": "public, max-age=31536000, immutable"},
        )


def _sitemap(db: Database, settings: Settings) -> Template:
    """Every published article in every locale, and the help centre's front page."""
    with db.reading() as session:
        entries = sitemap_entries(session)
    base = settings.base_url.rstrip("/")
    urls = [
        (base + with_locale(f"/help/articles/{e.slug}", e.locale), e.updated_at) for e in entries
    ]
    return Template(
        "pages/help/sitemap.xml",
        context={"home": base + "/help", "urls": urls},
        media_type="application/xml",
    )


class SitemapPages(Controller):
    """The sitemap where search engines look for it; ``/help/sitemap.xml`` is the same."""

    include_in_schema = False

    @get("/sitemap.xml", opt=PUBLIC, sync_to_thread=True)
    def sitemap(
        self, db: NamedDependency[Database], settings: NamedDependency[Settings]
    ) -> Template:
        return _sitemap(db, settings)
