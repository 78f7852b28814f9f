"""An agent's files on a live chat ticket, sent from the ticket page's composer: a reply's reach
every socket of the visitor in the ``message`` frame's ``attachments``, behind the signed links
the chat gives a visitor's own files; a note's never do; and an answer mailed to a visitor who
has gone carries them as mail attachments.

The sockets talk to a real ``inbox serve`` (with ``INBOX_TEST_DATABASE=postgres
INBOX_TEST_BROKER=redis``, its workers run apart and the pushes cross Redis)."""

from __future__ import annotations

import json
import os
import re
import time
from typing import Any

import httpx
import pytest
from sqlmodel import select
from websockets.sync.client import ClientConnection

from inbox.actions.chat.email_proof import prove_email
from inbox.actions.chat.routing import end_chat
from inbox.db import Database
from inbox.models import ChatConversation, Outbox, utcnow
from inbox.rules.chat import proof_token
from inbox.settings import Settings
from tests.support.chat_desk import chat_channel, visitor_writes
from tests.support.chat_files import PDF, png
from tests.support.chat_socket import WAIT, Chat, hello, of_type, receive, say, signed_in
from tests.support.desk import make_agent, make_channel
from tests.support.processes import Deployment
from tests.support.served import create_agent
from tests.support.smtp_peer import SmtpPeer
from tests.support.web import Client, csrf_token, sign_in
from workers.actors import deliver_outbox_items

HX = {"HX-Request": "true"}
BROKER = os.environ.get("INBOX_TEST_BROKER", "")
MARIA = "maria@example.org"


def _composer_post(
    browser: httpx.Client | Client,
    reference: str,
    what: str,
    body: str,
    files: list[tuple[str, bytes, str]],
) -> httpx.Response:
    """The composer's reply or note form sent as htmx sends it, with files chosen."""
    page = browser.get(f"/tickets/{reference}").text
    form = {"body": body, "_csrf_token": csrf_token(page)}
    if what == "replies":
        seen = re.search(r'name="seen_message_id" value="(\d*)"', page)
        key = re.search(
            r'<form class="composer reply".*?name="idempotency_key" value="([^"]+)"', page, re.S
        )
        assert seen and key
        form |= {"seen_message_id": seen.group(1), "idempotency_key": key.group(1)}
    answer = browser.post(
        f"/tickets/{reference}/{what}",
        data=form,
        files=[("files", item) for item in files],
        headers=HX,
    )
    assert answer.status_code == 200, answer.text
    assert '<p class="error" role="alert">' not in answer.text, answer.text
    return answer


def _frames_until(ws: ClientConnection, wanted: Any) -> list[dict[str, Any]]:
    """Every frame up to and with the first ``wanted`` accepts."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        frame = json.loads(ws.recv(timeout=deadline - time.monotonic()))
        seen.append(frame)
        if wanted(frame):
            return seen
    raise AssertionError(f"no such frame within {WAIT}s; received {seen}")


@pytest.mark.skipif(BROKER == "amqp", reason="the chat tests scale out on Redis only")
def test_a_chat_reply_with_a_file_reaches_the_visitor_and_a_note_with_one_never_does(
    server: Deployment,
) -> None:
    create_agent(server, "alex@example.test", "Alex Agent")
    chat, image = Chat(server), png(64, 48)
    with chat.open() as ws, signed_in(server, "alex@example.test") as agent:
        token = hello(ws, name="Maria")["token"]
        reference = say(ws, "The payment page shows an error")["reference"]
        page = agent.get(f"/tickets/{reference}").text
        assert 'id="reply-files"' in page and 'id="note-files"' in page

        _composer_post(
            agent, reference, "replies", "Is it this screen?", [("screen.png", image, "image/png")]
        )
        frame = receive(ws, of_type("message", author="agent"))

        assert frame["text"] == "Is it this screen?" and frame["name"] == "Alex Agent"
        [file] = frame["attachments"]
        assert (file["name"], file["type"], file["size"]) == ("screen.png", "image/png", len(image))
        assert file["url"].startswith(f"{server.base_url}/chat/files/")
        loaded = httpx.get(file["url"], timeout=10)
        assert loaded.status_code == 200 and loaded.content == image
        assert loaded.headers["x-content-type-options"] == "nosniff"

        _composer_post(
            agent,
            reference,
            "notes",
            "Her bank's statement",
            [("bank.pdf", PDF, "application/pdf")],
        )
        _composer_post(agent, reference, "replies", "We are on it.", [])
        after = _frames_until(ws, of_type("message", text="We are on it."))
        said = [f for f in after if f.get("type") == "message"]
        assert [f["text"] for f in said] == ["We are on it."]  # the note never came
        assert said[0]["seq"] == frame["seq"] + 1 and "attachments" not in said[0]

    with chat.open() as ws:  # the visitor back later: the file is there, the note is not
        welcome = hello(ws, token)["conversation"]["messages"]
        names = [a["name"] for m in welcome for a in m.get("attachments", [])]
        assert names == ["screen.png"]
        assert all(m["text"] != "Her bank's statement" for m in welcome)


def test_an_answer_mailed_to_a_visitor_who_has_gone_carries_its_files(
    client: Client, db: Database, settings: Settings, smtp_peer: SmtpPeer
) -> None:
    make_channel(db, settings, smtp_url=smtp_peer.smtp_url())  # the desk's own address
    make_agent(db)
    channel_id = chat_channel(db, settings, name="Website")
    ack = visitor_writes(db, settings, channel_id, "Maria Lopez", claimed_email=MARIA)
    with db.unit_of_work() as session:
        conversation = session.exec(select(ChatConversation)).one()
        proof = proof_token(
            settings.secret_key, conversation.visitor_id, MARIA, int(time.time()) + 600
        )
        prove_email(session, settings, proof, now=utcnow())
        end_chat(session, conversation, by_label="the visitor", now=utcnow())
    sign_in(client)

    _composer_post(
        client,
        ack.reference,
        "replies",
        "The receipt you asked for.",
        [("receipt.pdf", PDF, "application/pdf")],
    )

    with db.reading() as session:
        [row] = session.exec(select(Outbox).where(Outbox.kind == "reply")).all()
    assert row.recipients == [MARIA] and PDF not in row.payload
    deliver_outbox_items([row.id or 0])
    received = next(r for r in smtp_peer.wait_for(1) if r.rcpt_tos == (MARIA,))
    assert "The receipt you asked for." in received.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    attached = [(p.get_filename(), p.get_content()) for p in received.message.iter_attachments()]
    assert attached == [("receipt.pdf", PDF)]
