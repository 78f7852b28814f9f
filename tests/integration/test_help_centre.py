"""The public help centre at /help: no sign-in, categories, articles in the reader's locale,
search as the inbox searches, feedback, the sitemap; and nothing an author writes runs."""

from __future__ import annotations

import re

import pytest
from sqlmodel import col, select, update

from inbox.actions.help import ArticleChange, change_article
from inbox.db import Database
from inbox.models import Agent, HelpArticle, HelpFeedback, HelpSearchMiss
from inbox.web.help import pages as help_pages
from inbox.web.help.throttle import AddressWindow
from tests.support.desk import make_agent
from tests.support.help_centre import write_article
from tests.support.processes import wait_for
from tests.support.web import Client, csrf_token


@pytest.fixture
def writer(db: Database) -> str:
    make_agent(db, email="writer@example.com", role="manager", name="Wendy Writer")
    return "writer@example.com"


def _titles(html: str) -> list[str]:
    return re.findall(r'<a href="/help/articles/[^"]+"><strong>([^<]+)</strong>', html)


def test_a_visitor_reads_published_articles_by_category_without_signing_in(
    client: Client, db: Database, writer: str
) -> None:
    write_article(db, "Reset your password", "Use **Forgot password**.", category="Signing in")
    write_article(db, "Two-factor codes", "Codes change every 30 seconds.", category="Signing in")
    write_article(db, "Secret draft", "Not yet.", category="Signing in", status="draft")
    home = client.get("/help")
    assert home.status_code == 200
    assert "Signing in" in home.text and "Reset your password" in home.text
    assert "Secret draft" not in home.text
    page = client.get("/help/articles/reset-your-password")
    assert page.status_code == 200
    assert "<strong>Forgot password</strong>" in page.text
    assert "<title>Reset your password · Help centre" in page.text
    assert (
        '<link rel="canonical" href="http://127.0.0.1:8000/help/articles/reset-your-password">'
        in page.text
    )
    assert client.get("/help/articles/secret-draft").status_code == 404
    category = client.get("/help/categories/signing-in")
    assert _titles(category.text) == ["Reset your password", "Two-factor codes"]


def test_accept_language_picks_the_translation_and_the_switcher_changes_it(
    client: Client, db: Database, writer: str
) -> None:
    write_article(db, "Locked account", "Wait fifteen minutes.", slug="locked-account")
    write_article(
        db, "Gesperrtes Konto", "Warten Sie fünfzehn Minuten.", slug="locked-account", locale="de"
    )
    german = client.get(
        "/help/articles/locked-account", headers={"Accept-Language": "de-AT,de;q=0.9"}
    )
    assert "Gesperrtes Konto" in german.text and 'lang="de"' in german.text
    assert 'href="http://127.0.0.1:8000/help/articles/locked-account?lang=de"' in german.text
    english = client.get(
        "/help/articles/locked-account", headers={"Accept-Language": "fr, en;q=0.5"}
    )
    assert "Locked account" in english.text
    # The switcher's link, then the choice is remembered.
    switched = client.get(
        "/help/articles/locked-account?lang=de", headers={"Accept-Language": "en"}
    )
    assert "Gesperrtes Konto" in switched.text
    later = client.get("/help", headers={"Accept-Language": "en"})
    assert 'aria-current="true">Deutsch' in later.text


def test_search_finds_whole_words_and_the_word_being_typed(
    client: Client, db: Database, writer: str
) -> None:
    write_article(db, "Unrecognised purchase", "A payment you do not know on your statement.")
    write_article(db, "Change an instalment date", "Move the date of a payment.")
    write_article(db, "Draft about payments", "payment payment", status="draft")
    both = client.get("/help/search", params={"q": "payment"})
    assert sorted(_titles(both.text)) == ["Change an instalment date", "Unrecognised purchase"]
    typing = client.get("/help/search", params={"q": "instal"})
    assert _titles(typing.text) == ["Change an instalment date"]
    # Query syntax is literal: quotes, stars and operators are only separators.
    assert _titles(client.get("/help/search", params={"q": '"unrecognised" (purch*'}).text) == [
        "Unrecognised purchase"
    ]
    nothing = client.get("/help/search", params={"q": "mortgage rates"})
    assert "No article matches" in nothing.text
    client.get("/help/search", params={"q": "Mortgage  rates"})
    with db.reading() as session:
        miss = session.exec(select(HelpSearchMiss)).one()
    assert (miss.term, miss.count) == ("mortgage rates", 2)


def test_suggestions_answer_json_for_a_form_that_types(
    client: Client, db: Database, writer: str
) -> None:
    write_article(db, "Password reset", "Forgot it? Reset it.")
    found = client.get("/help/suggest", params={"q": "passw"})
    assert found.status_code == 200
    assert found.json() == {
        "items": [
            {
                "title": "Password reset",
                "url": "http://127.0.0.1:8000/help/articles/password-reset",
                "summary": "Forgot it? Reset it.",
            }
        ]
    }
    # A topic typed as a sentence: not every word is in the article, its longer ones are.
    sentence = client.get("/help/suggest", params={"q": "I forgot my password"}).json()
    assert [i["title"] for i in sentence["items"]] == ["Password reset"]
    assert client.get("/help/suggest", params={"q": "my new car"}).json() == {"items": []}
    assert client.get("/help/suggest", params={"q": ""}).json() == {"items": []}


