"""Sanitizing hostile HTML and rendering it as text, in bounded time and size."""

from __future__ import annotations

import pytest

from inbox.mail.sanitize import (
    MAX_HTML_CHARS,
    html_to_text,
    sanitize_html,
    sanitize_html_with_defect,
)


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
        '<img src="cid:a" onerror="alert(1)">',
        "<body onload=alert(1)>",
        '<p onclick="alert(1)" onmouseover=alert(1)>x</p>',
        "<svg onload=alert(1)><script>alert(1)</script></svg>",
        "<math><mtext><script>alert(1)</script></mtext></math>",
        '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
        '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
        "<scr<script>ipt>alert(1)</script>",
        '<a href="#" style="x:expression(alert(1))">x</a>',
        "<!--<script>alert(1)</script>-->",
        "<template><script>alert(1)</script></template>",
        '<div style="background:url(javascript:alert(1))">x</div>',
    ],
)
def test_script_and_event_handlers_never_survive_sanitizing(hostile: str) -> None:
    cleaned = sanitize_html(hostile).lower()
    assert "<script" not in cleaned and "javascript" not in cleaned
    assert " on" not in cleaned.replace(" onerror=alert(1)&gt;", "")  # escaped text is inert
    assert "expression" not in cleaned


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        " JaVaScRiPt:alert(1)",
        "java\tscript:alert(1)",
        "jav&#x09;ascript:alert(1)",
        "&#106;avascript:alert(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "//evil.example/",
        "/relative/path",
    ],
)
def test_dangerous_and_relative_link_targets_are_removed(href: str) -> None:
    cleaned = sanitize_html(f'<a href="{href}">link</a>')
    assert "href" not in cleaned and "link" in cleaned


@pytest.mark.parametrize(
    "href", ["https://example.com/a?b=1&amp;c=2", "http://example.com/", "mailto:help@example.com"]
)
def test_web_and_mail_links_survive_with_rel_noopener_noreferrer_nofollow(href: str) -> None:
    cleaned = sanitize_html(f'<a href="{href}" target="_top" rel="opener">link</a>')
    assert cleaned == f'<a href="{href}" rel="noopener noreferrer nofollow">link</a>'


def test_link_query_strings_keep_ampersand_parameters_that_look_like_entities() -> None:
    cleaned = sanitize_html('<a href="https://x.example/?a=1&copy=2&reg=3">x</a>')
    assert 'href="https://x.example/?a=1&amp;copy=2&amp;reg=3"' in cleaned


def test_only_images_from_the_mail_itself_survive() -> None:
    cleaned = sanitize_html(
        '<img src="cid:logo@example.org" alt="logo">'
        '<img src="https://track.example/open.gif" width="1" height="1">'
        '<img src="data:image/png;base64,iVBORw0KGgo=">'
        '<img srcset="https://track.example/a.png 2x"><img src="//track.example/p.gif">'
        '<table background="https://track.example/bg.png"><tr><td>x</td></tr></table>'
    )
    assert "track.example" not in cleaned and "data:" not in cleaned
    assert '<img src="cid:logo@example.org" alt="logo">' in cleaned


@pytest.mark.parametrize(
    "element",
    [
        '<form action="https://evil.example/"><input name="password"></form>',
        '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
        '<iframe src="https://evil.example/"></iframe>',
        '<object data="https://evil.example/x.swf"></object>',
        '<embed src="https://evil.example/x.swf">',
        '<svg><a xlink:href="https://evil.example/"><text>x</text></a></svg>',
        '<link rel="stylesheet" href="https://evil.example/x.css">',
        '<base href="https://evil.example/">',
        "<style>@import url(https://evil.example/x.css);</style>",
    ],
)
def test_forms_frames_svg_meta_and_plugins_are_removed(element: str) -> None:
    cleaned = sanitize_html(f"<p>before</p>{element}<p>after</p>")
    assert "evil.example" not in cleaned
    for tag in ("<form", "<input", "<meta", "<iframe", "<object", "<embed", "<svg", "<link"):
        assert tag not in cleaned
    assert cleaned.startswith("<p>before</p>") and cleaned.endswith("<p>after</p>")


def test_unsafe_styles_are_dropped_and_colours_kept() -> None:
    cleaned = sanitize_html(
        '<p style="color: #c00; position: fixed; top: 0">a</p>'
        '<p style="color: red; background-image: url(https://t.example/x)">b</p>'
        '<p style="color: re\\64">c</p><p style="width: expression(alert(1))">d</p>'
    )
    assert cleaned == '<p style="color:#c00">a</p><p>b</p><p>c</p><p>d</p>'


