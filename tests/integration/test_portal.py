"""The customer portal over HTTP, attacked the way strangers attack it: signing in with a
mailed single-use link, other customers' tickets by reference, id and URL, reused and
expired links, a portal session knocking on agent pages and the API, and enumeration of
addresses. Runs on SQLite and on PostgreSQL (``INBOX_TEST_DATABASE=postgres``)."""

from __future__ import annotations

import re
import time
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import select

from inbox.actions.customers import resolve_customer
from inbox.actions.sla.clocks import recompute_sla
from inbox.actions.tickets import open_ticket
from inbox.db import Database
from inbox.models import (
    Attachment,
    AuditEvent,
    Channel,
    Message,
    Outbox,
    PortalLink,
    PortalSession,
    utcnow,
)
from inbox.models.kinds import IdentityKind, MessageKind
from inbox.settings import Settings
from inbox.signing import hash_token
from inbox.web.portal.session import PORTAL_COOKIE
from tests.support.desk import (
    change_ticket,
    make_agent,
    make_channel,
    make_team,
    new_ticket,
    ticket_by_reference,
)
from tests.support.portal import (
    MARIA,
    PNG,
    ask_for_link,
    follow_link,
    mailed_links,
    signed_in,
)
from tests.support.processes import run_cli, run_cli_unchecked
from tests.support.smtp_peer import SmtpPeer
from tests.support.web import Client, csrf_token, sign_in
from workers.actors import deliver_outbox_items


def test_a_customer_signs_in_with_the_mailed_link_and_sees_only_their_tickets(
    client: Client, db: Database, settings: Settings, portal_tickets: dict[str, str]
) -> None:
    signed_in(client, db, settings, MARIA)
    page = client.get("/portal/tickets")
    assert page.status_code == 200
    assert portal_tickets["maria"] in page.text and "Card blocked" in page.text
    assert portal_tickets["bob"] not in page.text and "refund" not in page.text
    ticket = client.get(f"/portal/tickets/{portal_tickets['maria']}")
    assert ticket.status_code == 200 and "I cannot sign in." in ticket.text
    assert ticket.headers["cache-control"] == "no-store"


def test_the_link_works_once_and_the_session_is_a_host_cookie_of_its_own(
    client: Client, db: Database, settings: Settings, portal_tickets: dict[str, str]
) -> None:
    ask_for_link(client, MARIA)
    [link] = mailed_links(db, settings, MARIA)
    token = link.split("token=")[1]
    with db.reading() as session:  # only a hash of the token is stored
        row = session.exec(select(PortalLink)).one()
        assert row.token_hash == hash_token(token) and token not in row.token_hash
        assert row.expires_at - row.created_at == timedelta(minutes=15)
    first = follow_link(client, link)
    assert first.status_code == 303
    flags = first.headers["set-cookie"].lower()
    assert PORTAL_COOKIE in flags and "httponly" in flags and "samesite=lax" in flags
    client.cookies.clear()
    again = client.get(link.split("8000", 1)[-1])
    assert again.status_code == 400 and "invalid, used or expired" in again.text
    reused = client.post(
        "/portal/sign-in",
        data={"token": token, "_csrf_token": csrf_token(client.get("/portal").text)},
        follow_redirects=False,
    )
    assert reused.status_code == 400 and PORTAL_COOKIE not in reused.headers.get("set-cookie", "")
    assert client.get("/portal/tickets", follow_redirects=False).headers["location"] == "/portal"


def test_an_expired_link_opens_nothing(
    client: Client, db: Database, settings: Settings, portal_tickets: dict[str, str]
) -> None:
    ask_for_link(client, MARIA)
    [link] = mailed_links(db, settings, MARIA)
    with db.unit_of_work() as session:
        session.execute(update(PortalLink).values(expires_at=utcnow() - timedelta(seconds=1)))
    token = link.split("token=")[1]
    assert client.get(f"/portal/sign-in?token={token}").status_code == 400
    response = client.post(
        "/portal/sign-in",
        data={"token": token, "_csrf_token": csrf_token(client.get("/portal").text)},
        follow_redirects=False,
    )
    assert response.status_code == 400
    assert client.get("/portal/tickets", follow_redirects=False).status_code == 303


