"""Inbound HTML made safe to show, and a plain-text rendering of it.

Mail HTML is written by strangers. ``sanitize_html`` keeps an explicit allowlist (nh3): basic
formatting, tables, lists, links to http(s) and mailto, and images only from ``cid:`` parts of the
same mail, because the server never fetches remote content and the agent's browser should not
either (tracking pixels, leaked IP addresses).

Both functions first read the HTML with ``_Normaliser``, a small linear tokenizer that rebuilds
it as a well-formed tree at most ``MAX_DEPTH`` deep. It exists for time, not for safety (nh3
decides what is safe): html5ever takes quadratic time on deeply nested blocks and on long runs of
character references, and ``html.parser`` does on unterminated comments and tags, so one hostile
mail could otherwise hold a worker for minutes. The plain-text rendering is built from the same
tree, for the same reason.
"""

from __future__ import annotations

import re
from html import escape, unescape
from typing import Protocol

import nh3

MAX_HTML_CHARS = 2_000_000
MAX_MARKUP = 100_000  # tags, attributes, comments and declarations read from one document
MAX_DEPTH = 100
MAX_ATTRIBUTES = 32
MAX_ATTRIBUTE_CHARS = 8_192
_TEXT_RUN = 2_048  # text is split by a no-op tag this often, so no text run gets long


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


_MARKUP = re.compile(r"<[A-Za-z!?/]")
_TAG = re.compile(r"<(/?)([A-Za-z][^\t\n\f\r />]*)")
_COMMENT_END = re.compile(r"--!?>")
_SPACE_SLASH = re.compile(r"[\t\n\f\r /]*")
_ATTR_NAME = re.compile(r"[^\t\n\f\r />][^\t\n\f\r /=>]*")
_EQUALS = re.compile(r"[\t\n\f\r ]*=[\t\n\f\r ]*")
_UNQUOTED = re.compile(r"[^\t\n\f\r >]*")
_TAG_NAME_OK = re.compile(r"[a-z][a-z0-9-]{0,31}")
_ATTR_NAME_OK = re.compile(r"[a-z_:][a-z0-9_.:-]{0,63}")
# In attributes HTML decodes only terminated references, so "?a=1&copy=2" survives in URLs.
_ATTR_REFERENCE = re.compile(r"&(?:#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|[A-Za-z][A-Za-z0-9]{1,31};)")

_VOID = _names(
    "area base basefont bgsound br col embed frame hr img input keygen link meta param source "
    "track wbr"
)
# Elements whose content is raw text; none of them reaches the output as an element.
_RAW_TEXT = _names("script style title textarea xmp iframe noembed noframes noscript")
_RAW_TEXT_SHOWN = frozenset({"textarea", "xmp"})
_RAW_TEXT_END = {name: re.compile(rf"</{name}[\t\n\f\r />]", re.IGNORECASE) for name in _RAW_TEXT}
_DROPPED_WITH_CONTENT = _names("svg math template object applet select frameset")
_DROPPED_TAG_ONLY = frozenset({"html", "head", "body"})
_BUTTON_SCOPE = ("table", "td", "th", "caption", "button", "object", "marquee", "template")
_CLOSES_P = _names(
    "address article aside blockquote center details dialog dir div dl fieldset figcaption "
    "figure footer form h1 h2 h3 h4 h5 h6 header hr li dd dt main menu nav ol p pre section "
    "summary table ul"
)
# Start tags that end an open sibling, as HTML's tree builder does: (closed, unless inside).
_IMPLIED_END: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "li": (("li",), ("ul", "ol", "menu", "table", "td", "th")),
    "dt": (("dt", "dd"), ("dl", "table", "td", "th")),
    "dd": (("dt", "dd"), ("dl", "table", "td", "th")),
    "tr": (("tr", "td", "th"), ("table", "thead", "tbody", "tfoot")),
    "td": (("td", "th"), ("tr", "table")),
    "th": (("td", "th"), ("tr", "table")),
    "thead": (("thead", "tbody", "tfoot"), ("table",)),
    "tbody": (("thead", "tbody", "tfoot"), ("table",)),
    "tfoot": (("thead", "tbody", "tfoot"), ("table",)),
}


class _Sink(Protocol):
    def start(self, name: str, attributes: list[tuple[str, str]]) -> None: ...
    def end(self, name: str) -> None: ...
    def text(self, text: str) -> None: ...