def test_tables_lists_and_formatting_survive() -> None:
    html = (
        '<h2>Order</h2><table><tbody><tr><th>Item</th><td colspan="2">Book</td></tr></tbody>'
        "</table><ul><li><b>bold</b></li><li><i>italic</i> <code>x</code></li></ul>"
        "<blockquote>quoted</blockquote><pre>  kept  </pre>"
    )
    assert sanitize_html(html) == html


def test_unclosed_paragraphs_list_items_and_cells_are_closed_like_a_browser_would() -> None:
    cleaned = sanitize_html("<ul><li>one<li>two</ul><p>a<p>b<table><tr><td>1<td>2<tr><td>3</table>")
    assert cleaned == (
        "<ul><li>one</li><li>two</li></ul><p>a</p><p>b</p><table><tbody><tr><td>1</td><td>2</td>"
        "</tr><tr><td>3</td></tr></tbody></table>"
    )


def test_text_before_an_unterminated_comment_tag_or_attribute_survives() -> None:
    assert sanitize_html("<p>kept</p><!-- never closed <p>gone</p>") == "<p>kept</p>"
    assert sanitize_html('<p>kept</p><a href="https://x.example') == "<p>kept</p>"
    assert sanitize_html("<p>kept</p><style>never closed") == "<p>kept</p>"


def test_lone_surrogates_and_nul_do_not_break_sanitizing() -> None:
    assert sanitize_html("<p>a\ud800b\x00c</p>") == "<p>a?bc</p>"


def test_five_thousand_levels_of_nesting_sanitize_to_bounded_output() -> None:
    html = "<div>" * 5000 + "deep" + "</div>" * 5000
    cleaned = sanitize_html(html)
    assert "deep" in cleaned and cleaned.count("<div>") == 100


@pytest.mark.parametrize(
    "flood",
    [
        "<div>" * (MAX_HTML_CHARS // 5),
        "<ul><li>" * (MAX_HTML_CHARS // 8),
        "<span>" * 100_000 + "</x>" * 100_000,
        "".join(f"<b id={n}>" for n in range(20_000)) + "<p>x" * 20_000,
        "&" * MAX_HTML_CHARS,
        "&amp;" * (MAX_HTML_CHARS // 5),
        "<" * MAX_HTML_CHARS,
        "<!--" * (MAX_HTML_CHARS // 4),
        "<a " + "x=1 " * (MAX_HTML_CHARS // 4) + ">",
    ],
    ids=[
        "divs",
        "lists",
        "stray-end-tags",
        "formatting",
        "ampersands",
        "references",
        "lt",
        "comments",
        "attributes",
    ],
)
def test_pathological_html_sanitizes_with_bounded_work(flood: str) -> None:
    cleaned, _note = sanitize_html_with_defect(flood)
    assert len(cleaned) <= 5 * MAX_HTML_CHARS
    assert len(html_to_text(flood)) <= MAX_HTML_CHARS


def test_a_megabyte_of_links_sanitizes_completely() -> None:
    links = '<a href="https://spam.example/x">offer</a> ' * 25_000
    cleaned, note = sanitize_html_with_defect(links)
    assert note is None and cleaned.count('rel="noopener noreferrer nofollow"') == 25_000


def test_too_much_markup_is_cut_short_with_a_note() -> None:
    cleaned, note = sanitize_html_with_defect("<b>x</b>" * 200_000)
    assert note == "HTML body has too much markup; the rest was dropped"
    assert 0 < cleaned.count("<b>") <= 100_000


def test_oversized_html_is_truncated_with_a_note() -> None:
    cleaned, note = sanitize_html_with_defect("<p>" + "x" * MAX_HTML_CHARS + "END</p>")
    assert note is not None and "truncated" in note and "END" not in cleaned


def test_html_to_text_drops_scripts_and_styles_and_decodes_entities() -> None:
    text = html_to_text(
        "<html><head><title>T</title><style>p{color:red}</style></head><body>"
        "<script>alert(1)</script><p>A&amp;B &lt;tag&gt; &euro;5&nbsp;net</p><p>C</p></body></html>"
    )
    assert text == "A&B <tag> €5 net\n\nC"


def test_html_to_text_turns_blocks_into_lines() -> None:
    text = html_to_text(
        "<div>Hello<br>there</div><ul><li>one</li><li>two</li></ul>"
        "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table><h1>Title</h1>end"
    )
    assert text == "Hello\nthere\n\n- one\n- two\n\na b\nc\n\nTitle\n\nend"


def test_html_to_text_keeps_preformatted_whitespace_and_drops_invisible_characters() -> None:
    text = html_to_text("<p>a\u200b  b\n c</p><pre>  x = 1\n  y = 2</pre>")
    assert text == "a b c\n\n  x = 1\n  y = 2"
