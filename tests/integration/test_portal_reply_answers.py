"""A portal reply sent with htmx from the ticket's page: the answer is the new message and a
fresh form, rendered by the partial the live socket pushes (``partials/portal_push.html``);
a refused reply comes back in the form with what was typed. Without script, the plain form
posts and lands on the new message."""

from __future__ import annotations

import re

from sqlmodel import select

from inbox.db import Database
from inbox.models import Attachment, Message
from inbox.models.kinds import MessageKind
from inbox.settings import Settings
from tests.support.portal import MARIA, PNG, signed_in
from tests.support.web import Client, csrf_token

HTMX = {"HX-Request": "true"}


def _portal_messages(db: Database) -> list[Message]:
    with db.reading() as session:
        return list(session.exec(select(Message).where(Message.kind == MessageKind.PORTAL)))


def test_a_reply_sent_with_htmx_answers_with_the_new_message_and_a_fresh_form(
    client: Client, db: Database, settings: Settings, portal_tickets: dict[str, str]
) -> None:
    signed_in(client, db, settings, MARIA)
    page = client.get(f"/portal/tickets/{portal_tickets['maria']}")
    assert 'id="portal-messages"' in page.text and 'id="portal-reply"' in page.text
    assert f'ws-connect="/portal/live?ticket={portal_tickets["maria"]}"' in page.text
    response = client.post(
        f"/portal/tickets/{portal_tickets['maria']}/replies",
        data={"body": "Here it is <script>alert(1)</script>", "_csrf_token": csrf_token(page.text)},
        files={"files": ("shot.png", PNG, "image/png")},
        headers=HTMX,
    )
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    [message] = _portal_messages(db)
    entry, form = response.text.split("</ol>", 1)
    assert entry.startswith('<ol hx-swap-oob="beforeend:#portal-messages">')
    assert f'id="message-{message.id}"' in entry and "portal-mine" in entry
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in entry and "<script>" not in entry
    assert re.search(r'<a href="/portal/files/\d+" download>shot.png</a>', entry)
    assert 'id="portal-reply"' in form and 'hx-swap-oob="true"' in form
    assert re.search(r'<textarea id="portal-body"[^>]*></textarea>', form)  # empty again
    assert 'name="_csrf_token"' in form


def test_a_refused_reply_sent_with_htmx_comes_back_in_the_form_with_its_text(
    client: Client, db: Database, settings: Settings, portal_tickets: dict[str, str]
) -> None:
    signed_in(client, db, settings, MARIA)
    page = client.get(f"/portal/tickets/{portal_tickets['maria']}")
    response = client.post(
        f"/portal/tickets/{portal_tickets['maria']}/replies",
        data={"body": "see attached", "_csrf_token": csrf_token(page.text)},
        files={"files": ("evil.svg", b"<svg onload=alert(1)></svg>", "image/png")},
        headers=HTMX,
    )
    assert response.status_code == 200  # htmx swaps in successful answers only
    assert response.text.lstrip().startswith("<form") and 'hx-swap-oob="true"' in response.text
    assert 'role="alert"' in response.text and ">see attached</textarea>" in response.text
    assert "<ol" not in response.text and _portal_messages(db) == []
    with db.reading() as session:
        assert session.exec(select(Attachment)).all() == []


def test_someone_elses_ticket_answers_an_htmx_reply_as_one_that_does_not_exist(
    client: Client, db: Database, settings: Settings, portal_tickets: dict[str, str]
) -> None:
    signed_in(client, db, settings, MARIA)
    token = csrf_token(client.get("/portal/tickets").text)
    answers = [
        client.post(
            f"/portal/tickets/{ref}/replies",
            data={"body": "hello", "_csrf_token": token},
            files={"files": ("a.png", PNG, "image/png")},
            headers=HTMX,
        )
        for ref in (portal_tickets["bob"], "HD-0000-0000")
    ]
    assert [a.status_code for a in answers] == [404, 404]
    assert answers[0].text.replace(portal_tickets["bob"], "") == answers[1].text.replace(
        "HD-0000-0000", ""
    )
    assert _portal_messages(db) == []


def test_without_script_a_reply_lands_on_the_new_message(
    client: Client, db: Database, settings: Settings, portal_tickets: dict[str, str]
) -> None:
    signed_in(client, db, settings, MARIA)
    page = client.get(f"/portal/tickets/{portal_tickets['maria']}")
    response = client.post(
        f"/portal/tickets/{portal_tickets['maria']}/replies",
        data={"body": "Plain form", "_csrf_token": csrf_token(page.text)},
        files={"files": ("", b"", "application/octet-stream")},
        follow_redirects=False,
    )
    [message] = _portal_messages(db)
    assert response.status_code == 303
    assert (
        response.headers["location"]
        == f"/portal/tickets/{portal_tickets['maria']}#message-{message.id}"
    )
