"""Writing the help centre: articles (drafts until published), categories, images; and what
readers leave behind: views, "Was this helpful?" and searches that found nothing.

Managers and administrators write, publish and delete articles (``WRITER_ROLES``); every
such change is audited. Agents read every article, drafts included, through the API (to
link one from a reply), but change none. Readers of the public pages need no sign-in.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace

from sqlalchemy import case, func, text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from inbox.actions.audit import record_audit
from inbox.actions.signin.agents import check_address_limit, record_address_attempt
from inbox.blobs import BlobStore
from inbox.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from inbox.models import (
    Agent,
    HelpArticle,
    HelpCategory,
    HelpCategoryName,
    HelpCentreState,
    HelpFeedback,
    HelpImage,
    HelpSearchMiss,
    HelpVisit,
    utcnow,
)
from inbox.models.help import ARTICLE_STATUSES
from inbox.queries.help_categories import category_name_in
from inbox.rules.chat import VISIT_KEY
from inbox.rules.help_articles import (
    DEFAULT_LOCALE,
    FEEDBACK_LIMIT,
    MAX_BODY_CHARS,
    MAX_TITLE_CHARS,
    normalize_locale,
    slugify,
    valid_slug,
)

WRITER_ROLES = ("manager", "admin")
MAX_COMMENT_CHARS = 2000
MAX_CATEGORY_CHARS = 100
MAX_IMAGE_BYTES = 1024 * 1024
# The image types an article may show, known by their first bytes, never by a name or a
# declared type. No SVG: it can carry script.
IMAGE_SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
}


def note_help_centre_changed(session: Session) -> None:
    """What the public pages show changed: a new revision, so every web process rebuilds
    its cached copies (``inbox.queries.help.PublishedCache``)."""
    revision = secrets.token_hex(16)
    updated = session.execute(
        update(HelpCentreState).where(col(HelpCentreState.id) == 1).values(revision=revision)
    )
    if not updated.rowcount:  # type: ignore[attr-defined]
        session.add(HelpCentreState(id=1, revision=revision))
        session.flush()


def check_can_write_help(agent: Agent) -> None:
    if agent.role not in WRITER_ROLES:
        raise PermissionDenied("only managers and administrators write help-centre articles")


@dataclass(frozen=True)
class ArticleFields:
    """An article as an author writes it. A blank slug is made from the title; a blank
    category leaves the article uncategorised; a blank locale is the desk's default."""

    title: str
    body_markdown: str = ""
    slug: str = ""
    category: str = ""
    locale: str = ""


@dataclass(frozen=True)
class ArticleChange:
    """What a change sets: None leaves a field as it is."""

    title: str | None = None
    body_markdown: str | None = None
    slug: str | None = None
    category: str | None = None
    locale: str | None = None
    status: str | None = None


def access_article(session: Session, article_id: int) -> HelpArticle:
    article = session.get(HelpArticle, article_id)
    if article is None:
        raise NotFound("no such article")
    return article


def _checked(fields_: ArticleFields) -> ArticleFields:
    title = " ".join(fields_.title.split())
    if not title:
        raise InvalidInput("an article needs a title")
    if len(title) > MAX_TITLE_CHARS:
        raise InvalidInput(f"a title has at most {MAX_TITLE_CHARS} characters")
    body = fields_.body_markdown.replace("\r\n", "\n")
    if len(body) > MAX_BODY_CHARS:
        raise InvalidInput(f"an article has at most {MAX_BODY_CHARS:,} characters")
    slug = fields_.slug.strip().lower() or slugify(title)
    if not valid_slug(slug):
        raise InvalidInput("a slug is lower-case letters and digits joined by hyphens")
    locale = normalize_locale(fields_.locale or DEFAULT_LOCALE)
    if locale is None:
        raise InvalidInput("a locale is a language code such as en, de or pt-br")
    category = " ".join(fields_.category.split())
    if len(category) > MAX_CATEGORY_CHARS:
        raise InvalidInput(f"a category's name has at most {MAX_CATEGORY_CHARS} characters")
    return ArticleFields(
        title=title, body_markdown=body, slug=slug, category=category, locale=locale
    )


def category_named(session: Session, name: str, locale: str) -> HelpCategory | None:
    """The category an author means by ``name`` in an article of ``locale``: the one whose
    address that name makes, else the one called so in ``locale``; created (``name`` its
    default name) when there is none. None for a blank name."""
    if not name:
        return None
    slug = slugify(name) or "general"
    found = session.exec(select(HelpCategory).where(HelpCategory.slug == slug)).first()
    if found is None and locale != DEFAULT_LOCALE:
        found = session.exec(
            select(HelpCategory)
            .join(HelpCategoryName, col(HelpCategoryName.category_id) == HelpCategory.id)
            .where(
                HelpCategoryName.locale == locale,
                func.lower(HelpCategoryName.name) == name.lower(),
            )
        ).first()
    if found is None:
        found = HelpCategory(slug=slug, name=name[:MAX_CATEGORY_CHARS])
        session.add(found)
        session.flush()
    return found


