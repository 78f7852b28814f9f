"""Naming help-centre categories per locale (``inbox.actions.help.category_named`` finds or
makes one by the name an author types).

A category's address (``/help/categories/{slug}``) is made once from its first name and
stays; its name in the desk's default locale is ``HelpCategory.name``, its names in other
locales ``HelpCategoryName`` rows. Renaming is for the help centre's writers, audited, and
shows on the public pages at once (a new revision of the help centre).
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import delete
from sqlmodel import Session, col, select

from inbox.actions.audit import record_audit
from inbox.actions.help import (
    MAX_CATEGORY_CHARS,
    check_can_write_help,
    note_help_centre_changed,
)
from inbox.errors import Conflict, InvalidInput, NotFound
from inbox.models import Agent, HelpCategory, HelpCategoryName
from inbox.queries.help_categories import CategoryNames, category_names
from inbox.rules.help_articles import DEFAULT_LOCALE, normalize_locale, slugify


def clean_category_name(name: str) -> str:
    """Single spaces; InvalidInput when longer than ``MAX_CATEGORY_CHARS``."""
    cleaned = " ".join(name.split())
    if len(cleaned) > MAX_CATEGORY_CHARS:
        raise InvalidInput(f"a category's name has at most {MAX_CATEGORY_CHARS} characters")
    return cleaned


def access_category(session: Session, slug: str) -> HelpCategory:
    found = session.exec(select(HelpCategory).where(HelpCategory.slug == slug)).first()
    if found is None:
        raise NotFound("no such category")
    return found


def rename_category(
    session: Session, category: HelpCategory, *, actor: Agent, names: Mapping[str, str]
) -> list[str]:
    """Sets the category's name in each locale ``names`` gives (``locale -> name``): the
    default locale's may change but not go blank; a blank name in another locale removes it
    there, so pages in that locale show the default name. Two categories never share a name
    in one locale (Conflict). Returns the locales whose name changed; audited as
    ``help_category.renamed``."""
    check_can_write_help(actor)
    wanted: dict[str, str] = {}
    for code, name in names.items():
        locale = normalize_locale(code)
        if locale is None:
            raise InvalidInput("a locale is a language code such as en, de or pt-br")
        wanted[locale] = clean_category_name(name)
    if DEFAULT_LOCALE in wanted and not wanted[DEFAULT_LOCALE]:
        raise InvalidInput(f"a category needs a name in the default locale ({DEFAULT_LOCALE})")
    known = category_names(session)
    cid = category.id or 0
    current = {locale: name for (c, locale), name in known.translated.items() if c == cid}
    current[DEFAULT_LOCALE] = category.name
    changed = sorted(locale for locale, name in wanted.items() if name != current.get(locale, ""))
    for locale in changed:
        _check_name_free(known, category, locale, wanted[locale] or category.name)
    for locale in changed:
        name = wanted[locale]
        if locale == DEFAULT_LOCALE:
            category.name = name
            session.add(category)
            continue
        session.execute(
            delete(HelpCategoryName).where(
                col(HelpCategoryName.category_id) == cid, col(HelpCategoryName.locale) == locale
            )
        )
        if name:
            session.add(HelpCategoryName(category_id=cid, locale=locale, name=name))
    if not changed:
        return []
    session.flush()
    record_audit(
        session,
        "help_category.renamed",
        actor=actor,
        target_type="help_category",
        target_id=cid,
        detail={"slug": category.slug, "names": {locale: wanted[locale] for locale in changed}},
    )
    note_help_centre_changed(session)
    return changed


def _check_name_free(known: CategoryNames, category: HelpCategory, locale: str, name: str) -> None:
    """Authors pick a category by its name (``category_named``): no two may share one in a
    locale, nor may a default name make another category's address."""
    for other in known.categories.values():
        if other.id == category.id:
            continue
        same_address = locale == DEFAULT_LOCALE and slugify(name) == other.slug
        if same_address or known.name(other.id, locale).lower() == name.lower():
            raise Conflict(f"the category {other.slug} is already called {name} in {locale}")
