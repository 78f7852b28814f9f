"""Messenger, Instagram and WhatsApp through the one Meta webhook, posted as Meta signs it, and
replies through a local server speaking the Graph API's send endpoint: the handshake, the
signature over the raw body, replays, statuses in any order, the reply windows, and the
Graph API's refusals."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from litestar import Litestar
from sqlmodel import col, select

from inbox.actions.calls import CallDetails, open_ticket_from_call
from inbox.actions.replies import reply_to_customer
from inbox.blobs import BlobStore
from inbox.db import Database
from inbox.errors import Conflict
from inbox.models import (
    Agent,
    Attachment,
    AuditEvent,
    Channel,
    Customer,
    CustomerIdentity,
    InboundItem,
    Message,
    Outbox,
    SocialConversation,
    Ticket,
    utcnow,
)
from inbox.settings import Settings
from tests.support.apps import app_for
from tests.support.desk import make_agent, make_channel, new_ticket
from tests.support.social_desk import (
    add_channel,
    channel,
    file_pending,
    messages_of,
    reply,
    send_due,
    tickets_of_channel,
)
from tests.support.social_platforms import (
    FakeGraph,
    messenger_event,
    signed_webhook,
    whatsapp_image,
    whatsapp_message,
    whatsapp_status,
)
from tests.support.web import Client, post_form, sign_in
from workers.runtime import Runtime
from workers.social_details import complete_social_message

SECRET = "app-secret-1"
TOKEN = "page-token-1"
PAGE = "1029384756"
PHONE_ID = "106540352242922"


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    with FakeGraph(token=TOKEN) as server:
        yield server


@pytest.fixture
def rt(settings: Settings, app: Litestar) -> Runtime:
    return app_for(settings)[1]


def _meta(
    db: Database, settings: Settings, graph: FakeGraph, kind: str, account: str, **kw: str
) -> int:
    values: dict[str, object] = {"graph_url": graph.url}
    if kw.get("template"):
        values["template"] = {"name": kw["template"], "language": "en_US"}
    return add_channel(
        db,
        settings,
        kind,
        name=kw.get("name", kind.title()),
        account_id=account,
        secrets={
            "token": TOKEN,
            "app_secret": kw.get("secret", SECRET),
            "verify_token": kw.get("verify", "verify-me"),
        },
        values=values,
    )


def _post(client: Client, body: dict[str, object], secret: str = SECRET) -> int:
    raw, headers = signed_webhook(body, secret)
    return client.post("/webhooks/meta", content=raw, headers=headers).status_code


def _items(db: Database) -> list[InboundItem]:
    with db.reading() as session:
        return list(session.exec(select(InboundItem).order_by(col(InboundItem.id))).all())


def test_the_verification_handshake_answers_the_challenge_only_for_a_channel_verify_token(
    client: Client, db: Database, settings: Settings, graph: FakeGraph
) -> None:
    _meta(db, settings, graph, "messenger", PAGE)
    ok = client.get(
        "/webhooks/meta",
        params={
            "hub.mode": "subscribe",
            "hub.verify_token": "verify-me",
            "hub.challenge": "1158201444",
        },
    )
    assert ok.status_code == 200 and ok.text == "1158201444"
    assert ok.headers["content-type"].startswith("text/plain")
    wrong = client.get(
        "/webhooks/meta",
        params={"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"},
    )
    assert wrong.status_code == 403 and "1" not in wrong.text.replace("forbidden", "")


def test_a_whatsapp_message_signed_as_meta_signs_it_becomes_a_ticket_of_the_caller_with_that_number(
    client: Client, db: Database, settings: Settings, graph: FakeGraph, rt: Runtime
) -> None:
    channel_id = _meta(db, settings, graph, "whatsapp", PHONE_ID)
    agent_id, _ = make_agent(db)
    with db.unit_of_work() as session:  # Maria phoned last week: the desk knows her number
        agent = session.get(Agent, agent_id)
        assert agent is not None
        call = CallDetails("inbound", "+34 600 111 222", utcnow(), 120, "resolved", "card blocked")
        phoned, _ = open_ticket_from_call(
            session, settings, agent=agent, call=call, caller_name="María Pérez"
        )
        customer_id = phoned.customer_id
    text = "Olá, ¿dónde está mi préstamo? €"
    assert _post(client, whatsapp_message(PHONE_ID, "34600111222", "wamid.IN1", text)) == 200

    file_pending(rt)

    [ticket] = tickets_of_channel(db, channel_id)
    assert ticket.channel_kind == "whatsapp"
    [message] = messages_of(db, ticket.reference)
    assert message.body_text == text and message.direction == "inbound"
    with db.reading() as session:
        assert ticket.customer_id == customer_id  # the caller and the WhatsApp writer are one
        assert len(session.exec(select(CustomerIdentity)).all()) == 1


def test_a_body_parsed_and_serialised_again_no_longer_matches_its_signature_and_is_refused(
    client: Client, db: Database, settings: Settings, graph: FakeGraph
) -> None:
    _meta(db, settings, graph, "whatsapp", PHONE_ID)
    body = whatsapp_message(PHONE_ID, "34600111222", "wamid.IN1", "préstamo")
    raw, headers = signed_webhook(body, SECRET)
    assert b"\\u00e9" in raw  # as Meta sends it
    reserialised = json.dumps(json.loads(raw), ensure_ascii=False).encode()
    response = client.post("/webhooks/meta", content=reserialised, headers=headers)
    assert response.status_code == 403
    assert _items(db) == []
    assert client.post("/webhooks/meta", content=raw, headers=headers).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Hub-Signature-256": "sha256=" + "0" * 64},
        {"X-Hub-Signature-256": "sha1=abc"},
        {"X-Hub-Signature-256": ""},
    ],
    ids=["missing", "wrong", "other-algorithm", "empty"],
)
def test_a_missing_or_wrong_signature_is_403_and_nothing_is_stored(
    client: Client, db: Database, settings: Settings, graph: FakeGraph, headers: dict[str, str]
) -> None:
    _meta(db, settings, graph, "messenger", PAGE)
    raw = json.dumps(messenger_event(PAGE, "555", "m_1", "hello")).encode()
    response = client.post("/webhooks/meta", content=raw, headers=headers)
    assert response.status_code == 403
    assert _items(db) == []


def test_a_body_signed_by_another_app_reaches_no_channel_of_this_one(
    client: Client, db: Database, settings: Settings, graph: FakeGraph
) -> None:
    _meta(db, settings, graph, "messenger", PAGE)
    _meta(db, settings, graph, "instagram", "1784", name="IG", secret="other-secret")
    # Signed by the Instagram channel's app, but naming the Messenger channel's Page.
    assert _post(client, messenger_event(PAGE, "555", "m_1", "hi"), "other-secret") == 200
    assert _items(db) == []
    assert _post(client, messenger_event(PAGE, "555", "m_1", "hi"), "not-a-secret") == 403


def test_a_replayed_webhook_is_stored_once_and_files_one_message(
    client: Client, db: Database, settings: Settings, graph: FakeGraph, rt: Runtime
) -> None:
    channel_id = _meta(db, settings, graph, "messenger", PAGE)
    body = messenger_event(PAGE, "555", "m_replayed", "I was charged twice")
    for _ in range(3):
        assert _post(client, body) == 200
    file_pending(rt)
    assert _post(client, body) == 200  # once more, after filing
    file_pending(rt)
    assert len(_items(db)) == 1
    [ticket] = tickets_of_channel(db, channel_id)
    assert [m.body_text for m in messages_of(db, ticket.reference)] == ["I was charged twice"]


def _whatsapp_ticket(
    client: Client, db: Database, settings: Settings, graph: FakeGraph, rt: Runtime, **kw: str
) -> tuple[int, str, int]:
    channel_id = _meta(db, settings, graph, "whatsapp", PHONE_ID, **kw)
    agent_id, _ = make_agent(db)
    assert _post(client, whatsapp_message(PHONE_ID, "34600111222", "wamid.IN1", "Hi")) == 200
    file_pending(rt)
    [ticket] = tickets_of_channel(db, channel_id)
    return channel_id, ticket.reference, agent_id


def test_a_retried_reply_with_a_card_number_is_sent_once_and_masked(
    client: Client, db: Database, settings: Settings, graph: FakeGraph, rt: Runtime
) -> None:
    """An agent's second click (same idempotency key) answers with the reply already queued,
    though what was stored is the masked text, not what the agent typed."""
    _, reference, agent_id = _whatsapp_ticket(client, db, settings, graph, rt)
    body = "Is your card 4111 1111 1111 1111? Please never send it here."
    ids = []
    for _ in range(2):
        with db.unit_of_work() as session:
            ticket = session.exec(select(Ticket).where(Ticket.reference == reference)).one()
            agent = session.get(Agent, agent_id)
            assert agent is not None
            message = reply_to_customer(
                session,
                settings,
                ticket=ticket,
                author=agent,
                body=body,
                idempotency_key="click-0001",
            )
            ids.append(message.id)
    send_due(db)
    [sent] = graph.sent(f"/{PHONE_ID}/messages")
    assert ids[0] == ids[1]
    assert "4111 1111 1111 1111" not in sent["text"]["body"]
    assert sent["text"]["body"].endswith("Please never send it here.")


def test_statuses_in_any_order_only_move_the_delivery_forward(
    client: Client, db: Database, settings: Settings, graph: FakeGraph, rt: Runtime
) -> None:
    _, reference, agent_id = _whatsapp_ticket(client, db, settings, graph, rt)
    message_id = reply(db, settings, reference, agent_id, "Your loan is approved")
    send_due(db)
    [sent] = graph.sent(f"/{PHONE_ID}/messages")
    assert sent == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "34600111222",
        "type": "text",
        "text": {"preview_url": False, "body": "Your loan is approved"},
    }

    def delivery() -> tuple[str | None, str | None]:
        with db.reading() as session:
            message = session.get(Message, message_id)
            assert message is not None
            return message.delivery, message.external_id

    assert delivery() == ("sent", "wamid.OUT1")
    for status in ("read", "delivered", "sent", "failed"):  # the reverse of their order
        assert _post(client, whatsapp_status(PHONE_ID, "wamid.OUT1", status, error="x")) == 200
        file_pending(rt)
        assert delivery()[0] == "read"
    assert _post(client, whatsapp_status(PHONE_ID, "wamid.OUT1", "read")) == 200  # a replay
    file_pending(rt)
    assert delivery()[0] == "read"


def test_a_failed_status_shows_its_error_on_the_ticket(
    client: Client, db: Database, settings: Settings, graph: FakeGraph, rt: Runtime
) -> None:
    _, reference, agent_id = _whatsapp_ticket(client, db, settings, graph, rt)
    message_id = reply(db, settings, reference, agent_id, "Hello")
    send_due(db)
    failure = whatsapp_status(PHONE_ID, "wamid.OUT1", "failed", error="Message undeliverable.")
    assert _post(client, failure) == 200
    file_pending(rt)
    with db.reading() as session:
        message = session.get(Message, message_id)
    assert message is not None and message.delivery == "failed"
    assert message.delivery_error == "Message undeliverable. (code 131026)"
    notes = [m.body_text for m in messages_of(db, reference) if m.kind == "system"]
    assert notes == ["WhatsApp could not deliver a reply: Message undeliverable. (code 131026)"]


def _age_conversation(db: Database, hours: float) -> None:
    with db.unit_of_work() as session:
        for conversation in session.exec(select(SocialConversation)).all():
            conversation.last_inbound_at = utcnow() - timedelta(hours=hours)
            session.add(conversation)


def test_whatsapp_sends_free_text_inside_24_hours_then_only_the_approved_template(
    client: Client, db: Database, settings: Settings, graph: FakeGraph, rt: Runtime
) -> None:
    _, reference, agent_id = _whatsapp_ticket(
        client, db, settings, graph, rt, template="account_update"
    )
    _age_conversation(db, 30)
    reply(db, settings, reference, agent_id, "We fixed it")
    send_due(db)
    [sent] = graph.sent("/messages")
    assert sent["type"] == "template"
    assert sent["template"] == {
        "name": "account_update",
        "language": {"code": "en_US"},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "We fixed it"}]}],
    }


def test_whatsapp_without_a_template_refuses_a_reply_after_24_hours_and_says_why(
    client: Client, db: Database, settings: Settings, graph: FakeGraph, rt: Runtime
) -> None:
    _, reference, agent_id = _whatsapp_ticket(client, db, settings, graph, rt)
    _age_conversation(db, 25)
    with pytest.raises(Conflict, match="24-hour window closed"):
        reply(db, settings, reference, agent_id, "Hello?")
    with db.reading() as session:
        assert session.exec(select(Outbox)).all() == []


def _messenger_ticket(
    client: Client, db: Database, settings: Settings, graph: FakeGraph, rt: Runtime
) -> tuple[int, str, int]:
    channel_id = _meta(db, settings, graph, "messenger", PAGE)
    agent_id, _ = make_agent(db)
    assert _post(client, messenger_event(PAGE, "6001", "m_in1", "Where is my card?")) == 200
    file_pending(rt)
    [ticket] = tickets_of_channel(db, channel_id)
    return channel_id, ticket.reference, agent_id


def test_messenger_answers_as_response_then_with_the_human_agent_tag_then_not_at_all(
    client: Client, db: Database, settings: Settings, graph: FakeGraph, rt: Runtime
) -> None:
    _, reference, agent_id = _messenger_ticket(client, db, settings, graph, rt)
    reply(db, settings, reference, agent_id, "Within the day")
    _age_conversation(db, 72)
    reply(db, settings, reference, agent_id, "Three days later")
    send_due(db)
    first, second = graph.sent(f"/{PAGE}/messages")
    assert first == {
        "recipient": {"id": "6001"},
        "messaging_type": "RESPONSE",
        "message": {"text": "Within the day"},
    }
    assert second["messaging_type"] == "MESSAGE_TAG" and second["tag"] == "HUMAN_AGENT"
    _age_conversation(db, 8 * 24)
    with pytest.raises(Conflict, match="7-day window to answer on Messenger closed"):
        reply(db, settings, reference, agent_id, "Too late")


def test_the_page_own_messages_are_outbound_never_the_customer_s(
    client: Client, db: Database, settings: Settings, graph: FakeGraph, rt: Runtime
) -> None:
    _, reference, agent_id = _messenger_ticket(client, db, settings, graph, rt)
    reply(db, settings, reference, agent_id, "From the desk")
    send_due(db)  # Graph answers message_id m_out1, and Meta echoes it
    assert _post(client, messenger_event(PAGE, "6001", "m_out1", "From the desk", echo=True)) == 200
    echo = messenger_event(PAGE, "6001", "m_elsewhere", "From the Page inbox", echo=True)
    assert _post(client, echo) == 200
    file_pending(rt)
    messages = messages_of(db, reference)
    assert [(m.direction, m.body_text) for m in messages] == [
        ("inbound", "Where is my card?"),
        ("outbound", "From the desk"),
        ("outbound", "From the Page inbox"),
    ]
    assert messages[2].author_label == "Messenger (sent outside the desk)"
    with db.reading() as session:
        assert len(session.exec(select(CustomerIdentity)).all()) == 1


def test_a_graph_refusal_for_the_window_fails_the_reply_at_once_with_its_words(
    client: Client, db: Database, settings: Settings, graph: FakeGraph, rt: Runtime
) -> None:
    _, reference, agent_id = _messenger_ticket(client, db, settings, graph, rt)
    graph.fail_next(400, code=10, message="This message is sent outside of allowed window.")
    message_id = reply(db, settings, reference, agent_id, "Hello")
    send_due(db)
    with db.reading() as session:
        message = session.get(Message, message_id)
    assert message is not None and message.delivery == "failed"
    assert "outside of allowed window" in (message.delivery_error or "")


def test_a_rate_limited_send_waits_for_retry_after_then_goes(
    client: Client, db: Database, settings: Settings, graph: FakeGraph, rt: Runtime
) -> None:
    _, reference, agent_id = _messenger_ticket(client, db, settings, graph, rt)
    graph.fail_next(429, code=613, message="Calls to this api have exceeded the rate limit.",
                    headers={"Retry-After": "120"})  # fmt: skip
    reply(db, settings, reference, agent_id, "Hello")
    send_due(db)
    with db.reading() as session:
        row = session.exec(select(Outbox)).one()
    assert row.state == "queued" and row.next_attempt_at >= utcnow() + timedelta(seconds=110)


def test_a_revoked_page_token_fails_the_reply_and_turns_the_channel_red(
    client: Client, db: Database, settings: Settings, graph: FakeGraph, rt: Runtime
) -> None:
    channel_id, reference, agent_id = _messenger_ticket(client, db, settings, graph, rt)
    graph.revoked = True
    message_id = reply(db, settings, reference, agent_id, "Hello")
    send_due(db)
    with db.reading() as session:
        message = session.get(Message, message_id)
        found = session.get(Channel, channel_id)
    assert message is not None and message.delivery == "failed"
    assert found is not None and found.health == "failing"
    assert found.health_detail.startswith("Meta refused the messenger token")
    assert TOKEN not in found.health_detail + (message.delivery_error or "")
    assert channel(db, channel_id).health == "failing"


def test_the_composer_says_when_the_window_closed_before_the_agent_writes(
    client: Client, db: Database, settings: Settings, graph: FakeGraph, rt: Runtime
) -> None:
    _, reference, _ = _messenger_ticket(client, db, settings, graph, rt)
    sign_in(client)
    page = client.get(f"/tickets/{reference}").text
    assert "Messenger takes replies until" in page
    _age_conversation(db, 8 * 24)
    page = client.get(f"/tickets/{reference}").text
    assert "The 7-day window to answer on Messenger closed" in page
    assert re.search(r'<textarea id="reply-body"[^>]* disabled', page)


def test_the_ticket_page_shows_the_delivery_ticks_of_a_whatsapp_reply(
    client: Client, db: Database, settings: Settings, graph: FakeGraph, rt: Runtime
) -> None:
    _, reference, agent_id = _whatsapp_ticket(client, db, settings, graph, rt)
    reply(db, settings, reference, agent_id, "Approved")
    send_due(db)
    assert _post(client, whatsapp_status(PHONE_ID, "wamid.OUT1", "delivered")) == 200
    file_pending(rt)
    sign_in(client)
    page = client.get(f"/tickets/{reference}").text
    assert '<span class="delivery delivery-delivered">delivered</span>' in page


def _run_details(db: Database, reference: str) -> None:
    """The job the commit queued for the filed message, run here."""
    for message in messages_of(db, reference):
        if message.direction == "inbound":
            complete_social_message(message.id or 0)


def test_a_messenger_sender_is_named_from_the_profile_api(
    client: Client, db: Database, settings: Settings, graph: FakeGraph, rt: Runtime
) -> None:
    graph.profiles["6001"] = {"first_name": "Oliver", "last_name": "Grant"}
    _, reference, _ = _messenger_ticket(client, db, settings, graph, rt)
    assert messages_of(db, reference)[0].author_label == "6001"
    _run_details(db, reference)
    assert messages_of(db, reference)[0].author_label == "Oliver Grant"
    with db.reading() as session:
        assert [c.name for c in session.exec(select(Customer)).all()] == ["Oliver Grant"]


def test_whatsapp_media_are_fetched_through_the_graph_media_endpoint(
    client: Client, db: Database, settings: Settings, graph: FakeGraph, rt: Runtime
) -> None:
    channel_id = _meta(db, settings, graph, "whatsapp", PHONE_ID)
    graph.media["MEDIA-1"] = (b"\xff\xd8receipt-jpeg", "image/jpeg", None)
    body = whatsapp_image(PHONE_ID, "34600111222", "wamid.IMG1", "MEDIA-1", caption="receipt")
    assert _post(client, body) == 200
    file_pending(rt)
    [ticket] = tickets_of_channel(db, channel_id)
    assert messages_of(db, ticket.reference)[0].body_text == "receipt"
    _run_details(db, ticket.reference)
    with db.reading() as session:
        [attachment] = session.exec(select(Attachment)).all()
    assert (attachment.filename, attachment.content_type) == ("image.jpeg", "image/jpeg")
    assert BlobStore(settings.blob_dir).get(attachment.content_hash) == b"\xff\xd8receipt-jpeg"
    media_gets = [r for r in graph.requests if r[1].startswith("/media-file/")]
    assert media_gets and media_gets[0][2]["authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize("problem", ["oversized", "elsewhere"])
def test_whatsapp_media_too_large_or_from_another_host_is_not_fetched_and_the_ticket_says_so(
    client: Client,
    db: Database,
    settings: Settings,
    graph: FakeGraph,
    rt: Runtime,
    problem: str,
) -> None:
    channel_id = _meta(db, settings, graph, "whatsapp", PHONE_ID)
    announced = 500 * 1024 * 1024 if problem == "oversized" else None
    graph.media["MEDIA-2"] = (b"jpeg", "image/jpeg", announced)
    if problem == "elsewhere":
        graph.media_url_host = graph.url.replace("127.0.0.1", "localhost")
    assert _post(client, whatsapp_image(PHONE_ID, "34600111222", "wamid.IMG2", "MEDIA-2")) == 200
    file_pending(rt)
    [ticket] = tickets_of_channel(db, channel_id)
    _run_details(db, ticket.reference)
    with db.reading() as session:
        assert session.exec(select(Attachment)).all() == []
    [note] = [m.body_text for m in messages_of(db, ticket.reference) if m.kind == "system"]
    expected = "too large" if problem == "oversized" else "is not the platform's own host"
    assert note.startswith("A file of the customer's was not fetched: image.jpeg")
    assert expected in note
    assert not [r for r in graph.requests if r[1].startswith("/media-file/")]


def test_an_agent_links_a_whatsapp_customer_to_an_email_customer_and_undoes_it(
    client: Client, db: Database, settings: Settings, graph: FakeGraph, rt: Runtime
) -> None:
    _, reference, _ = _whatsapp_ticket(client, db, settings, graph, rt)
    email_ticket = new_ticket(db, settings, make_channel(db, settings), subject="Loan question")
    sign_in(client)
    panel = f"/tickets/{reference}/customer"
    assert email_ticket not in client.get(panel).text  # two customers, nothing linked by itself

    linked = post_form(client, f"/tickets/{reference}/customer/link", panel,
                       {"other": "maria@example.org"})  # fmt: skip
    assert linked.status_code == 200
    assert "maria@example.org" in linked.text and email_ticket in linked.text
    assert "+34 600 11 12 22" in linked.text and "Unlink" in linked.text
    with db.reading() as session:
        whatsapp_customer = session.exec(
            select(CustomerIdentity).where(CustomerIdentity.kind == "phone")
        ).one()
        actions = [a.action for a in session.exec(select(AuditEvent)).all()]
    assert "customer.linked" in actions

    unlinked = post_form(
        client, f"/tickets/{reference}/customers/{whatsapp_customer.customer_id}/unlink", panel, {}
    )
    assert unlinked.status_code == 200
    assert email_ticket not in unlinked.text and "maria@example.org" not in unlinked.text
    with db.reading() as session:
        assert "customer.unlinked" in [a.action for a in session.exec(select(AuditEvent)).all()]


def test_linking_to_nobody_known_says_so(
    client: Client, db: Database, settings: Settings, graph: FakeGraph, rt: Runtime
) -> None:
    _, reference, _ = _whatsapp_ticket(client, db, settings, graph, rt)
    sign_in(client)
    panel = f"/tickets/{reference}/customer"
    answer = post_form(client, f"/tickets/{reference}/customer/link", panel, {"other": "nobody"})
    assert "no customer has that address, number or id" in answer.text
