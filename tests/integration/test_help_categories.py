"""Help-centre categories named per locale, like articles: the writers name them on
``/admin/help/categories`` or through ``/api/v1/help/categories``; the public pages in a
locale show its name there, else the default locale's. Runs on SQLite and on PostgreSQL
(``INBOX_TEST_DATABASE=postgres``)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlmodel import col, select

from inbox.db import Database
from inbox.models import AuditEvent, HelpCategory
from tests.support.desk import make_agent
from tests.support.help_centre import write_article
from tests.support.web import Client, csrf_token, sign_in

AUTHOR = "author@example.com"


@pytest.fixture
def articles(db: Database) -> None:
    """A manager's articles in English and German, in two categories."""
    make_agent(db, email=AUTHOR, role="manager", name="Anna Author")
    for title, slug, category, locale in (
        ("Reset your password", "reset", "Signing in", "en"),
        ("Passwort zurücksetzen", "reset", "Signing in", "de"),
        ("A card payment failed", "card", "Payments", "en"),
        ("Kartenzahlung fehlgeschlagen", "card", "Payments", "de"),
    ):
        write_article(db, title, slug=slug, category=category, locale=locale, author=AUTHOR)


def _names(page: str) -> list[str]:
    """The category headings of the help centre's front page."""
    return re.findall(r'<h2><a href="/help/categories/[^"]+">([^<]+)</a></h2>', page)


def _rename(client: Client, slug: str, **fields: str) -> Any:
    page = client.get("/admin/help/categories")
    data = {k.replace("__", ":"): v for k, v in fields.items()}
    return client.post(
        f"/admin/help/categories/{slug}",
        data={**data, "_csrf_token": csrf_token(page.text)},
        follow_redirects=False,
    )


def test_a_writer_names_a_category_per_locale_and_the_public_pages_follow(
    manager: Client, db: Database, articles: None
) -> None:
    assert _names(manager.get("/help?lang=de").text) == ["Payments", "Signing in"]
    page = manager.get("/admin/help/categories")
    assert page.status_code == 200
    assert 'name="name:en" maxlength="100" value="Signing in"' in page.text
    assert 'name="name:de" maxlength="100" value=""' in page.text  # a locale of articles

    saved = _rename(manager, "signing-in", name__en="Signing in", name__de="Anmelden")
    assert saved.status_code == 303
    added = _rename(manager, "payments", name__en="Payments", new_locale="de", new_name="Zahlungen")
    assert added.status_code == 303

    assert _names(manager.get("/help?lang=de").text) == ["Anmelden", "Zahlungen"]
    assert _names(manager.get("/help?lang=en").text) == ["Payments", "Signing in"]
    category = manager.get("/help/categories/signing-in?lang=de").text
    assert "<h1>Anmelden</h1>" in category and "<title>Anmelden · Help centre" in category
    article = manager.get("/help/articles/reset?lang=de").text
    assert "\u203a Anmelden</nav>" in article
    assert "\u203a Signing in</nav>" in manager.get("/help/articles/reset?lang=en").text
    found = manager.get("/help/search?q=passwort&lang=de").text
    assert "Anmelden" in found and "Signing in" not in found

    with db.reading() as session:
        audit = session.exec(
            select(AuditEvent)
            .where(AuditEvent.action == "help_category.renamed")
            .order_by(col(AuditEvent.id))
        ).all()
    assert [a.detail["names"] for a in audit] == [{"de": "Anmelden"}, {"de": "Zahlungen"}]

    # A blank name in a locale removes it there: the default name shows again.
    assert _rename(manager, "payments", name__de="").status_code == 303
    assert _names(manager.get("/help?lang=de").text) == ["Anmelden", "Payments"]


def test_a_locale_without_a_name_shows_the_default_one_and_the_address_stays(
    manager: Client, db: Database, articles: None
) -> None:
    write_article(
        db, "Réinitialiser", slug="reset", category="Signing in", locale="fr", author=AUTHOR
    )
    assert _rename(manager, "signing-in", name__en="Access and sign-in").status_code == 303
    assert _names(manager.get("/help?lang=fr").text) == ["Access and sign-in"]
    assert manager.get("/help/categories/signing-in?lang=fr").status_code == 200


