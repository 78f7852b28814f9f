"""The help centre's one search answering where people write: the acknowledgement mail
suggests up to three articles matching the subject, and the agent's composer inserts an
article's link. (The suggestions endpoint is in test_help_centre.)"""

from __future__ import annotations

import html
import re
from datetime import timedelta

from sqlmodel import col, select, update

from inbox.actions.help import delete_article, note_visit_wrote
from inbox.db import Database
from inbox.models import Agent, HelpArticle, HelpVisit, Message, Ticket, utcnow
from inbox.queries.help import Deflection, deflection
from inbox.settings import Settings
from tests.support.desk import make_agent, make_channel, new_ticket
from tests.support.help_centre import write_article
from tests.support.signing_in import give_totp, sign_in_fully
from tests.support.web import Client, csrf_token, sign_in


def _acknowledgement(db: Database) -> str:
    with db.reading() as session:
        return (
            session.exec(
                select(Message.body_text)
                .where(col(Message.is_automatic).is_(True), Message.direction == "outbound")
                .order_by(col(Message.id).desc())
            ).first()
            or ""
        )


def _write_articles(db: Database) -> None:
    make_agent(db, email="writer@example.com", role="manager", name="Wendy Writer")
    write_article(db, "A locked account", "Wait fifteen minutes after too many passwords.")
    write_article(db, "Resetting your password", "Choose Forgot password.", slug="password-reset")
    write_article(db, "Two-factor codes", "Codes change every 30 seconds; password too.")
    write_article(db, "Changing an instalment date", "Move your instalment.")
    write_article(db, "Password draft", "password locked", status="draft")


def test_the_acknowledgement_suggests_up_to_three_articles_for_the_subject(
    db: Database, settings: Settings
) -> None:
    _write_articles(db)
    channel = make_channel(db, settings)
    new_ticket(db, settings, channel, subject="Account locked, password not accepted")
    body = _acknowledgement(db)
    assert "Your reference number is" in body
    suggested = re.findall(r"^- (.+): (http\S+)$", body, re.M)
    assert 1 <= len(suggested) <= 3
    assert ("Resetting your password", "http://127.0.0.1:8000/help/articles/password-reset") in (
        suggested
    )
    assert "A locked account" in dict(suggested)
    assert "Password draft" not in body and "Changing an instalment date" not in dict(suggested)
    # Nothing matches: the acknowledgement is as it always was.
    new_ticket(db, settings, channel, subject="Hello there", sender="Bo <bo@example.org>")
    assert "help centre" not in _acknowledgement(db)


def test_the_composer_inserts_an_articles_link_into_the_draft(
    client: Client, db: Database, settings: Settings
) -> None:
    _write_articles(db)
    make_agent(db)
    reference = new_ticket(db, settings, make_channel(db, settings), subject="Cannot sign in")
    sign_in(client)
    page = client.get(f"/tickets/{reference}")
    assert 'action="/tickets/' + reference + '/help-links"' in page.text
    inserted = client.post(
        f"/tickets/{reference}/help-links",
        data={
            "_csrf_token": csrf_token(page.text),
            "body": "Hello Maria, this explains it:",
            "article": "password res",
        },
    )
    assert inserted.status_code == 200
    draft = re.search(r'<textarea id="reply-body"[^>]*>([^<]*)</textarea>', inserted.text)
    assert draft and html.unescape(draft.group(1)) == (
        "Hello Maria, this explains it:\n\n"
        "Resetting your password: http://127.0.0.1:8000/help/articles/password-reset"
    )
    missing = client.post(
        f"/tickets/{reference}/help-links",
        data={"_csrf_token": csrf_token(page.text), "body": "keep me", "article": "mortgage"},
    )
    assert missing.status_code == 422 and "no published help-centre article" in missing.text
    assert "keep me" in missing.text


def _opened(client: Client, slug: str, visit: str) -> None:
    assert client.get(f"/help/articles/{slug}?visit={visit}").status_code == 200


def _age_visits(db: Database, hours: float) -> None:
    with db.unit_of_work() as session:
        session.execute(update(HelpVisit).values(opened_at=utcnow() - timedelta(hours=hours)))


def test_the_report_counts_the_chat_visits_a_suggested_article_answered(
    client: Client, db: Database, settings: Settings
) -> None:
    """Which visits wrote is marked on the socket (test_chat_protocol); here, what the report
    makes of them."""
    _write_articles(db)
    answered, wrote, fresh = ("A" * 22, "B" * 22, "C" * 22)
    _opened(client, "password-reset", answered)
    _opened(client, "a-locked-account", answered)  # the visit's first article is kept
    _opened(client, "password-reset", wrote)
    _opened(client, "password-reset", "short")  # not a visit key: nothing is recorded
    with db.reading() as session:
        visits = {v.visit_key: v for v in session.exec(select(HelpVisit)).all()}
        first = session.exec(select(HelpArticle.id).where(HelpArticle.slug == "password-reset"))
        assert set(visits) == {answered, wrote}
        assert visits[answered].article_id == first.one()
    new_ticket(db, settings, make_channel(db, settings), subject="Still locked out")
    with db.unit_of_work() as session:
        note_visit_wrote(session, wrote, session.exec(select(Ticket.id)).one() or 0)
    _age_visits(db, 2)
    _opened(client, "password-reset", fresh)  # under an hour old and no ticket: not over yet

    give_totp(db, settings, "writer@example.com")  # managers have a second factor
    assert sign_in_fully(client, db, "writer@example.com").status_code == 303
    page = client.get("/admin/help/report").text
    figure = re.search(r'class="help-deflection">(.*?)</p>', page, re.S)
    assert figure is not None
    text = html.unescape(re.sub(r"<[^>]+>", "", figure.group(1)))
    assert text.startswith("1 of 2 chat visitors who opened an article the chat suggested")
    assert "(50%); 1 wrote all the same" in text


def test_deleting_an_article_keeps_the_visits_it_answered(client: Client, db: Database) -> None:
    _write_articles(db)
    _opened(client, "password-reset", "D" * 22)
    _age_visits(db, 2)
    with db.unit_of_work() as session:
        article = session.exec(select(HelpArticle).where(HelpArticle.slug == "password-reset"))
        writer = session.exec(select(Agent).where(Agent.email == "writer@example.com")).one()
        delete_article(session, article.one(), actor=writer)
    with db.reading() as session:
        assert deflection(session) == Deflection(days=30, visits=1, wrote=0)
