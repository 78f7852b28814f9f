"""The composer's help-centre picker: an article's link into the reply being drafted.

The agent types words from the article; the best published match (the help centre's own
search, ``inbox.queries.help.search_articles``) is appended to the draft as its title and
public address, which the agent may still edit before sending.
"""

from __future__ import annotations

from litestar import Controller, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template

from inbox.db import Database
from inbox.queries.help import search_articles
from inbox.rules.help_articles import DEFAULT_LOCALE, article_path
from inbox.settings import Settings
from inbox.web.forms import FormBody
from inbox.web.tickets.page import ticket_page


class HelpLinkPages(Controller):
    include_in_schema = False

    @post("/tickets/{reference:str}/help-links", sync_to_thread=True)
    def insert(
        self,
        request: HTMXRequest,
        reference: FromPath[str],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        data: FormBody,
    ) -> Template:
        draft = data.get("body", "")
        words = data.get("article", "")
        with db.reading() as session:
            found = search_articles(session, words, DEFAULT_LOCALE, limit=1)
        if not found:
            return ticket_page(
                request,
                db,
                settings,
                reference,
                status_code=422,
                ws_error=f"no published help-centre article matches “{words[:100]}”",
                reply_text=draft,
            )
        article = found[0]
        link = f"{article.title}: {settings.base_url.rstrip('/')}"
        link += article_path(article.slug, article.locale)
        text = "\n\n".join(part for part in (draft.rstrip(), link) if part)
        return ticket_page(request, db, settings, reference, reply_text=text)