def test_known_and_unknown_addresses_get_the_same_answer_in_similar_time(
    client: Client, db: Database, settings: Settings, portal_tickets: dict[str, str]
) -> None:
    answers = {}
    for email in (MARIA, "nobody@example.com", "not an address"):
        started = time.monotonic()
        response = ask_for_link(client, email)
        answers[email] = (response.status_code, response.text, time.monotonic() - started)
    texts = {re.sub(r'value="[^"]+"', "", text) for _, text, _ in answers.values()}
    assert {status for status, _, _ in answers.values()} == {200}
    assert len(texts) == 1  # the same page, word for word (the CSRF token aside)
    times = [elapsed for _, _, elapsed in answers.values()]
    assert min(times) >= 0.25 and max(times) - min(times) < 0.2
    assert len(mailed_links(db, settings, MARIA)) == 1


def test_requests_are_throttled_per_address_silently_and_per_network_with_429(
    client: Client, db: Database, settings: Settings, portal_tickets: dict[str, str]
) -> None:
    for _ in range(5):
        assert ask_for_link(client, MARIA).status_code == 200  # the same answer each time
    assert len(mailed_links(db, settings, MARIA)) == 3  # but three links an hour at most
    statuses = {ask_for_link(client, f"someone{i}@example.com").status_code for i in range(15)}
    assert statuses == {200}  # twenty requests an hour from one network pass
    throttled = ask_for_link(client, "another@example.com")
    assert throttled.status_code == 429 and throttled.headers["retry-after"]
    assert ask_for_link(client, MARIA).status_code == 429  # known or not: the same


def test_customer_a_cannot_reach_customer_b_by_reference_id_or_url(
    client: Client, db: Database, settings: Settings, portal_tickets: dict[str, str]
) -> None:
    bob = ticket_by_reference(db, portal_tickets["bob"])
    with db.reading() as session:
        bob_message = session.exec(select(Message).where(Message.ticket_id == bob.id)).first()
        assert bob_message is not None
    signed_in(client, db, settings, MARIA)
    made_up = "HD-0000-0000"
    for ref in (portal_tickets["bob"], portal_tickets["bob"].lower().replace("-", " "), made_up):
        by_url = client.get(f"/portal/tickets/{ref}")
        by_form = client.get("/portal/find", params={"reference": ref})
        for response in (by_url, by_form):
            assert response.status_code == 404
            assert "No request of yours has that reference." in response.text
            assert "refund" not in response.text
    unknown = client.get(f"/portal/tickets/{made_up}")
    assert _without_token(
        client.get(f"/portal/tickets/{portal_tickets['bob']}").text
    ) == _without_token(unknown.text)
    page = client.get(f"/portal/tickets/{portal_tickets['maria']}")
    reply = client.post(
        f"/portal/tickets/{portal_tickets['bob']}/replies",
        data={"body": "hijack", "_csrf_token": csrf_token(page.text)},
        files={"files": ("", b"", "application/octet-stream")},
    )
    assert reply.status_code == 404
    with db.reading() as session:
        assert not session.exec(select(Message).where(Message.body_text == "hijack")).first()
    # Bob's file by its id
    with db.unit_of_work() as session:
        session.add(
            Attachment(
                message_id=bob_message.id or 0,
                filename="bob.png",
                content_type="image/png",
                size=1,
                content_hash="0" * 64,
            )
        )
    with db.reading() as session:
        attachment = session.exec(select(Attachment)).one()
    assert client.get(f"/portal/files/{attachment.id}").status_code == 404
    found = client.get(
        "/portal/find",
        params={"reference": portal_tickets["maria"].lower()},
        follow_redirects=False,
    )
    assert found.status_code == 303 and found.headers["location"].endswith(portal_tickets["maria"])