class _Normaliser:
    """Reads any HTML and tells a sink a well-formed tree at most ``MAX_DEPTH`` deep.

    Tokenizing follows the HTML standard where it matters (comments, raw text, attribute
    quoting, a tag cut off by the end of input is no tag); tree building keeps the few rules
    mail relies on (unclosed p, li, td, tr). Every step consumes input and the markup budget
    bounds the steps, so the work is linear in the input.
    """

    def __init__(self, sink: _Sink) -> None:
        self.sink = sink
        self.stack: list[str] = []
        self.open_at: dict[str, list[int]] = {}
        self.dropped: dict[str, int] = {}
        self.skipping: str | None = None
        self.skip_depth = 0
        self.budget = MAX_MARKUP

    def run(self, html: str) -> bool:
        """Feed the whole document to the sink; False when the markup budget ran out first."""
        html = html.encode("utf-8", "replace").decode("utf-8")  # no lone surrogates for nh3
        pos = 0
        while pos < len(html) and self.budget > 0:
            found = _MARKUP.search(html, pos)
            if found is None:
                self.text(html[pos:])
                pos = len(html)
            else:
                self.text(html[pos : found.start()])
                self.budget -= 1
                pos = self.markup(html, found.start())
        self.pop_to(0)
        return self.budget >= 0 and pos >= len(html)

    def markup(self, html: str, start: int) -> int:
        if html.startswith("<!--", start):
            if html.startswith(">", start + 4) or html.startswith("->", start + 4):
                return html.index(">", start + 4) + 1
            end = _COMMENT_END.search(html, start + 4)
            return end.end() if end else len(html)
        tag = _TAG.match(html, start)
        if tag is None:  # a declaration, processing instruction or "</" junk: a bogus comment
            close = html.find(">", start + 2)
            return close + 1 if close >= 0 else len(html)
        pos, attributes = self.attributes(html, tag.end())
        if attributes is None:  # the document ended inside the tag, so the tag never was
            return len(html)
        name = tag.group(2).lower()
        if tag.group(1):
            self.end_tag(name)
        elif name in _RAW_TEXT:
            return self.raw_text(html, pos, name)
        else:
            self.start_tag(name, attributes)
        return pos

    def attributes(self, html: str, pos: int) -> tuple[int, list[tuple[str, str]] | None]:
        found: dict[str, str] = {}
        while True:
            pos = _SPACE_SLASH.match(html, pos).end()  # type: ignore[union-attr]
            if pos >= len(html):
                break
            if html[pos] == ">":
                return pos + 1, list(found.items())
            self.budget -= 1
            if self.budget < 0:
                break
            name_match = _ATTR_NAME.match(html, pos)
            assert name_match is not None  # html[pos] is neither space, "/" nor ">"
            name, pos = name_match.group().lower(), name_match.end()
            value = ""
            equals = _EQUALS.match(html, pos)
            if equals:
                pos = equals.end()
                if pos < len(html) and html[pos] in "\"'":
                    close = html.find(html[pos], pos + 1)
                    if close < 0:
                        break
                    value, pos = html[pos + 1 : close], close + 1
                else:
                    unquoted = _UNQUOTED.match(html, pos)
                    assert unquoted is not None  # the pattern also matches nothing
                    value, pos = unquoted.group(), unquoted.end()
            if name not in found and len(found) < MAX_ATTRIBUTES and _ATTR_NAME_OK.fullmatch(name):
                value = _ATTR_REFERENCE.sub(lambda ref: unescape(ref.group()), value)
                found[name] = value[:MAX_ATTRIBUTE_CHARS].replace("\x00", "")
        return len(html), None

    def raw_text(self, html: str, pos: int, name: str) -> int:
        end = _RAW_TEXT_END[name].search(html, pos)
        content = html[pos : end.start() if end else len(html)]
        if name in _RAW_TEXT_SHOWN:
            self.text(content)
        if end is None:
            return len(html)
        close = html.find(">", end.end() - 1)
        return close + 1 if close >= 0 else len(html)

    def start_tag(self, name: str, attributes: list[tuple[str, str]]) -> None:
        if self.skipping is not None:
            self.skip_depth += name == self.skipping
            return
        if name in _DROPPED_WITH_CONTENT:
            self.skipping, self.skip_depth = name, 1
            return
        if name in _DROPPED_TAG_ONLY or not _TAG_NAME_OK.fullmatch(name):
            return
        implied = _IMPLIED_END.get(name)
        if implied:
            self.close_within(*implied)
        if name in _CLOSES_P and self.open_at.get("p"):
            self.close_within(("p",), _BUTTON_SCOPE)
        if name in _VOID:
            self.sink.start(name, attributes)
        elif len(self.stack) >= MAX_DEPTH:
            self.dropped[name] = self.dropped.get(name, 0) + 1
        else:
            self.sink.start(name, attributes)
            self.open_at.setdefault(name, []).append(len(self.stack))
            self.stack.append(name)

    def end_tag(self, name: str) -> None:
        if self.skipping is not None:
            if name == self.skipping:
                self.skip_depth -= 1
                if not self.skip_depth:
                    self.skipping = None
            return
        if self.dropped.get(name):
            self.dropped[name] -= 1
        elif self.open_at.get(name):
            self.pop_to(self.open_at[name][-1])

    def close_within(self, targets: tuple[str, ...], boundaries: tuple[str, ...]) -> None:
        """Close the outermost open target that no boundary element (say a table) encloses."""
        open_at = self.open_at
        boundary = max((open_at[b][-1] for b in boundaries if open_at.get(b)), default=-1)
        target = min(
            (open_at[t][-1] for t in targets if open_at.get(t) and open_at[t][-1] > boundary),
            default=-1,
        )
        if target >= 0:
            self.pop_to(target)

    def pop_to(self, index: int) -> None:
        while len(self.stack) > index:
            name = self.stack.pop()
            self.open_at[name].pop()
            self.sink.end(name)

    def text(self, raw: str) -> None:
        if raw and self.skipping is None:
            self.sink.text(unescape(raw).replace("\x00", ""))