def _check_slug_free(session: Session, locale: str, slug: str, article_id: int | None) -> None:
    taken = session.exec(
        select(HelpArticle.id).where(HelpArticle.locale == locale, HelpArticle.slug == slug)
    ).first()
    if taken is not None and taken != article_id:
        raise Conflict(f"an article in {locale} already has the address {slug}")


def create_article(
    session: Session, *, actor: Agent, fields: ArticleFields, status: str = "draft"
) -> HelpArticle:
    check_can_write_help(actor)
    if status not in ARTICLE_STATUSES:
        raise InvalidInput("status is draft or published")
    checked = _checked(fields)
    _check_slug_free(session, checked.locale, checked.slug, None)
    category = category_named(session, checked.category, checked.locale)
    article = HelpArticle(
        slug=checked.slug,
        locale=checked.locale,
        title=checked.title,
        body_markdown=checked.body_markdown,
        category_id=category.id if category else None,
        created_by_id=actor.id,
    )
    session.add(article)
    session.flush()
    record_audit(
        session,
        "help_article.created",
        actor=actor,
        target_type="help_article",
        target_id=article.id or 0,
        detail={"slug": article.slug, "locale": article.locale, "title": article.title},
    )
    if status == "published":
        publish_article(session, article, actor=actor)
    return article


def change_article(
    session: Session, article: HelpArticle, *, actor: Agent, change: ArticleChange
) -> HelpArticle:
    """Edits the fields ``change`` sets, then publishes or unpublishes if it says so: all
    checked before anything is written, audited as what changed."""
    check_can_write_help(actor)
    if change.status is not None and change.status not in ARTICLE_STATUSES:
        raise InvalidInput("status is draft or published")
    current = ArticleFields(
        title=article.title,
        body_markdown=article.body_markdown,
        slug=article.slug,
        category=category_name_in(session, article.category_id, article.locale),
        locale=article.locale,
    )
    wanted = replace(
        current,
        **{
            f.name: getattr(change, f.name)
            for f in fields(ArticleFields)
            if getattr(change, f.name) is not None
        },
    )
    if change.title is not None and change.slug is None:
        wanted = replace(wanted, slug=article.slug)
    checked = _checked(wanted)
    changed = [
        f.name
        for f in fields(ArticleFields)
        if getattr(checked, f.name) != getattr(current, f.name)
    ]
    if changed:
        _check_slug_free(session, checked.locale, checked.slug, article.id)
        category = category_named(session, checked.category, checked.locale)
        article.title = checked.title
        article.body_markdown = checked.body_markdown
        article.slug = checked.slug
        article.locale = checked.locale
        article.category_id = category.id if category else None
        article.updated_at = utcnow()
        session.add(article)
        session.flush()
        record_audit(
            session,
            "help_article.edited",
            actor=actor,
            target_type="help_article",
            target_id=article.id or 0,
            detail={"changed": changed, "slug": article.slug, "locale": article.locale},
        )
        if article.status == "published":
            note_help_centre_changed(session)
    if change.status == "published" and article.status != "published":
        publish_article(session, article, actor=actor)
    elif change.status == "draft" and article.status != "draft":
        unpublish_article(session, article, actor=actor)
    return article


def publish_article(session: Session, article: HelpArticle, *, actor: Agent) -> HelpArticle:
    check_can_write_help(actor)
    if article.status == "published":
        return article
    article.status = "published"
    article.published_at = article.updated_at = utcnow()
    session.add(article)
    session.flush()
    record_audit(
        session,
        "help_article.published",
        actor=actor,
        target_type="help_article",
        target_id=article.id or 0,
        detail={"slug": article.slug, "locale": article.locale},
    )
    note_help_centre_changed(session)
    return article


def unpublish_article(session: Session, article: HelpArticle, *, actor: Agent) -> HelpArticle:
    """Back to a draft: gone from the public pages, search and sitemap."""
    check_can_write_help(actor)
    if article.status == "draft":
        return article
    article.status = "draft"
    article.updated_at = utcnow()
    session.add(article)
    session.flush()
    record_audit(
        session,
        "help_article.unpublished",
        actor=actor,
        target_type="help_article",
        target_id=article.id or 0,
        detail={"slug": article.slug, "locale": article.locale},
    )
    note_help_centre_changed(session)
    return article


def delete_article(session: Session, article: HelpArticle, *, actor: Agent) -> None:
    check_can_write_help(actor)
    detail = {"slug": article.slug, "locale": article.locale, "title": article.title}
    was_public = article.status == "published"
    session.execute(
        HelpFeedback.__table__.delete().where(  # type: ignore[attr-defined]
            col(HelpFeedback.article_id) == article.id
        )
    )
    # The visits it answered stay counted.
    session.execute(
        update(HelpVisit).where(col(HelpVisit.article_id) == article.id).values(article_id=None)
    )
    session.delete(article)
    session.flush()
    record_audit(
        session,
        "help_article.deleted",
        actor=actor,
        target_type="help_article",
        target_id=article.id or 0,
        detail=detail,
    )
    if was_public:
        note_help_centre_changed(session)


