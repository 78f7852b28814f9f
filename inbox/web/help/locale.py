"""Which locale a visitor reads the help centre in, and the help centre's addresses.

``?lang=`` (the switcher's links) wins and is remembered in a cookie; then the cookie; then
the browser's ``Accept-Language``; then the desk's default locale.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Request

from inbox.rules.help_articles import (
    DEFAULT_LOCALE,
    article_path,
    normalize_locale,
    pick_locale,
)

LOCALE_COOKIE = "help_locale"


def request_locale(request: Request[Any, Any, Any], available: list[str]) -> tuple[str, bool]:
    """The locale to show, and whether the visitor just chose it (set the cookie)."""
    chosen = normalize_locale(request.query_params.get("lang", "") or "")
    if chosen in available:
        return chosen or DEFAULT_LOCALE, True
    remembered = normalize_locale(request.cookies.get(LOCALE_COOKIE, "") or "")
    if remembered in available:
        return remembered or DEFAULT_LOCALE, False
    header = request.headers.get("accept-language", "")
    return pick_locale(header, available, DEFAULT_LOCALE), False


def with_locale(path: str, locale: str) -> str:
    """A help-centre path in ``locale``: the default locale needs no parameter."""
    if locale == DEFAULT_LOCALE:
        return path
    return f"{path}{'&' if '?' in path else '?'}lang={quote(locale)}"


def article_url(base_url: str, slug: str, locale: str = DEFAULT_LOCALE) -> str:
    """An article's canonical address, as links in mail and chat carry it."""
    return base_url.rstrip("/") + article_path(slug, locale)
