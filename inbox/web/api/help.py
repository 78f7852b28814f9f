"""Help-centre articles and categories in the JSON API: every agent reads them all, drafts
included (to link one from a reply); managers' and administrators' tokens write, publish,
delete and name categories per locale, with the same checks and audit entries as
``/admin/help``."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from sqlmodel import Session

from inbox.actions import help as articles
from inbox.actions.help_categories import access_category, rename_category
from inbox.db import Database
from inbox.models import Agent
from inbox.models import HelpArticle as ArticleRow
from inbox.queries.help import articles_with_categories, category_name
from inbox.queries.help_categories import CategoryEdition, category_editions
from inbox.rules.help_articles import DEFAULT_LOCALE
from inbox.settings import Settings
from inbox.web.api.bodies import ArticleChange, CategoryNamesChange, NewArticle
from inbox.web.api.openapi import ERROR_RESPONSES
from inbox.web.api.serializers import iso
from inbox.web.api.shapes import HelpArticle, HelpArticleList, HelpCategory, HelpCategoryList
from inbox.web.help import article_url

ApiRequest = Request[Agent, Any, Any]


def _shape(session: Session, row: ArticleRow, settings: Settings) -> HelpArticle:
    return _shaped(row, category_name(session, row), settings)


def _shaped(row: ArticleRow, category: str, settings: Settings) -> HelpArticle:
    return HelpArticle(
        id=row.id or 0,
        title=row.title,
        slug=row.slug,
        body_markdown=row.body_markdown,
        category=category,
        locale=row.locale,
        status=row.status,
        url=article_url(settings.base_url, row.slug, row.locale),
        views=row.views,
        helpful_yes=row.helpful_yes,
        helpful_no=row.helpful_no,
        created_at=iso(row.created_at) or "",
        updated_at=iso(row.updated_at) or "",
        published_at=iso(row.published_at),
    )


def _views_written(request: ApiRequest) -> None:
    """The views this process counted, written before ``views`` is read
    (``inbox.web.help.views``)."""
    request.app.state.help_views.flush()


class HelpArticleApi(Controller):
    path = "/api/v1/help/articles"
    tags = ["help centre"]

    @get("/", sync_to_thread=True, responses=ERROR_RESPONSES)
    def list(
        self,
        request: ApiRequest,
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        status: FromQuery[str | None] = None,
        locale: FromQuery[str | None] = None,
    ) -> HelpArticleList:
        """Every article, the most recently changed first; ``status`` and ``locale`` filter."""
        _views_written(request)
        with db.reading() as session:
            found = articles_with_categories(session, status=status, locale=locale)
        return HelpArticleList(items=[_shaped(row, name, settings) for row, name in found])

    @get("/{article_id:int}", sync_to_thread=True, responses=ERROR_RESPONSES)
    def one(
        self,
        request: ApiRequest,
        article_id: FromPath[int],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> HelpArticle:
        _views_written(request)
        with db.reading() as session:
            return _shape(session, articles.access_article(session, article_id), settings)

    @post("/", sync_to_thread=True, responses=ERROR_RESPONSES, status_code=HTTP_201_CREATED)
    def create(
        self,
        request: ApiRequest,
        data: JSONBody[NewArticle],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> HelpArticle:
        with db.unit_of_work() as session:
            row = articles.create_article(
                session,
                actor=request.user,
                fields=articles.ArticleFields(
                    title=data.title,
                    body_markdown=data.body_markdown,
                    slug=data.slug,
                    category=data.category,
                    locale=data.locale,
                ),
                status=data.status,
            )
            return _shape(session, row, settings)

    @patch("/{article_id:int}", sync_to_thread=True, responses=ERROR_RESPONSES)
    def change(
        self,
        request: ApiRequest,
        article_id: FromPath[int],
        data: JSONBody[ArticleChange],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> HelpArticle:
        with db.unit_of_work() as session:
            row = articles.change_article(
                session,
                articles.access_article(session, article_id),
                actor=request.user,
                change=articles.ArticleChange(
                    title=data.title,
                    body_markdown=data.body_markdown,
                    slug=data.slug,
                    category=data.category,
                    locale=data.locale,
                    status=data.status,
                ),
            )
            return _shape(session, row, settings)

    @delete(
        "/{article_id:int}",
        sync_to_thread=True,
        responses=ERROR_RESPONSES,
        status_code=HTTP_204_NO_CONTENT,
    )
    def remove(
        self, request: ApiRequest, article_id: FromPath[int], db: NamedDependency[Database]
    ) -> None:
        with db.unit_of_work() as session:
            articles.delete_article(
                session, articles.access_article(session, article_id), actor=request.user
            )


def _category(edition: CategoryEdition, settings: Settings) -> HelpCategory:
    names = {locale: name for locale, name in edition.names.items() if name}
    return HelpCategory(
        slug=edition.slug,
        name=names[DEFAULT_LOCALE],
        names=names,
        url=f"{settings.base_url.rstrip('/')}/help/categories/{edition.slug}",
        articles=edition.articles,
    )


def _categories(session: Session, settings: Settings) -> list[HelpCategory]:
    return [_category(edition, settings) for edition in category_editions(session, ())]


class HelpCategoryApi(Controller):
    path = "/api/v1/help/categories"
    tags = ["help centre"]

    @get("/", sync_to_thread=True, responses=ERROR_RESPONSES)
    def list(
        self, db: NamedDependency[Database], settings: NamedDependency[Settings]
    ) -> HelpCategoryList:
        """Every category, in the public pages' order, with its names per locale."""
        with db.reading() as session:
            return HelpCategoryList(items=_categories(session, settings))

    @patch("/{slug:str}", sync_to_thread=True, responses=ERROR_RESPONSES)
    def rename(
        self,
        request: ApiRequest,
        slug: FromPath[str],
        data: JSONBody[CategoryNamesChange],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> HelpCategory:
        """Names the category in the locales ``names`` gives; its address stays."""
        with db.unit_of_work() as session:
            rename_category(
                session, access_category(session, slug), actor=request.user, names=data.names
            )
            return next(c for c in _categories(session, settings) if c.slug == slug)
