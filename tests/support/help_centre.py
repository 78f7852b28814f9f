"""Help-centre articles for tests, written through the real actions, and ``manager``, a
fixture (this module is a plugin, ``tests/conftest.py``): a writer of the help centre signed
in to the desk in the test process."""

from __future__ import annotations

import pytest
from sqlmodel import select

from inbox.actions.help import ArticleFields, create_article
from inbox.db import Database
from inbox.models import Agent
from inbox.settings import Settings
from tests.support.desk import make_agent
from tests.support.signing_in import give_totp, sign_in_fully
from tests.support.web import Client


def write_article(
    db: Database,
    title: str,
    body: str = "",
    *,
    author: str = "writer@example.com",
    slug: str = "",
    category: str = "",
    locale: str = "",
    status: str = "published",
) -> int:
    """An article by ``author`` (a manager or administrator who exists); returns its id."""
    with db.unit_of_work() as session:
        agent = session.exec(select(Agent).where(Agent.email == author)).one()
        article = create_article(
            session,
            actor=agent,
            fields=ArticleFields(
                title=title, body_markdown=body, slug=slug, category=category, locale=locale
            ),
            status=status,
        )
        return article.id or 0


@pytest.fixture
def manager(client: Client, db: Database, settings: Settings) -> Client:
    """A manager signed in with password and second factor (mandatory for managers)."""
    make_agent(db, email="writer@example.com", role="manager", name="Wendy Writer")
    give_totp(db, settings, "writer@example.com")
    assert sign_in_fully(client, db, "writer@example.com").status_code == 303
    return client
