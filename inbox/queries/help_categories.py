"""Help-centre categories and their names per locale.

A category's name in the desk's default locale is ``HelpCategory.name``; ``HelpCategoryName``
holds its names in other locales. A page in a locale without one shows the default name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import and_
from sqlmodel import Session, col, func, select

from inbox.models import HelpArticle, HelpCategory, HelpCategoryName
from inbox.rules.help_articles import DEFAULT_LOCALE


@dataclass(frozen=True)
class CategoryNames:
    """Every category's names, read once: ``name(category_id, locale)``."""

    categories: dict[int, HelpCategory]
    translated: dict[tuple[int, str], str]

    def name(self, category_id: int | None, locale: str) -> str:
        """The category's name in ``locale``, else in the default locale; "" for none."""
        category = self.categories.get(category_id or 0)
        if category is None:
            return ""
        return self.translated.get((category.id or 0, locale), category.name)


def category_names(session: Session) -> CategoryNames:
    categories = {c.id or 0: c for c in session.exec(select(HelpCategory))}
    translated = {
        (row.category_id, row.locale): row.name for row in session.exec(select(HelpCategoryName))
    }
    return CategoryNames(categories, translated)


def category_name_in(session: Session, category_id: int | None, locale: str) -> str:
    """One category's name in ``locale`` (else the default one); "" for none."""
    if not category_id:
        return ""
    found = session.exec(
        select(HelpCategory.name, HelpCategoryName.name)
        .outerjoin(
            HelpCategoryName,
            and_(
                col(HelpCategoryName.category_id) == HelpCategory.id,
                col(HelpCategoryName.locale) == locale,
            ),
        )
        .where(col(HelpCategory.id) == category_id)
    ).first()
    if found is None:
        return ""
    default, translated = found
    return translated if translated is not None else default


def suggested_names(session: Session) -> list[str]:
    """Every name a category goes by, in any locale: what an author may type."""
    names = category_names(session)
    ordered = sorted(names.categories.values(), key=lambda c: (c.position, c.name.lower()))
    found = [c.name for c in ordered]
    found += sorted(set(names.translated.values()) - set(found), key=str.lower)
    return found


@dataclass(frozen=True)
class CategoryEdition:
    """A category as the writers' page edits it: its name in every locale shown."""

    id: int
    slug: str
    articles: int
    names: dict[str, str]  # locale -> name; the default locale's always, others when given


def category_editions(session: Session, locales: Iterable[str]) -> list[CategoryEdition]:
    """Every category, in the public pages' order, with its names in the default locale,
    ``locales`` (empty where it has none) and any other locale it has a name in."""
    names = category_names(session)
    counts = dict(
        session.exec(
            select(HelpArticle.category_id, func.count())
            .where(col(HelpArticle.category_id).is_not(None))
            .group_by(col(HelpArticle.category_id))
        ).all()
    )
    shown = [DEFAULT_LOCALE, *sorted(set(locales) - {DEFAULT_LOCALE})]
    editions = []
    for category in sorted(names.categories.values(), key=lambda c: (c.position, c.name.lower())):
        cid = category.id or 0
        own = sorted(locale for (c, locale) in names.translated if c == cid)
        per_locale = {locale: "" for locale in shown} | {DEFAULT_LOCALE: category.name}
        per_locale |= {locale: names.translated[(cid, locale)] for locale in own}
        editions.append(CategoryEdition(cid, category.slug, counts.get(cid, 0), per_locale))
    return editions


def translation_locales(session: Session) -> list[str]:
    """The locales articles are written in or categories are named in, default first."""
    found = set(session.exec(select(HelpArticle.locale).distinct()).all())
    found |= set(session.exec(select(HelpCategoryName.locale).distinct()).all())
    return [DEFAULT_LOCALE, *sorted(found - {DEFAULT_LOCALE})]