def _without_token(html: str) -> str:
    return re.sub(r'value="[^"]+"', "", re.sub(r'"x-csrftoken": "[^"]+"', "", html))


def test_a_portal_session_reaches_no_agent_page_and_no_api(
    client: Client, db: Database, settings: Settings, portal_tickets: dict[str, str]
) -> None:
    make_agent(db)
    signed_in(client, db, settings, MARIA)
    for path in (
        "/tickets",
        f"/tickets/{portal_tickets['maria']}",
        "/admin",
        "/reports",
        "/notifications",
    ):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
    with db.reading() as session:
        message = session.exec(select(Message)).first()
        assert message is not None
    assert client.get(f"/messages/{message.id}/html", follow_redirects=False).status_code == 303
    portal_token = client.cookies[PORTAL_COOKIE]
    for headers in ({}, {"Authorization": f"Bearer {portal_token}"}):
        api = client.get("/api/v1/tickets", headers=headers)
        assert api.status_code == 401
    # nor is the portal's token an agent's session under the agents' cookie name
    client.cookies.set("inbox_session", portal_token)
    assert client.get("/tickets", follow_redirects=False).status_code == 303


def test_an_agent_session_opens_no_portal_page(
    client: Client, db: Database, settings: Settings, portal_tickets: dict[str, str]
) -> None:
    make_agent(db)
    assert sign_in(client).status_code == 303
    for path in ("/portal/tickets", f"/portal/tickets/{portal_tickets['maria']}"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/portal"


def test_a_reply_with_a_screenshot_joins_the_ticket_as_a_verified_inbound_message(
    client: Client, db: Database, settings: Settings, portal_tickets: dict[str, str]
) -> None:
    make_agent(db)
    change_ticket(db, portal_tickets["maria"], "agent@example.com", status="resolved")
    signed_in(client, db, settings, MARIA)
    page = client.get(f"/portal/tickets/{portal_tickets['maria']}")
    response = client.post(
        f"/portal/tickets/{portal_tickets['maria']}/replies",
        data={"body": "Still blocked, see the screenshot.", "_csrf_token": csrf_token(page.text)},
        files={"files": ("../../etc/pass\x00wd<script>.png", PNG, "text/html")},
        follow_redirects=False,
    )
    assert response.status_code == 303
    ticket = ticket_by_reference(db, portal_tickets["maria"])
    assert ticket.status_category == "open"  # reopened like any customer message
    with db.reading() as session:
        message = session.exec(
            select(Message).where(
                Message.ticket_id == ticket.id, Message.kind == MessageKind.PORTAL
            )
        ).one()
        [attachment] = session.exec(
            select(Attachment).where(Attachment.message_id == message.id)
        ).all()
    assert message.direction == "inbound" and message.verification == "authenticated"
    assert attachment.content_type == "image/png" and attachment.size == len(PNG)
    assert "/" not in attachment.filename and "<" not in attachment.filename
    assert attachment.filename.endswith(".png") and "\x00" not in attachment.filename
    shown = client.get(f"/portal/tickets/{portal_tickets['maria']}")
    assert "Still blocked" in shown.text and attachment.filename in shown.text
    download = client.get(f"/portal/files/{attachment.id}")
    assert download.status_code == 200 and download.content == PNG
    assert download.headers["content-disposition"].startswith("attachment")
    assert download.headers["x-content-type-options"] == "nosniff"


def test_files_other_than_screenshots_and_pdfs_are_refused(
    client: Client, db: Database, settings: Settings, portal_tickets: dict[str, str]
) -> None:
    signed_in(client, db, settings, MARIA)
    page = client.get(f"/portal/tickets/{portal_tickets['maria']}")
    for name, data in (
        ("evil.svg", b"<svg onload=alert(1)></svg>"),
        ("page.png", b"<html><script>alert(1)</script>"),
        ("big.pdf", b"%PDF-" + b"0" * (5 * 1024 * 1024)),
    ):
        response = client.post(
            f"/portal/tickets/{portal_tickets['maria']}/replies",
            data={"body": "see attached", "_csrf_token": csrf_token(page.text)},
            files={"files": (name, data, "image/png")},
        )
        assert response.status_code == 422, name
        assert "see attached" in response.text  # the reply is kept for another try
    with db.reading() as session:
        assert session.exec(select(Attachment)).all() == []


def test_internal_notes_and_system_details_never_reach_the_customer(
    client: Client, db: Database, settings: Settings, portal_tickets: dict[str, str]
) -> None:
    _, token = make_agent(db)
    headers = {"Authorization": f"Bearer {token}"}
    client.post(
        f"/api/v1/tickets/{portal_tickets['maria']}/notes",
        json={"body": "Looks like fraud, do not tell her"},
        headers=headers,
    )
    client.post(
        f"/api/v1/tickets/{portal_tickets['maria']}/replies",
        json={"body": "We unblocked your card."},
        headers=headers,
    )
    change_ticket(db, portal_tickets["maria"], "agent@example.com", status="waiting on customer")
    signed_in(client, db, settings, MARIA)
    page = client.get(f"/portal/tickets/{portal_tickets['maria']}").text
    assert "We unblocked your card." in page and "Alex Agent" in page
    assert "fraud" not in page and "Status changed" not in page.lower()
    assert "Waiting for your reply" in page


def test_script_in_a_portal_reply_is_shown_as_text(
    client: Client, db: Database, settings: Settings, portal_tickets: dict[str, str]
) -> None:
    signed_in(client, db, settings, MARIA)
    page = client.get(f"/portal/tickets/{portal_tickets['maria']}")
    client.post(
        f"/portal/tickets/{portal_tickets['maria']}/replies",
        data={"body": "<script>alert(1)</script>", "_csrf_token": csrf_token(page.text)},
        files={"files": ("", b"", "application/octet-stream")},
    )
    shown = client.get(f"/portal/tickets/{portal_tickets['maria']}").text
    assert "<script>alert(1)</script>" not in shown
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown


def test_every_portal_form_needs_its_csrf_token(
    client: Client, db: Database, settings: Settings, portal_tickets: dict[str, str]
) -> None:
    signed_in(client, db, settings, MARIA)
    for path, data in (
        ("/portal", {"email": MARIA}),
        ("/portal/sign-in", {"token": "x"}),
        ("/portal/sign-out", {}),
        (f"/portal/tickets/{portal_tickets['maria']}/replies", {"body": "forged"}),
        ("/portal/new", {"topic": "Something else", "subject": "s", "body": "forged"}),
    ):
        assert client.post(path, data=data).status_code == 403, path
    with db.reading() as session:
        assert not session.exec(select(Message).where(Message.body_text == "forged")).first()


def test_a_new_request_goes_to_the_team_its_topic_picks(
    client: Client, db: Database, settings: Settings, portal_tickets: dict[str, str]
) -> None:
    team_id = make_team(db, "Cards")
    signed_in(client, db, settings, MARIA)
    form = client.get("/portal/new")
    assert ">Cards<" in form.text and ">Something else<" in form.text
    response = client.post(
        "/portal/new",
        data={
            "topic": "Cards",
            "subject": "New card",
            "body": "Please send a new card. My card is 4111 1111 1111 1111",
            "_csrf_token": csrf_token(form.text),
        },
        files={"files": ("statement.pdf", b"%PDF-1.4 hello", "application/pdf")},
        follow_redirects=False,
    )
    assert response.status_code == 303
    reference = response.headers["location"].rsplit("/", 1)[1]
    ticket = ticket_by_reference(db, reference)
    assert ticket.team_id == team_id and ticket.subject == "New card"
    with db.reading() as session:
        message = session.exec(select(Message).where(Message.ticket_id == ticket.id)).one()
    assert "4111 1111 1111 1111" not in message.body_text and "1111" in message.body_text
    assert reference in client.get("/portal/tickets").text


def test_the_mailed_link_arrives_at_a_real_smtp_server(
    client: Client, db: Database, settings: Settings, smtp_peer: SmtpPeer
) -> None:
    channel = make_channel(db, settings, smtp_url=smtp_peer.smtp_url())
    new_ticket(db, settings, channel, sender=f"Maria <{MARIA}>")
    assert ask_for_link(client, MARIA).status_code == 200
    with db.reading() as session:
        row = session.exec(select(Outbox).where(Outbox.kind == "portal_link")).one()
    assert b"/portal/sign-in" not in row.payload  # the link waits encrypted
    deliver_outbox_items([row.id or 0])
    [received] = smtp_peer.wait_for(1)
    assert received.rcpt_tos == (MARIA,)
    assert received.message["Auto-Submitted"] == "auto-generated"
    body = received.message.get_body(("plain",))
    assert body is not None
    link = re.search(r"(http\S+/portal/sign-in\?token=\S+)", body.get_content())
    assert link and link.group(1).startswith(settings.base_url)
    assert follow_link(client, link.group(1)).status_code == 303
    assert client.get("/portal/tickets").status_code == 200


def test_signing_out_ends_the_portal_session(
    client: Client, db: Database, settings: Settings, portal_tickets: dict[str, str]
) -> None:
    signed_in(client, db, settings, MARIA)
    token = client.cookies[PORTAL_COOKIE]
    page = client.get("/portal/tickets")
    client.post("/portal/sign-out", data={"_csrf_token": csrf_token(page.text)})
    client.cookies.set(PORTAL_COOKIE, token)
    assert client.get("/portal/tickets", follow_redirects=False).status_code == 303


def test_survey_waiting_on_a_ticket_is_offered_on_its_page(
    client: Client, db: Database, settings: Settings, portal_tickets: dict[str, str]
) -> None:
    from inbox.models import SatisfactionSurvey

    ticket = ticket_by_reference(db, portal_tickets["maria"])
    with db.unit_of_work() as session:
        session.add(SatisfactionSurvey(ticket_id=ticket.id or 0))
    signed_in(client, db, settings, MARIA)
    page = client.get(f"/portal/tickets/{portal_tickets['maria']}").text
    link = re.search(r'href="(/survey/[^"]+)"', page)
    assert link
    survey = client.get(link.group(1))
    answer = client.post(
        link.group(1),
        data={"score": "5", "comment": "quick", "_csrf_token": csrf_token(survey.text)},
    )
    assert answer.status_code == 201 or answer.status_code == 200
    assert (
        "Answer our short survey"
        not in client.get(f"/portal/tickets/{portal_tickets['maria']}").text
    )


def test_a_portal_reply_moves_the_sla_clocks_like_any_customer_message(
    client: Client, db: Database, settings: Settings, portal_tickets: dict[str, str]
) -> None:
    _, token = make_agent(db)
    client.post(
        f"/api/v1/tickets/{portal_tickets['maria']}/replies",
        json={"body": "Which card is it?"},
        headers={"Authorization": f"Bearer {token}"},
    )
    change_ticket(db, portal_tickets["maria"], "agent@example.com", status="waiting on customer")
    ticket = ticket_by_reference(db, portal_tickets["maria"])
    with db.unit_of_work() as session:  # what the SLA worker does after each commit
        clocks = {c.target: c for c in recompute_sla(session, ticket.id or 0, utcnow())}
    assert (clocks["first_response"].state, clocks["resolution"].state) == ("met", "paused")
    signed_in(client, db, settings, MARIA)
    page = client.get(f"/portal/tickets/{portal_tickets['maria']}")
    client.post(
        f"/portal/tickets/{portal_tickets['maria']}/replies",
        data={"body": "The one ending in 4242.", "_csrf_token": csrf_token(page.text)},
        files={"files": ("", b"", "application/octet-stream")},
    )
    assert ticket_by_reference(db, portal_tickets["maria"]).status_category == "open"
    with db.unit_of_work() as session:
        clocks = {c.target: c for c in recompute_sla(session, ticket.id or 0, utcnow())}
    assert clocks["resolution"].state == "running"  # the customer's answer resumed it


def test_the_demo_says_how_to_try_the_portal_and_the_printed_link_signs_maria_in(
    env: dict[str, str], client: Client, db: Database
) -> None:
    out = run_cli(env, "demo")
    assert "inbox portal link --email maria.lopez@example.org" in out
    printed = run_cli(env, "portal", "link", "--email", "Maria.Lopez@example.org")
    link = printed.strip().splitlines()[-1]
    assert "/portal/sign-in?token=" in link
    assert follow_link(client, link).status_code == 303
    assert "Locked out after three wrong passwords" in client.get("/portal/tickets").text
    with db.reading() as session:
        assert session.exec(
            select(AuditEvent).where(AuditEvent.action == "portal.link_printed")
        ).one()
    refused = run_cli_unchecked(env, "portal", "link", "--email", "nobody@example.com")
    assert refused.returncode == 1 and "no customer" in refused.stderr


def test_tickets_of_every_channel_and_of_merged_customers_are_listed(
    client: Client, db: Database, settings: Settings, portal_tickets: dict[str, str]
) -> None:
    maria = ticket_by_reference(db, portal_tickets["maria"])
    with db.unit_of_work() as session:
        chat = Channel(kind="chat", name="Web chat", address="chat", enabled=False)
        session.add(chat)
        session.flush()
        visitor, identity = resolve_customer(
            session, kind=IdentityKind.CHAT_VISITOR, value="visitor-1", name="Maria (chat)"
        )
        visitor.merged_into_id = maria.customer_id  # an agent saw it was Maria
        session.add(visitor)
        ticket = open_ticket(
            session,
            prefix=settings.reference_prefix,
            subject="Chat about my instalment",
            customer_id=visitor.id or 0,
            contact_identity_id=identity.id,
            channel_id=chat.id,
            channel_kind="chat",
        )
        chat_reference = ticket.reference
    signed_in(client, db, settings, MARIA)
    listed = client.get("/portal/tickets").text
    assert portal_tickets["maria"] in listed and chat_reference in listed
    assert "Chat about my instalment" in client.get(f"/portal/tickets/{chat_reference}").text
    assert portal_tickets["bob"] not in listed


def test_a_new_sign_in_ends_the_session_the_browser_held_before(
    client: Client, db: Database, settings: Settings, portal_tickets: dict[str, str]
) -> None:
    signed_in(client, db, settings, MARIA)
    before = client.cookies[PORTAL_COOKIE]
    signed_in(client, db, settings, MARIA)
    after = client.cookies[PORTAL_COOKIE]
    assert after != before
    client.cookies.set(PORTAL_COOKIE, before)
    assert client.get("/portal/tickets", follow_redirects=False).status_code == 303
    with db.reading() as session:
        assert len(session.exec(select(PortalSession)).all()) == 1


def test_agents_read_a_portal_reply_in_the_api_as_a_verified_portal_message(
    client: Client, db: Database, settings: Settings, portal_tickets: dict[str, str]
) -> None:
    _, token = make_agent(db)
    signed_in(client, db, settings, MARIA)
    page = client.get(f"/portal/tickets/{portal_tickets['maria']}")
    client.post(
        f"/portal/tickets/{portal_tickets['maria']}/replies",
        data={"body": "Any news?", "_csrf_token": csrf_token(page.text)},
        files={"files": ("", b"", "application/octet-stream")},
    )
    client.cookies.clear()
    ticket = client.get(
        f"/api/v1/tickets/{portal_tickets['maria']}", headers={"Authorization": f"Bearer {token}"}
    ).json()
    last = ticket["messages"][-1]
    assert (last["kind"], last["direction"], last["channel"]) == ("portal", "inbound", "portal")
    assert (last["verification"], last["thread_reason"]) == ("verified", "portal")
    assert last["body_text"] == "Any news?"
