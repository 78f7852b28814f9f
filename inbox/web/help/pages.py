"""The public help centre: no sign-in, readable without JavaScript.

Articles are shown in the visitor's locale (``inbox.web.help.locale``); their Markdown is
rendered and sanitised once per text (``inbox.rules.help_articles.render_markdown``).
Opening an article counts a view; "Was this helpful?" is a plain form.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote_plus

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from msgspec import Struct
from sqlmodel import Session, select

from inbox.actions.help import note_article_view, note_search_miss, record_feedback
from inbox.blobs import BlobStore
from inbox.db import Database
from inbox.errors import NotFound
from inbox.models import HelpImage
from inbox.queries.help import (
    available_locales,
    category_name,
    published_article,
    published_by_category,
    search_articles,
    sitemap_entries,
    translations,
)
from inbox.rules.help_articles import DEFAULT_LOCALE, locale_name, plain_summary, render_markdown
from inbox.settings import Settings
from inbox.web.auth import PUBLIC
from inbox.web.forms import FormBody
from inbox.web.help.locale import LOCALE_COOKIE, request_locale, with_locale

HelpRequest = Request[Any, Any, Any]
SUGGESTIONS = 5
MAX_SUGGEST_CHARS = 200


class Suggestion(Struct, kw_only=True):
    title: str
    url: str
    summary: str


class Suggestions(Struct, kw_only=True):
    """``GET /help/suggest?q=``: the best few published articles for what is typed."""

    items: list[Suggestion]


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
        session: Session,
        settings: Settings,
        template: str,
        context: dict[str, Any],
        *,
        path: str,
        locales: list[str] | None = None,
        status_code: int = 200,
    ) -> Template:
        """A help-centre page in the visitor's locale, with its canonical address and the
        switcher's links; ``path`` is the page's address without a locale."""
        available = available_locales(session)
        locale = context.pop("locale", None) or request_locale(request, available)[0]
        chosen = request_locale(request, available)[1]
        base = settings.base_url.rstrip("/")
        page_locales = locales or available
        context.update(
            locale=locale,
            locale_name=locale_name,
            switcher=[(code, with_locale(path, code)) for code in page_locales],
            canonical=base + with_locale(path, locale),
            alternates=[(code, base + with_locale(path, code)) for code in page_locales],
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
        with db.reading() as session:
            locale = request_locale(request, available_locales(session))[0]
            context = {"categories": published_by_category(session, locale), "locale": locale}
            return self._page(
                request, session, settings, "pages/help/index.html", context, path="/help"
            )

    @get("/categories/{slug:str}", opt=PUBLIC, sync_to_thread=True)
    def category(
        self,
        request: HelpRequest,
        slug: FromPath[str],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> Template:
        with db.reading() as session:
            locale = request_locale(request, available_locales(session))[0]
            listing = next(
                (c for c in published_by_category(session, locale) if c.slug == slug), None
            )
            if listing is None:
                raise NotFound("no such category")
            return self._page(
                request,
                session,
                settings,
                "pages/help/category.html",
                {"category": listing, "locale": locale},
                path=f"/help/categories/{slug}",
            )

    @get("/articles/{slug:str}", opt=PUBLIC, sync_to_thread=True)
    def article(
        self,
        request: HelpRequest,
        slug: FromPath[str],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        thanks: FromQuery[bool] = False,
    ) -> Template:
        with db.reading() as session:
            locale = request_locale(request, available_locales(session))[0]
            article = published_article(session, slug, locale)
            if article is None:
                raise NotFound("no such article")
            context = {
                "article": article,
                "body": render_markdown(article.body_markdown),
                "description": plain_summary(article.body_markdown, 160),
                "category": category_name(session, article),
                "thanks": thanks,
                "locale": article.locale,
            }
            page = self._page(
                request,
                session,
                settings,
                "pages/help/article.html",
                context,
                path=f"/help/articles/{article.slug}",
                locales=translations(session, article.slug),
            )
        with db.unit_of_work() as session:
            note_article_view(session, article.id or 0)
        return page

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
        q = q[:MAX_SUGGEST_CHARS]
        with db.reading() as session:
            locale = request_locale(request, available_locales(session))[0]
            results = search_articles(session, q, locale, limit=20) if q.strip() else []
            page = self._page(
                request,
                session,
                settings,
                "pages/help/search.html",
                {"q": q, "results": results, "locale": locale},
                path="/help/search" + (f"?q={quote_plus(q)}" if q else ""),
            )
        if q.strip() and not results:
            with db.unit_of_work() as session:
                note_search_miss(session, q, locale)
        return page

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
        at most ``SUGGESTIONS`` titles with their addresses. Records no missed search: the
        words are unfinished."""
        with db.reading() as session:
            locale = request_locale(request, available_locales(session))[0]
            found = search_articles(session, q[:MAX_SUGGEST_CHARS], locale, limit=SUGGESTIONS)
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
