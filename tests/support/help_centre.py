"""Help-centre articles for tests, written through the real actions."""

from __future__ import annotations

from sqlmodel import select

from inbox.actions.help import ArticleFields, create_article
from inbox.db import Database
from inbox.models import Agent


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
