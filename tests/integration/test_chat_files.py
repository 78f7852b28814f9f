"""Files in live chat (docs/chat-protocol.md, "Files"), against real ``inbox serve`` processes:
a visitor's upload over HTTP, the ``message`` frame that carries it, the link every socket of
the visitor gets, and everything that must be refused on the way.

Embedded by default; with ``INBOX_TEST_DATABASE=postgres INBOX_TEST_BROKER=redis`` the
visitor's second tab talks to a second web process that hears the first through Redis.
"""

from __future__ import annotations

import hashlib
import os
import socket
import time
from email import message_from_bytes, policy
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from inbox.actions.channels import add_email_channel
from inbox.actions.chat.channels import add_chat_channel
from inbox.models import Attachment, ChatVisitor, InboundItem, Message, Outbox, utcnow
from inbox.rules.chat_files import ChatFile, link_token, upload_token
from inbox.settings import load_settings
from tests.support.chat_files import EXE, PDF, png, upload
from tests.support.chat_socket import (
    SITE,
    Chat,
    database,
    hello,
    of_type,
    receive,
    receive_each,
    say,
    send,
)
from tests.support.desk import outbox_mail
from tests.support.processes import Deployment
from tests.support.served import api_token, create_agent, desk_box, desk_database

BROKER = os.environ.get("INBOX_TEST_BROKER", "")
pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(BROKER == "amqp", reason="the chat tests scale out on Redis only"),
]
EVIL = "http://evil.example"


def _secret(server: Deployment) -> bytes:
    return load_settings(server.env).secret_key


def _visitor_id(token: str) -> int:
    return int(token[1:].split(".")[0])


def _attachments(server: Deployment) -> list[Attachment]:
    db = database(server)
    with db.reading() as session:
        found = list(session.exec(select(Attachment).order_by(col(Attachment.id))))
    db.dispose()
    return found


def _raw_request(server: Deployment, head: str) -> str:
    """What the desk answers a request whose body is announced and never sent: an answer at
    all proves it did not wait to read the body."""
    host, port = server.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(head.replace("\n", "\r\n").encode() + b"\r\n")
        answer = b""
        while b"\r\n\r\n" not in answer:
            piece = conn.recv(4096)
            if not piece:
                break
            answer += piece
    return answer.decode(errors="replace")


def test_a_visitors_screenshot_and_pdf_reach_every_socket_of_theirs_and_the_ticket(
    server: Deployment, second_web: str
) -> None:
    create_agent(server, "alex@example.test", "Alex Agent")
    agent = api_token(server, "alex@example.test")
    chat, image = Chat(server), png()
    with chat.open() as tab_one:
        token = hello(tab_one, name="Maria")["token"]
        reference = say(tab_one, "The payment page shows an error")["reference"]
        with chat.open(second_web) as tab_two:
            hello(tab_two, token)
            shot = upload(chat, token, image, "Screen Shot 12:04.png")
            assert shot.status_code == 201, shot.text
            assert shot.headers["access-control-allow-origin"] == SITE
            answer = shot.json()
            assert answer["name"] == "Screen Shot 12_04.png" and answer["type"] == "image/png"
            assert answer["size"] == len(image) and answer["token"]
            doc = upload(chat, token, PDF, "statement.pdf", content_type="application/pdf")
            assert doc.status_code == 201, doc.text

            send(
                tab_one,
                type="message",
                client_id="files-1",
                text="",
                attachments=[answer["token"], doc.json()["token"]],
            )
            ack, mine = receive_each(  # the two in either order
                tab_one,
                of_type("ack", client_id="files-1"),
                of_type("message", client_id="files-1"),
            )
            assert ack["reference"] == reference
            for frame in (mine, receive(tab_two, of_type("message", client_id="files-1"))):
                assert frame["text"] == ""
                files = frame["attachments"]
                assert [(f["name"], f["type"], f["size"]) for f in files] == [
                    ("Screen Shot 12_04.png", "image/png", len(image)),
                    ("statement.pdf", "application/pdf", len(PDF)),
                ]
                assert all(f["url"].startswith(f"{server.base_url}/chat/files/") for f in files)

    shown = httpx.get(files[0]["url"], timeout=10)
    assert shown.status_code == 200 and shown.content == image
    assert shown.headers["content-type"] == "image/png"
    assert shown.headers["content-disposition"].startswith("inline;")
    assert shown.headers["x-content-type-options"] == "nosniff"
    assert shown.headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert shown.headers["cache-control"] == "no-store"
    saved = httpx.get(files[1]["url"], timeout=10)
    assert saved.status_code == 200 and saved.content == PDF
    assert saved.headers["content-disposition"].startswith('attachment; filename="statement.pdf"')

    ticket = httpx.get(
        f"{server.base_url}/api/v1/tickets/{reference}",
        headers={"Authorization": f"Bearer {agent}"},
        timeout=10,
    ).json()
    inbound = [m for m in ticket["messages"] if m["direction"] == "inbound"]
    assert [(a["filename"], a["size"]) for a in inbound[-1]["attachments"]] == [
        ("Screen Shot 12_04.png", len(image)),
        ("statement.pdf", len(PDF)),
    ]
    with chat.open() as ws:  # the visitor back later: the welcome carries the files again
        welcome = hello(ws, token)["conversation"]["messages"]
        again = next(m for m in welcome if m.get("client_id") == "files-1")
        assert [f["name"] for f in again["attachments"]] == [
            "Screen Shot 12_04.png",
            "statement.pdf",
        ]