def test_an_article_typed_with_a_translated_name_joins_that_category(
    manager: Client, db: Database, articles: None
) -> None:
    _rename(manager, "signing-in", name__de="Anmelden")
    write_article(
        db, "Zwei-Faktor-Codes", slug="codes", category="anmelden", locale="de", author=AUTHOR
    )
    with db.reading() as session:
        slugs = sorted(c.slug for c in session.exec(select(HelpCategory)))
    assert slugs == ["payments", "signing-in"]  # no new category "anmelden"
    listing = manager.get("/help?lang=de").text
    assert re.search(r"Anmelden</a></h2>\s*<ul[^>]*>.*Zwei-Faktor-Codes", listing, re.S)


def test_names_that_would_confuse_authors_are_refused_with_what_was_typed(
    manager: Client, articles: None
) -> None:
    _rename(manager, "signing-in", name__de="Anmelden")
    taken = _rename(manager, "payments", name__de="anmelden")
    assert taken.status_code == 409 and "already called anmelden in de" in taken.text
    assert 'value="anmelden"' in taken.text  # kept for another try
    assert _rename(manager, "payments", name__en="Signing in").status_code == 409
    assert _rename(manager, "payments", name__en="  ").status_code == 422
    assert _rename(manager, "payments", new_locale="not a locale", new_name="x").status_code == 422
    assert _rename(manager, "no-such-category", name__de="X").status_code == 404


def test_agents_may_not_name_categories(client: Client, db: Database, articles: None) -> None:
    make_agent(db, email="agent@example.com", role="agent")
    sign_in(client, "agent@example.com")
    assert client.get("/admin/help/categories").status_code == 403


def _bearer(db: Database, email: str, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_agent(db, email=email, role=role, name=role)[1]}"}


def test_the_api_lists_and_names_categories_per_locale(
    client: Client, db: Database, articles: None
) -> None:
    manager = _bearer(db, "manager@example.com", "manager")
    agent = _bearer(db, "agent@example.com", "agent")
    listed = client.get("/api/v1/help/categories", headers=agent).json()["items"]
    assert [(c["slug"], c["name"], c["names"], c["articles"]) for c in listed] == [
        ("payments", "Payments", {"en": "Payments"}, 2),
        ("signing-in", "Signing in", {"en": "Signing in"}, 2),
    ]
    assert listed[0]["url"] == "http://127.0.0.1:8000/help/categories/payments"

    change = {"names": {"de": "Anmelden", "fr": "Connexion"}}
    refused = client.patch("/api/v1/help/categories/signing-in", json=change, headers=agent)
    assert refused.status_code == 403
    named = client.patch("/api/v1/help/categories/signing-in", json=change, headers=manager)
    assert named.status_code == 200, named.text
    assert named.json()["names"] == {"de": "Anmelden", "en": "Signing in", "fr": "Connexion"}
    undeclared = client.patch(
        "/api/v1/help/categories/signing-in", json={"names": {}, "slug": "x"}, headers=manager
    )
    assert undeclared.status_code == 422
    missing = client.patch("/api/v1/help/categories/nothing", json=change, headers=manager)
    assert missing.status_code == 404

    # An article answers with its category's name in the article's own locale.
    german = client.get("/api/v1/help/articles?locale=de", headers=agent).json()["items"]
    assert {a["category"] for a in german} == {"Anmelden", "Payments"}
    created = client.post(
        "/api/v1/help/articles",
        json={"title": "Connexion", "category": "Connexion", "locale": "fr"},
        headers=manager,
    ).json()
    assert created["category"] == "Connexion"
    assert len(client.get("/api/v1/help/categories", headers=agent).json()["items"]) == 2
    assert "/api/v1/help/categories/{slug}" in client.get("/schema/openapi.json").json()["paths"]