class _HtmlWriter:
    """Serialises the normalised tree for nh3, breaking up long text runs."""

    def __init__(self) -> None:
        self.out: list[str] = []

    def start(self, name: str, attributes: list[tuple[str, str]]) -> None:
        rendered = "".join(f' {key}="{escape(value)}"' for key, value in attributes)
        self.out.append(f"<{name}{rendered}>")

    def end(self, name: str) -> None:
        self.out.append(f"</{name}>")

    def text(self, text: str) -> None:
        for start in range(0, len(text), _TEXT_RUN):
            if start:
                self.out.append("<wbr>")
            self.out.append(escape(text[start : start + _TEXT_RUN], quote=False))


_TAGS = _names(
    "a abbr b big blockquote br caption center cite code col colgroup dd del dfn div dl dt em "
    "font h1 h2 h3 h4 h5 h6 hr i img ins kbd li mark ol p pre q s samp small span strike strong "
    "sub sup table tbody td tfoot th thead tr tt u ul var"
)
_CONTENT_REMOVED = _names(
    "script style title svg math template iframe frame frameset object applet embed noscript "
    "noembed noframes select head"
)
_CELL = frozenset({"colspan", "rowspan", "width", "height", "bgcolor", "nowrap", "scope"})
_ATTRIBUTES = {
    "*": frozenset({"dir", "lang", "title", "style", "align", "valign"}),
    "a": frozenset({"href"}),
    "img": frozenset({"src", "alt", "width", "height"}),
    "table": frozenset({"width", "border", "cellpadding", "cellspacing", "bgcolor"}),
    "tr": frozenset({"bgcolor"}),
    "td": _CELL,
    "th": _CELL,
    "col": frozenset({"span", "width"}),
    "colgroup": frozenset({"span", "width"}),
    "font": frozenset({"color", "face", "size"}),
    "ol": frozenset({"start", "type", "reversed"}),
    "ul": frozenset({"type"}),
    "li": frozenset({"value"}),
}
# Layout and colour only: nothing that can load a resource or move content over the page.
_STYLE_PROPERTIES = _names(
    "color background-color font-family font-size font-style font-weight text-align "
    "text-decoration text-indent text-transform vertical-align line-height letter-spacing "
    "white-space width max-width min-width height margin margin-top margin-right "
    "margin-bottom margin-left padding padding-top padding-right padding-bottom padding-left "
    "border border-top border-right border-bottom border-left border-color border-style "
    "border-width border-collapse border-spacing border-radius list-style-type"
)
# A style that so much as mentions these is dropped whole, before nh3 filters properties.
_UNSAFE_STYLE = re.compile(
    r"url\s*\(|image|expression|javascript|behavio|binding|import|\\|/\*|@|&|<", re.IGNORECASE
)
_SCHEME = re.compile(r"([a-z][a-z0-9+.-]*):")
_LINK_SCHEMES = frozenset({"http", "https", "mailto"})


def _scheme(url: str) -> str:
    """The scheme a browser would see: it ignores ASCII whitespace and controls inside it."""
    found = _SCHEME.match(re.sub(r"[\x00-\x20]+", "", url).lower())
    return found.group(1) if found else ""


def _filter_attribute(element: str, attribute: str, value: str) -> str | None:
    if attribute == "href":
        return value if _scheme(value) in _LINK_SCHEMES else None
    if attribute == "src":  # a remote image would be fetched by the agent's browser
        return value if element == "img" and _scheme(value) == "cid" else None
    if attribute == "style":
        return None if _UNSAFE_STYLE.search(value) else value
    return value


_CLEANER = nh3.Cleaner(
    tags=_TAGS,
    clean_content_tags=_CONTENT_REMOVED,
    attributes=_ATTRIBUTES,
    attribute_filter=_filter_attribute,
    strip_comments=True,
    link_rel="noopener noreferrer nofollow",
    url_schemes=set(_LINK_SCHEMES | {"cid"}),
    filter_style_properties=_STYLE_PROPERTIES,
    url_relative="deny",
)


