"""Script injection through every field that shows text from outside: customers write the
mail (name, subject, body, HTML, attachment names) and agents type notes and call summaries.
Wherever it is shown, it arrives as text, never as markup."""

from __future__ import annotations

from email.message import EmailMessage

from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import col, select

from inbox.db import Database
from inbox.models import Message
from inbox.settings import Settings
from tests.support.desk import ingest, make_agent, make_channel
from tests.support.web import post_form, sign_in

PAYLOAD = '<script>alert("x")</script><img src=x onerror=alert(1)>'
# What must never reach a page unescaped.
LIVE = ("<script>alert", "<img src=x onerror", "onerror=alert(1)>")


def _hostile_mail() -> bytes:
    message = EmailMessage()
    message["From"] = f'"Eve {PAYLOAD}" <eve@example.org>'
    message["To"] = "support@example.com"
    message["Subject"] = f"Refund {PAYLOAD}"
    message.set_content(f"Please refund {PAYLOAD}")
    message.add_alternative(
        f"<p>Please refund</p>{PAYLOAD}<a href='javascript:alert(1)'>x</a>", subtype="html"
    )
    message.add_attachment(
        b"data", maintype="text", subtype="plain", filename=f"statement{PAYLOAD}.txt"
    )
    return message.as_bytes()


def _assert_inert(html: str, where: str) -> None:
    for marker in LIVE:
        assert marker not in html, f"{marker!r} shown as markup on {where}"


def test_text_from_customers_and_agents_is_shown_as_text_everywhere(
    client: TestClient[Litestar], db: Database, settings: Settings
) -> None:
    channel = make_channel(db, settings)
    _, token = make_agent(db)
    make_agent(db, "colleague@example.com", name="Cara Colleague")
    reference = ingest(db, settings, channel, _hostile_mail()).ticket_reference
    assert reference
    api = {"Authorization": f"Bearer {token}"}
    call = {
        "direction": "inbound",
        "phone": "+4915112345678",
        "outcome": "resolved",
        "summary": f"Caller said {PAYLOAD}",
    }
    assert client.post(f"/api/v1/tickets/{reference}/calls", json=call, headers=api).is_success
    assert client.post(
        f"/api/v1/tickets/{reference}/notes",
        json={"body": f"Note {PAYLOAD} @colleague"},
        headers=api,
    ).is_success
    with db.reading() as session:
        with_html = select(Message).where(col(Message.body_html).is_not(None))
        html_message = session.exec(with_html).one()

    sign_in(client)
    pages = {
        "the inbox": client.get("/tickets").text,
        "a search": client.get("/tickets", params={"q": "refund"}).text,
        "the ticket page": client.get(f"/tickets/{reference}").text,
        "the customer panel": client.get(f"/tickets/{reference}/customer").text,
        "the mail's HTML": client.get(f"/messages/{html_message.id}/html").text,
    }
    for where, html in pages.items():
        _assert_inert(html, where)
    ticket_page = pages["the ticket page"]
    assert "&lt;script&gt;alert" in ticket_page  # shown, as text
    assert "javascript:alert" not in pages["the mail's HTML"]

    client.post("/logout", data={}, headers={"x-csrftoken": client.cookies.get("inbox_csrf", "")})
    sign_in(client, "colleague@example.com", next="/notifications")
    _assert_inert(client.get("/notifications").text, "the notifications page")
    response = post_form(
        client,
        f"/tickets/{reference}/notes",
        f"/tickets/{reference}",
        {
            "body": f"Reply {PAYLOAD}",
        },
    )
    assert response.status_code in (200, 303)
    _assert_inert(client.get(f"/tickets/{reference}").text, "the ticket page after a note")