def sniff_image(data: bytes) -> str | None:
    """The image type the bytes are, by their signature; None if not an allowed one."""
    for signature, content_type in IMAGE_SIGNATURES.items():
        if data.startswith(signature):
            return content_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def upload_help_image(
    session: Session, blobs: BlobStore, *, actor: Agent, data: bytes, filename: str
) -> HelpImage:
    """An image for articles, stored by its SHA-256: PNG, JPEG, GIF or WebP by its own bytes
    (whatever its name or declared type says), at most ``MAX_IMAGE_BYTES``."""
    check_can_write_help(actor)
    if not data:
        raise InvalidInput("choose an image to upload")
    if len(data) > MAX_IMAGE_BYTES:
        raise InvalidInput(f"an image has at most {MAX_IMAGE_BYTES // 1024:,} KiB")
    content_type = sniff_image(data)
    if content_type is None:
        raise InvalidInput("an image is a PNG, JPEG, GIF or WebP file")
    content_hash = blobs.put(data)
    image = session.exec(select(HelpImage).where(HelpImage.content_hash == content_hash)).first()
    if image is None:
        name = "".join(c for c in filename if c.isprintable())[-200:] or "image"
        image = HelpImage(
            content_hash=content_hash,
            content_type=content_type,
            size=len(data),
            filename=name,
            uploaded_by_id=actor.id,
        )
        session.add(image)
        session.flush()
    record_audit(
        session,
        "help_image.uploaded",
        actor=actor,
        target_type="help_image",
        target_id=image.id or 0,
        detail={"content_hash": content_hash, "size": len(data), "type": content_type},
    )
    return image


def add_article_views(session: Session, views: Mapping[int, int]) -> None:
    """Views counted since the last batch, per article id (``inbox.web.help.views``), added
    in one statement; an article deleted meanwhile is skipped. On PostgreSQL the commit does
    not wait for the disk: a crash may lose the last batch, and no reader waits for it."""
    counted = {article_id: n for article_id, n in views.items() if n > 0}
    if not counted:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL synchronous_commit = off"))
    session.execute(
        update(HelpArticle)
        .where(col(HelpArticle.id).in_(sorted(counted)))
        .values(views=col(HelpArticle.views) + case(counted, value=col(HelpArticle.id), else_=0))
    )


def note_visit_opened(session: Session, visit_key: str, article_id: int) -> None:
    """A chat visitor opened an article the widget suggested (``visit_key``: the visit's key,
    made by the widget). The first article of a visit is kept; a malformed key is ignored."""
    if not VISIT_KEY.fullmatch(visit_key):
        return
    if session.exec(select(HelpVisit.id).where(HelpVisit.visit_key == visit_key)).first():
        return
    try:
        with session.begin_nested():
            session.add(HelpVisit(visit_key=visit_key, article_id=article_id))
    except IntegrityError:
        pass  # the same visit, opening two articles at once


def note_visit_wrote(session: Session, visit_key: str, ticket_id: int) -> None:
    """The visitor wrote after all: their visit opened this ticket, and answered nothing."""
    if VISIT_KEY.fullmatch(visit_key):
        session.execute(
            update(HelpVisit)
            .where(col(HelpVisit.visit_key) == visit_key, col(HelpVisit.ticket_id).is_(None))
            .values(ticket_id=ticket_id)
        )


def record_feedback(
    session: Session, article: HelpArticle, *, helpful: bool, comment: str = "", address: str
) -> HelpFeedback:
    """A reader's answer to "Was this helpful?" on a published article; at most
    ``FEEDBACK_LIMIT`` answers per network address and hour."""
    if article.status != "published":
        raise NotFound("no such article")
    check_address_limit(session, FEEDBACK_LIMIT, address)
    record_address_attempt(session, FEEDBACK_LIMIT, address)
    comment = comment.replace("\r\n", "\n").strip()
    if len(comment) > MAX_COMMENT_CHARS:
        raise InvalidInput(f"a comment has at most {MAX_COMMENT_CHARS:,} characters")
    feedback = HelpFeedback(article_id=article.id or 0, helpful=helpful, comment=comment)
    session.add(feedback)
    counter = col(HelpArticle.helpful_yes) if helpful else col(HelpArticle.helpful_no)
    session.execute(
        update(HelpArticle).where(col(HelpArticle.id) == article.id).values({counter: counter + 1})
    )
    session.flush()
    return feedback


def note_search_miss(session: Session, term: str, locale: str) -> None:
    """A search that found nothing, counted by its words (lower case, single spaces). Two
    readers missing with the same words at once both count."""
    words = " ".join(term.lower().split())[:200]
    if not words:
        return
    now = utcnow()
    counted = (
        update(HelpSearchMiss)
        .where(col(HelpSearchMiss.locale) == locale, col(HelpSearchMiss.term) == words)
        .values(count=col(HelpSearchMiss.count) + 1, last_at=now)
    )
    if session.execute(counted).rowcount:  # type: ignore[attr-defined]
        return
    try:
        with session.begin_nested():
            session.add(HelpSearchMiss(term=words, locale=locale, count=1, last_at=now))
    except IntegrityError:
        session.execute(counted)