# A help-centre article's own images, uploaded into the blob store (``/help/images/<sha256>``).
ARTICLE_IMAGE = re.compile(r"/help/images/[0-9a-f]{64}")
_SITE_PATH = re.compile(r"/(?![/\\])[^\x00-\x20\\]*")


def _filter_article_attribute(element: str, attribute: str, value: str) -> str | None:
    """As for mail, but an article may also link to a page of the desk's own site and show
    the images uploaded for articles, and nothing else from anywhere."""
    if attribute == "href" and _SITE_PATH.fullmatch(value):
        return value
    if attribute == "src":
        return value if element == "img" and ARTICLE_IMAGE.fullmatch(value) else None
    return _filter_attribute(element, attribute, value)


_ARTICLE_CLEANER = nh3.Cleaner(
    tags=_TAGS,
    clean_content_tags=_CONTENT_REMOVED,
    attributes=_ATTRIBUTES,
    attribute_filter=_filter_article_attribute,
    strip_comments=True,
    link_rel="noopener noreferrer nofollow",
    url_schemes=set(_LINK_SCHEMES),
    filter_style_properties=_STYLE_PROPERTIES,
    url_relative="pass_through",
)


def sanitize_article_html(html: str) -> str:
    """A help-centre article's HTML (rendered from its Markdown) through the mail allowlist:
    the same elements, attributes and styles; links to http(s), mailto and the desk's own
    paths; images only those uploaded for articles."""
    writer = _HtmlWriter()
    _Normaliser(writer).run(html[:MAX_HTML_CHARS])
    return _ARTICLE_CLEANER.clean("".join(writer.out))


def sanitize_html_with_defect(html: str) -> tuple[str, str | None]:
    """Sanitized HTML and, when the input had to be cut short, a note saying so."""
    note = None
    if len(html) > MAX_HTML_CHARS:
        html, note = html[:MAX_HTML_CHARS], "HTML body longer than 2,000,000 characters; truncated"
    writer = _HtmlWriter()
    if not _Normaliser(writer).run(html):
        note = note or "HTML body has too much markup; the rest was dropped"
    return _CLEANER.clean("".join(writer.out)), note


def sanitize_html(html: str) -> str:
    """Allowlisted, inert HTML: no script, no remote content, links only to http(s)/mailto."""
    return sanitize_html_with_defect(html)[0]


_PARAGRAPH = _names("p h1 h2 h3 h4 h5 h6 blockquote pre table ul ol dl hr")
_LINE = _names(
    "div tr li dt dd caption address article aside center footer header section "
    "figure figcaption form fieldset main nav"
)
_INVISIBLE = re.compile("[\u00ad\u034f\u200b-\u200d\u2060\ufeff]")


class _TextWriter:
    """Plain text from the normalised tree: blocks become line breaks, whitespace collapses."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.newlines = 2  # newlines ending the output so far; 2 means "at a paragraph start"
        self.pre = 0

    def start(self, name: str, attributes: list[tuple[str, str]]) -> None:
        self.pre += name == "pre"
        if name in _PARAGRAPH:
            self._break(2)
        elif name in _LINE:
            self._break(1)
        if name == "br":
            self.out.append("\n")
            self.newlines += 1
        elif name == "li":
            self._write("- ")
        elif name in ("td", "th"):
            self._space()

    def end(self, name: str) -> None:
        if name == "pre":
            self.pre -= 1
        if name in _PARAGRAPH:
            self._break(2)
        elif name in _LINE:
            self._break(1)

    def text(self, text: str) -> None:
        text = _INVISIBLE.sub("", text)
        if self.pre:
            self._write(text)
            return
        words = " ".join(text.split())
        if text[:1].isspace():
            self._space()
        self._write(words)
        if words and text[-1:].isspace():
            self._space()

    def _break(self, count: int) -> None:
        if self.newlines < count:
            self.out.append("\n" * (count - self.newlines))
            self.newlines = count

    def _space(self) -> None:
        if not self.newlines and self.out and not self.out[-1].endswith(" "):
            self.out.append(" ")

    def _write(self, text: str) -> None:
        if text:
            self.out.append(text)
            stripped = text.rstrip("\n")
            self.newlines = len(text) - len(stripped) if stripped else self.newlines + len(text)

    def result(self) -> str:
        text = re.sub(r"[ \t]+\n", "\n", "".join(self.out))
        return re.sub(r"\n{3,}", "\n\n", text).strip()


def html_to_text(html: str) -> str:
    """A plain-text rendering for search, previews and mail without a text part."""
    writer = _TextWriter()
    _Normaliser(writer).run(html[:MAX_HTML_CHARS])
    return writer.result()
