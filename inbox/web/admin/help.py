"""Writing the help centre, ``/admin/help``: the articles, the editor with its live preview,
image uploads, and the managers' report of views, helpfulness and searches that found nothing.

For managers and administrators (``inbox.actions.help.WRITER_ROLES``); others get 403.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Response, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.handlers.base import BaseRouteHandler
from litestar.params import Body, FromPath
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate
from litestar.response import Redirect, Template

from inbox.actions.help import (
    MAX_IMAGE_BYTES,
    ArticleChange,
    ArticleFields,
    access_article,
    change_article,
    check_can_write_help,
    create_article,
    delete_article,
    upload_help_image,
)
from inbox.actions.help_categories import access_category, rename_category
from inbox.blobs import BlobStore
from inbox.db import Database
from inbox.errors import DomainError, NotFound
from inbox.models import HelpArticle
from inbox.queries.help import all_articles, available_locales, category_name, help_report
from inbox.queries.help_categories import (
    category_editions,
    suggested_names,
    translation_locales,
)
from inbox.rules.help_articles import DEFAULT_LOCALE, render_markdown
from inbox.settings import Settings
from inbox.web.admin.layout import AdminController
from inbox.web.auth import browser_session_only
from inbox.web.forms import FormBody, status_of
from inbox.web.help import article_url

HelpAdminRequest = HTMXRequest
ImageUpload = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]


def writers_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    check_can_write_help(connection.user)


def _form(article: HelpArticle | None, category: str = "") -> dict[str, str]:
    if article is None:
        return {"locale": DEFAULT_LOCALE}
    return {
        "title": article.title,
        "slug": article.slug,
        "category": category,
        "locale": article.locale,
        "body_markdown": article.body_markdown,
    }


def _fields(data: dict[str, str]) -> ArticleFields:
    return ArticleFields(
        title=data.get("title", ""),
        body_markdown=data.get("body_markdown", ""),
        slug=data.get("slug", ""),
        category=data.get("category", ""),
        locale=data.get("locale", ""),
    )


class HelpAdminPages(AdminController):
    path = "/admin/help"
    guards = [browser_session_only, writers_only]

    def _editor(
        self,
        request: HelpAdminRequest,
        db: Database,
        settings: Settings,
        *,
        article: HelpArticle | None,
        form: dict[str, str],
        error: str | None = None,
        status_code: int = 200,
    ) -> Template:
        with db.reading() as session:
            categories = suggested_names(session)
            locales = available_locales(session)
        return Template(
            "pages/admin/help_article.html",
            context={
                "agent": request.user,
                "article": article,
                "form": form,
                "preview": render_markdown(form.get("body_markdown", "")),
                "categories": categories,
                "locales": locales,
                "public_url": article_url(settings.base_url, article.slug, article.locale)
                if article
                else None,
                "max_image_kib": MAX_IMAGE_BYTES // 1024,
                "error": error,
            },
            status_code=status_code,
        )

    @get("/", sync_to_thread=True)
    def index(self, request: HelpAdminRequest, db: NamedDependency[Database]) -> Template:
        with db.reading() as session:
            articles = all_articles(session)
        return Template(
            "pages/admin/help.html", context={"agent": request.user, "articles": articles}
        )

    @get("/new", sync_to_thread=True)
    def new(
        self,
        request: HelpAdminRequest,
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> Template:
        return self._editor(request, db, settings, article=None, form=_form(None))

    @post("/", sync_to_thread=True)
    def create(
        self,
        request: HelpAdminRequest,
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        data: FormBody,
    ) -> Response[Any]:
        """Saves a draft, or publishes at once with the Publish button; the Preview button
        (for browsers without script) shows the rendered text and saves nothing."""
        if data.get("action") == "preview":
            return self._editor(request, db, settings, article=None, form=data)
        try:
            with db.unit_of_work() as session:
                article = create_article(
                    session,
                    actor=request.user,
                    fields=_fields(data),
                    status="published" if data.get("action") == "publish" else "draft",
                )
        except DomainError as exc:
            return self._editor(
                request,
                db,
                settings,
                article=None,
                form=data,
                error=str(exc),
                status_code=status_of(exc),
            )
        return Redirect(f"/admin/help/{article.id}?saved=1", status_code=303)

    @post("/preview", sync_to_thread=True)
    def preview(self, data: FormBody) -> HTMXTemplate:
        """The editor's live preview: the Markdown as the public page will show it."""
        return HTMXTemplate(
            template_name="partials/help_preview.html",
            context={"preview": render_markdown(data.get("body_markdown", ""))},
        )

    @get("/report", sync_to_thread=True)
    def report(self, request: HelpAdminRequest, db: NamedDependency[Database]) -> Template:
        """The views this process counted are written first (``inbox.web.help.views``)."""
        request.app.state.help_views.flush()
        with db.reading() as session:
            report = help_report(session)
        return Template(
            "pages/admin/help_report.html", context={"agent": request.user, "report": report}
        )

    @post("/images", sync_to_thread=True)
    def upload_image(
        self,
        request: HelpAdminRequest,
        db: NamedDependency[Database],
        blobs: NamedDependency[BlobStore],
        data: ImageUpload,
    ) -> Template:
        """An image for articles; answers with the Markdown that shows it."""
        upload = data.get("image")
        context: dict[str, Any] = {"agent": request.user}
        status_code = 201
        try:
            if not isinstance(upload, UploadFile):
                raise NotFound("choose an image to upload")
            content = upload.file.read(MAX_IMAGE_BYTES + 1)
            with db.unit_of_work() as session:
                image = upload_help_image(
                    session, blobs, actor=request.user, data=content, filename=upload.filename
                )
            context["snippet"] = f"![{_alt(image.filename)}](/help/images/{image.content_hash})"
        except DomainError as exc:
            context["error"] = str(exc)
            status_code = 422 if isinstance(exc, NotFound) else status_of(exc)
        template = "partials/help_image.html" if request.htmx else "pages/admin/help_image.html"
        return Template(template, context=context, status_code=status_code)

    @get("/{article_id:int}", sync_to_thread=True)
    def edit(
        self,
        request: HelpAdminRequest,
        article_id: FromPath[int],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> Template:
        with db.reading() as session:
            article = access_article(session, article_id)
            category = category_name(session, article)
        return self._editor(request, db, settings, article=article, form=_form(article, category))

    @post("/{article_id:int}", sync_to_thread=True)
    def save(
        self,
        request: HelpAdminRequest,
        article_id: FromPath[int],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        data: FormBody,
    ) -> Response[Any]:
        """Save keeps the article's status; Publish and Unpublish change it too."""
        action = data.get("action", "save")
        with db.reading() as session:
            current = access_article(session, article_id)
        if action == "preview":
            return self._editor(request, db, settings, article=current, form=data)
        status = {"publish": "published", "unpublish": "draft"}.get(action)
        try:
            with db.unit_of_work() as session:
                change_article(
                    session,
                    access_article(session, article_id),
                    actor=request.user,
                    change=ArticleChange(
                        title=data.get("title", ""),
                        body_markdown=data.get("body_markdown", ""),
                        slug=data.get("slug", ""),
                        category=data.get("category", ""),
                        locale=data.get("locale", ""),
                        status=status,
                    ),
                )
        except DomainError as exc:
            return self._editor(
                request,
                db,
                settings,
                article=current,
                form=data,
                error=str(exc),
                status_code=status_of(exc),
            )
        return Redirect(f"/admin/help/{article_id}?saved=1", status_code=303)

    @get("/categories", sync_to_thread=True)
    def categories(self, request: HelpAdminRequest, db: NamedDependency[Database]) -> Template:
        return self._categories(request, db)

    def _categories(
        self,
        request: HelpAdminRequest,
        db: Database,
        *,
        error: str | None = None,
        failed: str = "",
        typed: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        """Every category with its name in each locale; a refused form keeps what was typed
        in the category it was for (``failed``)."""
        with db.reading() as session:
            editions = category_editions(session, translation_locales(session))
        return Template(
            "pages/admin/help_categories.html",
            context={
                "agent": request.user,
                "categories": editions,
                "default_locale": DEFAULT_LOCALE,
                "error": error,
                "failed": failed,
                "typed": typed or {},
            },
            status_code=status_code,
        )

    @post("/categories/{slug:str}", sync_to_thread=True)
    def rename(
        self,
        request: HelpAdminRequest,
        slug: FromPath[str],
        db: NamedDependency[Database],
        data: FormBody,
    ) -> Response[Any]:
        """``name:<locale>`` fields set the names; ``new_locale`` and ``new_name`` add one."""
        names = {k[5:]: v for k, v in data.items() if k.startswith("name:")}
        if data.get("new_locale", "").strip() or data.get("new_name", "").strip():
            names[data.get("new_locale", "")] = data.get("new_name", "")
        try:
            with db.unit_of_work() as session:
                rename_category(
                    session, access_category(session, slug), actor=request.user, names=names
                )
        except DomainError as exc:
            return self._categories(
                request,
                db,
                error=str(exc),
                failed=slug,
                typed=data,
                status_code=status_of(exc),
            )
        return Redirect(f"/admin/help/categories?saved={slug}#category-{slug}", status_code=303)

    @post("/{article_id:int}/delete", sync_to_thread=True)
    def delete(
        self, request: HelpAdminRequest, article_id: FromPath[int], db: NamedDependency[Database]
    ) -> Redirect:
        with db.unit_of_work() as session:
            delete_article(session, access_article(session, article_id), actor=request.user)
        return Redirect("/admin/help", status_code=303)


def _alt(filename: str) -> str:
    """An image's name as Markdown alt text: no brackets to break the link."""
    stem = filename.rsplit(".", 1)[0]
    return "".join(c for c in stem if c not in "[]()\\")[:80] or "image"