def test_a_first_message_of_files_alone_opens_a_ticket_named_after_them(server: Deployment) -> None:
    chat = Chat(server)
    with chat.open() as ws:
        token = hello(ws)["token"]
        shot = upload(chat, token, png(), "error.png").json()
        send(ws, type="message", client_id="only-files", text="", attachments=[shot["token"]])
        assert receive(ws, of_type("ack", client_id="only-files"))["seq"] == 1
    db = database(server)
    with db.reading() as session:
        message = session.exec(select(Message).where(Message.kind == "chat")).one()
        assert message.body_text == ""
    db.dispose()


def test_uploads_from_a_site_not_listed_are_refused_before_the_body_is_read(
    server: Deployment,
) -> None:
    chat = Chat(server)
    with chat.open() as ws:
        token = hello(ws)["token"]
    refused = upload(chat, token, png(), origin=EVIL)
    assert refused.status_code == 403 and "access-control-allow-origin" not in refused.headers
    assert upload(chat, token, png(), origin="null").status_code == 403
    # A million bytes announced, none sent: the answer comes at once all the same.
    head = (
        f"POST /chat/files?widget={chat.widget_key} HTTP/1.1\nHost: x\nOrigin: {EVIL}\n"
        f"X-Visitor-Token: {token}\nContent-Type: image/png\nContent-Length: 1000000\n"
    )
    assert _raw_request(server, head).startswith("HTTP/1.1 403")

    asked = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "x-visitor-token",
    }
    url = f"{server.base_url}/chat/files?widget={chat.widget_key}"
    preflight = httpx.options(url, headers={"Origin": SITE, **asked}, timeout=10)
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == SITE
    assert "x-visitor-token" in preflight.headers["access-control-allow-headers"]
    other = httpx.options(url, headers={"Origin": EVIL, **asked}, timeout=10)
    assert other.status_code == 403 and "access-control-allow-origin" not in other.headers
    unknown = httpx.options(
        url.replace(chat.widget_key, "nope"), headers={"Origin": SITE}, timeout=10
    )
    assert unknown.status_code == 403
    assert _attachments(server) == []


def test_too_large_wrong_type_and_empty_files_and_strangers_are_refused_in_words(
    server: Deployment,
) -> None:
    chat = Chat(server)
    with chat.open() as ws:
        token = hello(ws)["token"]
    too_large = upload(chat, token, png() + b"\x00" * (5 * 1024 * 1024))
    assert too_large.status_code == 413
    assert too_large.json() == {"error": "too_large", "detail": "a file may have at most 5 MB"}
    assert too_large.headers["access-control-allow-origin"] == SITE  # the widget reads it
    head = (
        f"POST /chat/files?widget={chat.widget_key} HTTP/1.1\nHost: x\nOrigin: {SITE}\n"
        f"X-Visitor-Token: {token}\nContent-Type: image/png\nContent-Length: 9000000\n"
    )
    assert _raw_request(server, head).startswith("HTTP/1.1 413")

    program = upload(chat, token, EXE, "holiday.png")
    assert program.status_code == 415
    assert program.json()["error"] == "unsupported_type"
    assert "PNG, JPEG, GIF or WebP screenshots and PDF documents" in program.json()["detail"]
    assert upload(chat, token, b"").status_code == 400

    for stranger in (None, "v999.0123456789abcdef0123456789abcdef", token[:-2] + "00"):
        answer = upload(chat, stranger, png())
        assert answer.status_code == 403, stranger
        assert answer.json()["detail"] == "start the chat before sending a file"
    with desk_database(server) as session:
        other = add_chat_channel(session, desk_box(server), name="Other", origins=[SITE])
    assert upload(chat, token, png(), widget_key=other.widget_key).status_code == 403


def test_a_visitor_uploading_faster_than_the_desk_allows_is_refused_for_a_while(
    server: Deployment,
) -> None:
    chat = Chat(server)
    with chat.open() as ws:
        token = hello(ws)["token"]
    answers = [upload(chat, token, png(8, 8)).status_code for _ in range(11)]
    assert answers == [201] * 10 + [429]


