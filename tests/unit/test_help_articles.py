"""The help centre's pure rules: the visitor's locale, readable addresses, and Markdown that
comes out as the mail allowlist's HTML whatever the author wrote."""

from __future__ import annotations

import pytest

from inbox.rules.help_articles import (
    article_path,
    normalize_locale,
    pick_locale,
    plain_summary,
    render_markdown,
    slugify,
    valid_slug,
)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("de-AT,de;q=0.9,en;q=0.5", "de"),
        ("fr, en;q=0.5", "en"),
        ("pt", "pt-br"),
        ("en;q=0.2, de;q=0.8", "de"),
        ("fr", "en"),
        ("*", "en"),
        ("de;q=0", "en"),
        ("", "en"),
        ("de;q=banana, nonsense!!, de-CH", "de"),
    ],
)
def test_accept_language_picks_the_best_locale_the_help_centre_has(
    header: str, expected: str
) -> None:
    assert pick_locale(header, ["en", "de", "pt-br"], "en") == expected


def test_locales_and_slugs_are_normalised_or_refused() -> None:
    assert normalize_locale("pt_BR") == "pt-br"
    assert normalize_locale("english") is None
    assert (
        slugify("Zwei-Faktor-Codes: Schritt für Schritt!")
        == "zwei-faktor-codes-schritt-fur-schritt"
    )
    assert valid_slug("password-reset") and not valid_slug("Password Reset")
    assert not valid_slug("-x") and not valid_slug("a" * 121)
    assert article_path("locked-account", "en") == "/help/articles/locked-account"
    assert article_path("locked-account", "de") == "/help/articles/locked-account?lang=de"


def test_markdown_renders_through_the_mail_allowlist() -> None:
    html = render_markdown(
        "# Title\n\n**bold** [site](/help/articles/x) [out](https://example.com)"
        ' [bad](javascript:alert(1)) <b onclick="alert(1)">b</b>\n\n'
        '<script>alert(2)</script>\n\n<iframe src="https://example.com"></iframe>\n\n'
        f"![ok](/help/images/{'a' * 64}) ![remote](https://example.com/x.png)"
        ' <img src="data:image/png;base64,AAAA">\n\n| a | b |\n|---|---|\n| 1 | 2 |'
    )
    assert "<h1>Title</h1>" in html and "<strong>bold</strong>" in html
    assert '<a href="/help/articles/x" rel="noopener noreferrer nofollow">site</a>' in html
    assert 'href="https://example.com"' in html and "<td>1</td>" in html
    assert f'<img src="/help/images/{"a" * 64}" alt="ok">' in html
    for forbidden in (
        "onclick",
        "<script",
        "alert(2)",
        "<iframe",
        "x.png",
        "data:",
        'href="javascript',
    ):
        assert forbidden not in html, forbidden


def test_a_summary_is_the_first_plain_words() -> None:
    text = "1. Open **Payments**.\n2. Choose [the plan](/help/x).\n- Pick a day."
    assert plain_summary(text) == "Open Payments. Choose the plan. Pick a day."
    assert plain_summary("word " * 100, limit=20) == "word word word…"  # whole words only
