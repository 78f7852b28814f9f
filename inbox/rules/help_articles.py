"""Pure rules of the help centre: locales, slugs, and an article's Markdown as safe HTML.

Markdown is rendered by markdown-it-py (CommonMark, with tables and strikethrough); HTML
written into the Markdown is let through to the sanitiser, which keeps the mail allowlist
(``inbox.mail.sanitize.sanitize_article_html``): whatever an author writes, no script,
event handler, frame, form or remote resource reaches the public page.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import timedelta
from functools import lru_cache

from markdown_it import MarkdownIt

from inbox.mail.sanitize import sanitize_article_html
from inbox.rules.sign_in_limits import AddressLimit

DEFAULT_LOCALE = "en"
# A visit that opened a suggested article and wrote nothing for this long has ended: the
# article answered it.
VISIT_ENDS_AFTER = timedelta(hours=1)
MAX_SLUG_CHARS = 120
MAX_TITLE_CHARS = 200
MAX_BODY_CHARS = 100_000
# Readers' "Was this helpful?" answers from one network address.
FEEDBACK_LIMIT = AddressLimit(
    "help_feedback", limit=30, window=timedelta(hours=1), label="help-centre feedback"
)
LANGUAGE_NAMES = {
    "en": "English",
    "de": "Deutsch",
    "fr": "Français",
    "es": "Español",
    "it": "Italiano",
    "nl": "Nederlands",
    "pt": "Português",
    "pt-br": "Português (Brasil)",
    "pl": "Polski",
    "sv": "Svenska",
    "da": "Dansk",
    "fi": "Suomi",
    "nb": "Norsk bokmål",
    "cs": "Čeština",
    "tr": "Türkçe",
    "uk": "Українська",
    "ja": "日本語",
    "zh": "中文",
}
_LOCALE = re.compile(r"[a-z]{2,3}(?:-[a-z0-9]{2,8})?")
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_LANGUAGE_RANGE = re.compile(
    r"\s*([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*)\s*(?:;\s*q\s*=\s*([0-9.]+))?\s*"
)

_MARKDOWN = MarkdownIt("commonmark", {"html": True, "typographer": False}).enable(
    ["table", "strikethrough"]
)


def normalize_locale(code: str) -> str | None:
    """``de``, ``pt-br``: a language and optionally a region, lower case; None if not one."""
    code = code.strip().replace("_", "-").lower()
    return code if _LOCALE.fullmatch(code) else None


def article_path(slug: str, locale: str) -> str:
    """An article's path on the desk's site: the default locale needs no ``lang``."""
    path = f"/help/articles/{slug}"
    return path if locale == DEFAULT_LOCALE else f"{path}?lang={locale}"


def locale_name(code: str) -> str:
    """A locale's name in its own language, for the switcher; the code when unknown."""
    return LANGUAGE_NAMES.get(code, code)


def pick_locale(accept_language: str, available: Iterable[str], default: str) -> str:
    """The best of ``available`` for an ``Accept-Language`` header: the highest-weighted
    range that an available locale matches exactly or by its language (``de-AT`` finds
    ``de``, ``pt`` finds ``pt-br``); the desk's ``default`` when none does."""
    offered = sorted(set(available))
    ranges: list[tuple[float, int, str]] = []
    for n, part in enumerate(accept_language[:500].split(",")[:20]):
        found = _LANGUAGE_RANGE.fullmatch(part)
        if not found:
            continue
        try:
            weight = float(found.group(2)) if found.group(2) else 1.0
        except ValueError:
            continue
        if weight > 0:
            ranges.append((-weight, n, found.group(1).lower()))
    for _weight, _n, wanted in sorted(ranges):
        if wanted == "*":
            return default
        if wanted in offered:
            return wanted
        language = wanted.split("-")[0]
        if language in offered:
            return language
        same = [o for o in offered if o.split("-")[0] == language]
        if same:
            return same[0]
    return default


def slugify(text: str) -> str:
    """A readable URL part from a title: ASCII letters and digits joined by hyphens."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    slug = "-".join(words)[:MAX_SLUG_CHARS].strip("-")
    return slug


def valid_slug(slug: str) -> bool:
    return len(slug) <= MAX_SLUG_CHARS and bool(_SLUG.fullmatch(slug))


@lru_cache(maxsize=512)
def render_markdown(markdown: str) -> str:
    """An article's body as HTML safe to serve on the public page."""
    return sanitize_article_html(_MARKDOWN.render(markdown[:MAX_BODY_CHARS]))


def plain_summary(markdown: str, limit: int = 200) -> str:
    """The first words of an article, for search results and the page's description."""
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", " ", markdown[:5000])
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"(?m)^\s*(?:[-+*]|\d+[.)])\s+", " ", text)
    text = re.sub(r"<[^>]*>|[#*_`>|~]+", " ", text)
    text = re.sub(r"\s+([.,;:!?])", r"\1", " ".join(text.split()))
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"