def test_upload_tokens_of_another_visitor_changed_or_expired_are_refused_and_nothing_stored(
    server: Deployment,
) -> None:
    chat, image = Chat(server), png(10, 10)
    with chat.open() as maria_ws:
        maria = hello(maria_ws, name="Maria")["token"]
        theirs = upload(chat, maria, png()).json()
    with chat.open() as ws:
        token = hello(ws, name="Mallory")["token"]
        mine = upload(chat, token, image).json()
        stored = ChatFile(hashlib.sha256(image).hexdigest(), mine["name"], "image/png", len(image))
        expired = upload_token(_secret(server), _visitor_id(token), stored, int(time.time()) - 1)
        at = len(mine["token"]) // 2
        changed = (
            mine["token"][:at]
            + ("A" if mine["token"][at] != "A" else "B")
            + mine["token"][at + 1 :]
        )
        for n, bad in enumerate((theirs["token"], changed, expired)):
            send(ws, type="message", client_id=f"bad-{n}", text="look", attachments=[bad])
            refused = receive(ws, of_type("error", client_id=f"bad-{n}"))
            assert refused["code"] == "file_refused", refused
            assert "attach it again" in refused["detail"]
        send(ws, type="message", client_id="bad-3", text="look", attachments=["x" * 2000])
        assert receive(ws, of_type("error"))["code"] == "invalid"
        assert say(ws, "still here")["seq"] == 1  # the socket goes on
    db = database(server)
    with db.reading() as session:
        keys = [i.remote_key.split(":")[1] for i in session.exec(select(InboundItem))]
    db.dispose()
    assert not any(k.startswith("bad-") for k in keys)
    assert _attachments(server) == []


def test_a_link_to_someone_elses_attachment_a_changed_or_an_expired_one_is_refused(
    server: Deployment,
) -> None:
    chat, secret = Chat(server), _secret(server)
    with chat.open() as ws:
        maria = hello(ws, name="Maria")["token"]
        shot = upload(chat, maria, png()).json()
        send(ws, type="message", client_id="m-1", text="here", attachments=[shot["token"]])
        url = receive(ws, of_type("message", client_id="m-1"))["attachments"][0]["url"]
    with chat.open() as ws:
        mallory = hello(ws, name="Mallory")["token"]
        say(ws, "hello")
    assert httpx.get(url, timeout=10).status_code == 200
    (attachment,) = _attachments(server)
    base = f"{server.base_url}/chat/files/"
    later = int(time.time()) + 3600
    forged: dict[str, Any] = {
        "Mallory's own link to Maria's file": link_token(
            secret, attachment.id or 0, _visitor_id(mallory), later
        ),
        "an expired link": link_token(secret, attachment.id or 0, _visitor_id(maria), 1),
        "a changed link": url.removeprefix(base)[:-1] + ("a" if url[-1] != "a" else "b"),
        "an upload token": shot["token"],
        "another desk's link": link_token(b"x" * 32, attachment.id or 0, _visitor_id(maria), later),
    }
    for what, token in forged.items():
        answer = httpx.get(base + token, timeout=10)
        assert answer.status_code == 404, what
        assert answer.json()["error"] == "not_found"


def test_a_resent_message_with_a_file_is_stored_once_with_one_attachment(
    server: Deployment,
) -> None:
    chat = Chat(server)
    with chat.open() as ws:
        token = hello(ws)["token"]
        shot = upload(chat, token, png()).json()
        frame: dict[str, Any] = {"client_id": "c-1", "text": "see", "attachments": [shot["token"]]}
        send(ws, type="message", **frame)
        first = receive(ws, of_type("ack", client_id="c-1"))
    with chat.open() as ws:  # the connection was lost before the widget saw the ack
        hello(ws, token)
        send(ws, type="message", **frame)
        assert receive(ws, of_type("ack", client_id="c-1")) == first
        send(ws, type="message", **frame)
        assert receive(ws, of_type("ack", client_id="c-1")) == first
    assert len(_attachments(server)) == 1


def test_the_transcript_names_the_files_of_each_message(server: Deployment) -> None:
    chat = Chat(server)
    with desk_database(server) as session:  # the desk's own address, which mail leaves from
        channel = add_email_channel(
            session,
            desk_box(server),
            name="Support",
            address="support@example.com",
            imap_url="imap://127.0.0.1:9",
            smtp_url="smtp://127.0.0.1:9",
            imap_redacted="imap://127.0.0.1:9",
            smtp_redacted="smtp://127.0.0.1:9",
        )
        channel.enabled = False  # the outbox keeps the mail
    with chat.open() as ws:
        token = hello(ws, name="Maria Lopez", email="maria@example.org")["token"]
        shot = upload(chat, token, png(), "error.png").json()
        send(ws, type="message", client_id="f", text="See this", attachments=[shot["token"]])
        receive(ws, of_type("ack", client_id="f"))
        with desk_database(server) as session:  # as if the visitor followed the link
            visitor = session.exec(select(ChatVisitor)).one()
            visitor.email_proven_at = utcnow()
            session.add(visitor)
        send(ws, type="transcript")
        receive(ws, of_type("transcript_sent"))
    db = database(server)
    with db.reading() as session:
        row = session.exec(select(Outbox).where(Outbox.kind == "chat_transcript")).one()
    db.dispose()
    mail = message_from_bytes(outbox_mail(load_settings(server.env), row), policy=policy.default)
    body = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "You: See this [file: error.png]" in body