def test_script_written_into_an_article_never_reaches_the_page(
    client: Client, db: Database, writer: str
) -> None:
    body = (
        "Hello <script>alert('x')</script>\n\n"
        "<img src=x onerror=\"alert('y')\"> [click](javascript:alert('z'))\n\n"
        '<a href="javascript:alert(\'w\')">link</a> <iframe src="https://evil.example"></iframe>\n\n'
        "<svg onload=alert(1)></svg> <form action=https://evil.example><input></form>\n\n"
        '![tracker](https://evil.example/pixel.png) <span style="background:url(x)">s</span>'
    )
    write_article(db, "Hostile", body, slug="hostile")
    page = client.get("/help/articles/hostile")
    assert page.status_code == 200
    article = page.text.split('<div class="help-body">', 1)[1].split("</div>", 1)[0]
    assert "<script" not in article and "alert('x')" not in article
    tags = " ".join(re.findall(r"<[^>]*>", article))
    for forbidden in (
        "alert(",
        "onerror",
        "javascript:",
        "<iframe",
        "<svg",
        "<form",
        "<input",
        "evil.example",
        "url(",
    ):
        assert forbidden not in tags, forbidden
    assert "script-src 'self'" in page.headers["content-security-policy"]


def test_a_reader_says_whether_an_article_helped(client: Client, db: Database, writer: str) -> None:
    article_id = write_article(db, "Two-factor codes", "Codes change.", slug="codes")
    page = client.get("/help/articles/codes")
    answer = client.post(
        "/help/articles/codes/feedback",
        data={
            "helpful": "no",
            "comment": "My code is never accepted",
            "_csrf_token": csrf_token(page.text),
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303 and answer.headers["location"].endswith("thanks=1#feedback")
    assert "Thank you for your answer" in client.get(answer.headers["location"]).text
    forged = client.post("/help/articles/codes/feedback", data={"helpful": "yes"})
    assert forged.status_code == 403  # no CSRF token
    with db.reading() as session:
        article = session.get(HelpArticle, article_id)
        feedback = session.exec(select(HelpFeedback)).all()
    assert article is not None and (article.helpful_yes, article.helpful_no) == (0, 1)

    def views() -> bool:  # counted in memory, written within a second
        with db.reading() as session:
            return (
                session.exec(select(HelpArticle.views).where(HelpArticle.id == article_id)).one()
                == 2
            )

    wait_for(views, timeout=5, what="the two views written")
    assert [(f.helpful, f.comment) for f in feedback] == [(False, "My code is never accepted")]


def test_the_sitemap_lists_every_published_article_in_every_locale(
    client: Client, db: Database, writer: str
) -> None:
    write_article(db, "Password reset", slug="password-reset")
    write_article(db, "Passwort zurücksetzen", slug="password-reset", locale="de")
    write_article(db, "Draft", status="draft")
    sitemap = client.get("/sitemap.xml")
    assert sitemap.status_code == 200 and sitemap.headers["content-type"].startswith(
        "application/xml"
    )
    locations = re.findall(r"<loc>([^<]+)</loc>", sitemap.text)
    assert sorted(locations) == [
        "http://127.0.0.1:8000/help",
        "http://127.0.0.1:8000/help/articles/password-reset",
        "http://127.0.0.1:8000/help/articles/password-reset?lang=de",
    ]
    assert client.get("/help/sitemap.xml").text == sitemap.text


def test_published_pages_are_cached_until_the_help_centre_changes(
    client: Client, db: Database, writer: str
) -> None:
    article_id = write_article(db, "Two-factor codes", "Codes change every 30 seconds.")
    assert "every 30 seconds" in client.get("/help/articles/two-factor-codes").text
    # A change behind the actions' back is not seen: the page comes from the cache.
    with db.unit_of_work() as session:
        session.execute(
            update(HelpArticle)
            .where(col(HelpArticle.id) == article_id)
            .values(body_markdown="Codes change every minute.")
        )
    assert "every 30 seconds" in client.get("/help/articles/two-factor-codes").text
    # An edit through the actions (here, another web process's API) starts a new revision.
    with db.unit_of_work() as session:
        agent = session.exec(select(Agent).where(Agent.email == writer)).one()
        article = session.get(HelpArticle, article_id)
        assert article is not None
        change_article(
            session,
            article,
            actor=agent,
            change=ArticleChange(body_markdown="Codes change every 60 seconds."),
        )
    assert "every 60 seconds" in client.get("/help/articles/two-factor-codes").text
    write_article(db, "Another", "text")
    assert "Another" in client.get("/help").text


def test_one_address_searching_too_fast_is_told_to_wait(
    client: Client, db: Database, writer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(help_pages, "SEARCHES", AddressWindow(limit=3, window=60.0))
    write_article(db, "Password reset", "Forgot it? Reset it.")
    for _ in range(2):
        assert client.get("/help/suggest", params={"q": "pass"}).status_code == 200
    assert client.get("/help/search", params={"q": "password"}).status_code == 200
    refused = client.get("/help/suggest", params={"q": "pass"})
    assert refused.status_code == 429 and refused.json()["error"] == "throttled"
    assert client.get("/help/search", params={"q": "password"}).status_code == 429
    # Reading articles is not searching.
    assert client.get("/help/articles/password-reset").status_code == 200
