"""The chat visitor's websocket protocol (docs/chat-protocol.md), driven with a real websocket
client against real ``inbox serve`` processes: every frame, every limit, every error.

Embedded by default; with ``INBOX_TEST_DATABASE=postgres INBOX_TEST_BROKER=redis`` the desk
runs on PostgreSQL with a separate worker, and a second web process shares the hub on Redis:
the visitor talks to one process while the agent answers through the other.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import os
import re
import socket
import time
from typing import Any

import httpx
import pytest
from sqlmodel import col, select
from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect
from websockets.typing import Origin
from websockets.uri import parse_uri

from inbox.models import (
    Channel,
    ChatConversation,
    ChatEntry,
    ChatVisitor,
    CustomerIdentity,
    HelpVisit,
    InboundItem,
    Message,
    Ticket,
)
from inbox.web.chat.hub import NEWCOMERS_BURST
from inbox.web.chat.socket import FRAMES_BURST, FRAMES_PER_SECOND
from tests.support.chat_socket import (
    SITE,
    WAIT,
    Chat,
    database,
    hello,
    of_type,
    receive,
    say,
    send,
)
from tests.support.help_centre import write_article
from tests.support.live import cookie_header, open_live, receive_until, sign_in
from tests.support.processes import Deployment
from tests.support.served import api_token, create_agent

BROKER = os.environ.get("INBOX_TEST_BROKER", "")
pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(BROKER == "amqp", reason="the chat tests scale out on Redis only"),
]


class NonReader:
    """A websocket client that never reads what the desk sends, down to its socket: its
    kernel buffer is small and stays full."""

    def __init__(self, base_url: str, path: str, origin: str) -> None:
        host, port = base_url.removeprefix("http://").split(":")
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.connect((host, int(port)))
        self.protocol = ClientProtocol(
            parse_uri(f"ws://{host}:{port}{path}"), origin=Origin(origin)
        )
        self.protocol.send_request(self.protocol.connect())
        self.sock.sendall(b"".join(self.protocol.data_to_send()))
        answer = b""
        while b"\r\n\r\n" not in answer:
            answer += self.sock.recv(1)  # the handshake's answer alone, byte by byte
        assert answer.startswith(b"HTTP/1.1 101"), answer
        self.protocol.receive_data(answer)

    def send(self, **frame: Any) -> None:
        self.protocol.send_text(json.dumps(frame).encode())
        self.sock.sendall(b"".join(self.protocol.data_to_send()))

    def close(self) -> None:
        self.sock.close()


def api(server: Deployment, token: str, method: str, path: str, **kw: Any) -> Any:
    response = httpx.request(
        method,
        f"{server.base_url}/api/v1{path}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
        **kw,
    )
    assert response.status_code < 300, response.text
    return response.json()


@pytest.fixture
def agent_token(server: Deployment) -> str:
    create_agent(server, "alex@example.test", "Alex Agent")
    return api_token(server, "alex@example.test")


def test_add_chat_prints_the_snippet_key_and_secret_and_a_running_desk_serves_it_at_once(
    server: Deployment,
) -> None:
    chat = Chat(server, SITE, "https://www.example.test", cli=True)

    assert re.search(
        rf'<script src="{server.base_url}/chat/widget.js" data-widget="{chat.widget_key}" '
        r"async></script>",
        chat.output,
    )
    assert re.fullmatch(r"[\w-]{20,}", chat.widget_key)
    assert len(chat.identity_secret) >= 32
    db = database(server)
    with db.reading() as session:
        channel = session.exec(select(Channel).where(Channel.name == "Chat")).one()
        assert channel.kind == "chat" and chat.identity_secret not in channel.secrets_encrypted
        assert channel.config["origins"] == [SITE, "https://www.example.test"]
    db.dispose()
    with chat.open(origin="https://www.example.test") as ws:  # no restart needed
        assert hello(ws)["conversation"] is None
    script = httpx.get(f"{server.base_url}/chat/widget.js", timeout=10)
    assert script.status_code == 200 and "attachShadow" in script.text
    assert script.headers["content-type"].startswith("text/javascript")


def test_a_socket_from_a_site_not_listed_or_for_an_unknown_widget_is_refused_before_upgrade(
    server: Deployment,
) -> None:
    chat = Chat(server)
    for origin in ("http://evil.example", "http://shop.example.test:8081", "null"):
        with pytest.raises(InvalidStatus) as refused:
            chat.open(origin=origin)
        assert refused.value.response.status_code == 403
    with pytest.raises(InvalidStatus) as unknown:
        connect(f"{server.base_url.replace('http', 'ws')}/chat/ws?widget=nope", origin=Origin(SITE))
    assert unknown.value.response.status_code == 403


def test_a_visit_that_opened_a_suggested_article_and_then_wrote_is_marked_with_its_ticket(
    server: Deployment,
) -> None:
    """The widget's visit key goes on the suggested articles' links and in hello; the first
    message marks the visit as one the article did not answer (the report counts the rest)."""
    create_agent(server, "writer@example.test", "Wendy Writer", role="manager")
    write_article(database(server), "Resetting your password", author="writer@example.test")
    chat, visit, other = Chat(server), "v" * 22, "w" * 22
    for key in (visit, other):
        page = httpx.get(f"{server.base_url}/help/articles/resetting-your-password?visit={key}")
        assert page.status_code == 200
    with chat.open() as ws:
        hello(ws, name="Maria Lopez", visit=visit)
        reference = say(ws, "The article did not help")["reference"]
    with chat.open() as ws:
        send(ws, type="hello", token=None, visit="not a key")
        assert receive(ws, of_type("error"))["code"] == "invalid"
    db = database(server)
    with db.reading() as session:
        marked = dict(
            session.exec(
                select(HelpVisit.visit_key, Ticket.reference).join(
                    Ticket, col(Ticket.id) == HelpVisit.ticket_id, isouter=True
                )
            ).all()
        )
    db.dispose()
    assert marked == {visit: reference, other: None}


def test_the_first_message_opens_a_ticket_the_ack_names_and_a_resend_is_stored_once(
    server: Deployment, agent_token: str
) -> None:
    chat = Chat(server)
    with chat.open() as ws:
        welcome = hello(ws, name="Maria Lopez", email="maria@example.org")
        assert welcome["conversation"] is None and welcome["token"].startswith("v")
        ack = say(ws, "I cannot log in to my account", client_id="c-1")
        assert ack["seq"] == 1 and re.fullmatch(r"[A-Z]+-[0-9A-Z-]+", ack["reference"])
        mine = receive(ws, of_type("message", seq=1))
        assert mine["author"] == "visitor" and mine["client_id"] == "c-1"
        assert mine["text"] == "I cannot log in to my account" and "T" in mine["at"]
        note = receive(ws, of_type("message", author="system"))
        assert ack["reference"] in note["text"]

        again = say(ws, "I cannot log in to my account", client_id="c-1")
        assert again == ack

    ticket = api(server, agent_token, "GET", f"/tickets/{ack['reference']}")
    assert ticket["channel_kind"] == "chat" and ticket["subject"] == "I cannot log in to my account"
    inbound = [m for m in ticket["messages"] if m["direction"] == "inbound"]
    assert [m["body_text"] for m in inbound] == ["I cannot log in to my account"]
    assert inbound[0]["kind"] == "chat" and inbound[0]["verification"] == "unverified"
    db = database(server)
    with db.reading() as session:
        items = session.exec(select(InboundItem)).all()
        assert [(i.remote_key.split(":")[1], i.state) for i in items] == [("c-1", "done")]
    db.dispose()


def test_a_returning_visitor_is_welcomed_back_into_the_open_chat_and_resumes_after_a_number(
    server: Deployment,
) -> None:
    chat = Chat(server)
    with chat.open() as ws:
        token = hello(ws, name="Maria")["token"]
        first = say(ws, "first")
        say(ws, "second")
    with chat.open() as ws:
        welcome = hello(ws, token)
        conversation = welcome["conversation"]
        assert welcome["token"] == token
        assert conversation["reference"] == first["reference"]
        assert conversation["status"] == "open"
        texts = [m["text"] for m in conversation["messages"]]
        assert texts[0] == "first" and "second" in texts
        assert conversation["last_seq"] == conversation["messages"][-1]["seq"]

        send(ws, type="resume", since=1)
        resumed = [receive(ws, of_type("message")) for _ in range(conversation["last_seq"] - 1)]
        assert [m["seq"] for m in resumed] == list(range(2, conversation["last_seq"] + 1))
    with chat.open() as ws:  # a token of another desk or a forged one: a new visitor
        forged = token[:-1] + ("1" if token[-1] != "1" else "2")
        assert hello(ws, forged)["conversation"] is None


def test_an_agents_reply_reaches_every_socket_of_the_visitor_and_an_internal_note_none(
    server: Deployment, second_web: str, agent_token: str
) -> None:
    chat = Chat(server)
    with chat.open() as tab_one:
        token = hello(tab_one, name="Maria")["token"]
        reference = say(tab_one, "Is my refund on its way?")["reference"]
        with chat.open(second_web) as tab_two:
            hello(tab_two, token)
            api(server, agent_token, "POST", f"/tickets/{reference}/notes", json={"body": "hush"})
            api(
                server,
                agent_token,
                "POST",
                f"/tickets/{reference}/replies",
                json={"body": "Yes, it left us this morning."},
            )
            for tab in (tab_one, tab_two):
                reply = receive(tab, of_type("message", author="agent"))
                assert reply["text"] == "Yes, it left us this morning."
                assert reply["name"] == "Alex Agent" and "client_id" not in reply
    ticket = api(server, agent_token, "GET", f"/tickets/{reference}")
    outbound = [m for m in ticket["messages"] if m["direction"] == "outbound"]
    assert [(m["kind"], m["delivery"]) for m in outbound] == [("chat", "sent")]
    with chat.open() as ws:  # what the visitor sees holds the reply and never the note
        texts = [m["text"] for m in hello(ws, token)["conversation"]["messages"]]
        assert "Yes, it left us this morning." in texts and "hush" not in texts


def test_bad_json_unknown_frames_and_frames_before_hello_get_error_frames_and_the_socket_goes_on(
    server: Deployment,
) -> None:
    chat = Chat(server)
    with chat.open() as ws:
        send(ws, type="message", client_id="x", text="too early")
        assert receive(ws, of_type("error"))["code"] == "hello_first"
        hello(ws)
        ws.send("{not json")
        assert receive(ws, of_type("error"))["code"] == "bad_json"
        ws.send("[1, 2]")
        assert receive(ws, of_type("error"))["code"] == "bad_json"
        send(ws, type="dance")
        assert receive(ws, of_type("error"))["code"] == "unknown_type"
        send(ws, type="message", client_id="", text="hi")
        assert receive(ws, of_type("error"))["code"] == "invalid"
        send(ws, type="message", client_id="x" * 65, text="hi")
        assert receive(ws, of_type("error"))["code"] == "invalid"
        send(ws, type="resume", since="yesterday")
        assert receive(ws, of_type("error"))["code"] == "invalid"
        send(ws, type="hello", token=None)
        assert receive(ws, of_type("error"))["code"] == "already_greeted"
        send(ws, type="ping")
        receive(ws, of_type("pong"))
        assert say(ws, "still here")["seq"] == 1


def test_a_frame_over_8_kib_closes_the_socket_with_1009(server: Deployment) -> None:
    chat = Chat(server)
    with chat.open() as ws:
        hello(ws)
        send(ws, type="message", client_id="big", text="x" * 8200)
        with pytest.raises(ConnectionClosed) as closed:
            while True:  # frames sent before the close (availability) are read first
                ws.recv(timeout=WAIT)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


def test_bursts_of_ten_pass_then_a_flood_is_refused_and_closed_while_other_visitors_go_on(
    server: Deployment,
) -> None:
    chat = Chat(server)
    with chat.open() as flood, chat.open() as calm:
        hello(flood)
        hello(calm)
        for n in range(10):
            send(flood, type="message", client_id=f"ok-{n}", text=f"message {n}")
        acks = {receive(flood, of_type("ack"))["client_id"] for _ in range(10)}
        assert acks == {f"ok-{n}" for n in range(10)}
        send(flood, type="message", client_id="eleven", text="one too many")
        refused = receive(flood, of_type("error"))
        assert refused["code"] == "rate_limited" and refused["client_id"] == "eleven"

        started = time.monotonic()
        assert say(calm, "I am not slowed")["seq"] == 1
        assert time.monotonic() - started < 5

        with pytest.raises(ConnectionClosed) as closed:
            for n in range(40):
                send(flood, type="message", client_id=f"more-{n}", text="more")
            while True:
                flood.recv(timeout=WAIT)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


def test_new_visitors_from_one_network_address_are_limited_but_returning_ones_come_back(
    server: Deployment,
) -> None:
    chat = Chat(server)
    with chat.open() as first:
        token = hello(first)["token"]
    for _ in range(NEWCOMERS_BURST - 1):
        with chat.open() as ws:
            hello(ws)
    with chat.open() as one_too_many:
        send(one_too_many, type="hello", token=None)
        refused = receive(one_too_many, of_type("error"))
        assert refused["code"] == "rate_limited"
        with pytest.raises(ConnectionClosed) as closed:
            one_too_many.recv(timeout=WAIT)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
    with chat.open() as returning:  # a visitor the desk knows is no new conversation
        assert hello(returning, token=token)["token"]


def test_ending_the_chat_answers_ended_on_every_socket_and_a_new_message_opens_a_new_ticket(
    server: Deployment, agent_token: str
) -> None:
    chat = Chat(server)
    with chat.open() as ws, chat.open() as other_tab:
        token = hello(ws)["token"]
        first = say(ws, "Thanks, that is all")["reference"]
        hello(other_tab, token)
        send(ws, type="end")
        receive(ws, of_type("ended"))
        receive(other_tab, of_type("ended"))
        second = say(ws, "Oh, one more thing")["reference"]
        assert second != first
    ticket = api(server, agent_token, "GET", f"/tickets/{first}")
    assert any("chat ended by the visitor" in m["body_text"] for m in ticket["messages"])


def test_typing_travels_from_visitor_to_agent_and_from_agent_to_visitor(
    server: Deployment, agent_token: str
) -> None:
    chat = Chat(server)
    with chat.open() as visitor:
        hello(visitor, name="Maria")
        reference = say(visitor, "Hello?")["reference"]
        cookies = cookie_header(sign_in(server.base_url, "alex@example.test"))
        with open_live(
            server.base_url, server, path=f"/live?ticket={reference}", cookies=cookies
        ) as agent:
            receive_until(agent, lambda m: 'id="presence"' in m or True, "the live page")
            send(visitor, type="typing", active=True)
            receive_until(agent, lambda m: "Maria (visitor) is typing" in m, "visitor typing")
            agent.send(json.dumps({"type": "typing", "HEADERS": {"HX-Request": "true"}}))
            typing = receive(visitor, of_type("typing", active=True))
            assert typing["name"] == "Alex Agent"


def test_card_numbers_are_masked_before_they_are_stored_and_the_visitor_is_told_gently(
    server: Deployment, agent_token: str
) -> None:
    chat = Chat(server)
    with chat.open() as ws:
        hello(ws)
        reference = say(ws, "my card 4111 1111 1111 1111 and code 123456")["reference"]
        mine = receive(ws, of_type("message", author="visitor"))
        assert "4111" not in mine["text"] and "1111" in mine["text"]
        assert "123456" not in mine["text"]
        gentle = receive(ws, lambda f: f.get("author") == "system" and "never" in f["text"])
        assert "card number" in gentle["text"]
    ticket = api(server, agent_token, "GET", f"/tickets/{reference}")
    bodies = json.dumps(ticket)
    assert "4111 1111 1111 1111" not in bodies and "123456" not in bodies
    assert "Masked for your safety" in bodies
    db = database(server)
    with db.reading() as session:
        assert all(b"4111 1111" not in i.raw for i in session.exec(select(InboundItem)))
    db.dispose()


def _sign(secret: str, user_id: str) -> str:
    return hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def test_a_signed_identity_makes_the_visitor_verified_and_joins_their_customer_record(
    server: Deployment, agent_token: str
) -> None:
    chat = Chat(server)
    identity = {"id": "user-42", "email": "ana@example.org", "name": "Ana"}
    with chat.open() as ws:
        send(ws, type="hello", token=None, identity={**identity, "hash": "0" * 64})
        assert receive(ws, of_type("error"))["code"] == "identity_refused"
    with chat.open() as ws:
        hello(ws, identity={**identity, "hash": _sign(chat.identity_secret, "user-42")})
        first = say(ws, "signed in and stuck")["reference"]
    with chat.open() as ws:  # another browser of the same user: the same conversation
        welcome = hello(ws, identity={**identity, "hash": _sign(chat.identity_secret, "user-42")})
        assert welcome["conversation"]["reference"] == first
    ticket = api(server, agent_token, "GET", f"/tickets/{first}")
    assert [m["verification"] for m in ticket["messages"] if m["direction"] == "inbound"] == [
        "verified"
    ]
    assert ticket["customer"]["name"] == "Ana"
    db = database(server)
    with db.reading() as session:
        visitor = session.exec(select(ChatVisitor).where(col(ChatVisitor.verified))).one()
        kinds = {
            (i.kind, i.value, i.verified_at is not None)
            for i in session.exec(
                select(CustomerIdentity).where(CustomerIdentity.customer_id == visitor.customer_id)
            )
        }
        assert ("email", "ana@example.org", True) in kinds
    db.dispose()


def test_an_email_typed_in_the_form_is_a_claim_that_joins_no_customer_and_gets_no_mail(
    server: Deployment, agent_token: str
) -> None:
    chat = Chat(server)
    with chat.open() as ws:
        hello(ws, name="Someone", email="ceo@example.org")
        reference = say(ws, "please send me the statements of ceo@example.org")["reference"]
    ticket = api(server, agent_token, "GET", f"/tickets/{reference}")
    assert all(i.get("kind") != "email" for i in ticket["customer"]["identities"])
    api(server, agent_token, "POST", f"/tickets/{reference}/replies", json={"body": "Hello!"})
    db = database(server)
    with db.reading() as session:
        outbound = session.exec(select(Message).where(Message.direction == "outbound")).all()
        assert [(m.kind, m.channel_kind) for m in outbound] == [("chat", "chat")]
        identities = session.exec(
            select(CustomerIdentity).where(CustomerIdentity.value == "ceo@example.org")
        ).all()
        assert identities == []
    db.dispose()


def test_a_socket_idle_for_longer_than_its_channel_allows_is_closed(server: Deployment) -> None:
    chat = Chat(server)
    db = database(server)
    with db.unit_of_work() as session:
        channel = session.exec(select(Channel).where(Channel.name == "Chat")).one()
        channel.config = {**channel.config, "idle_seconds": 1}
        session.add(channel)
    db.dispose()
    with chat.open() as ws:
        hello(ws)
        assert receive(ws, of_type("error"))["code"] == "idle"
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=WAIT)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1000


@pytest.mark.server(demo=True)
def test_the_demo_opens_a_chat_and_its_demo_page_lets_anyone_try_the_widget(
    server: Deployment,
) -> None:
    db = database(server)
    with db.reading() as session:
        conversation = session.exec(select(ChatConversation)).one()
        authors = [
            e.author
            for e in session.exec(
                select(ChatEntry).where(ChatEntry.conversation_id == conversation.id)
            )
        ]
        assert conversation.state == "open" and {"visitor", "agent"} <= set(authors)
    db.dispose()
    page = httpx.get(f"{server.base_url}/chat/demo", timeout=10)
    key = re.search(r'src="/chat/widget.js" data-widget="([^"]+)"', page.text)
    assert page.status_code == 200 and key
    ws = connect(
        f"{server.base_url.replace('http', 'ws')}/chat/ws?widget={key[1]}",
        origin=Origin(server.base_url),
    )
    with ws:
        hello(ws, name="Curious")
        assert say(ws, "Does this work?")["seq"] == 1


@pytest.mark.slow
def test_a_visitor_socket_that_reads_nothing_is_closed_once_its_queue_is_full(
    server: Deployment, agent_token: str
) -> None:
    chat = Chat(server)
    with chat.open() as ws:
        token = hello(ws)["token"]
        reference = say(ws, "send me everything")["reference"]
    for n in range(12):
        api(
            server,
            agent_token,
            "POST",
            f"/tickets/{reference}/replies",
            json={"body": f"part {n}: " + "x" * 60_000},
        )
    slow = NonReader(server.base_url, f"/chat/ws?widget={chat.widget_key}", SITE)
    slow.send(type="hello", token=token)
    # Each asks for the whole conversation again, read by nobody; as fast as the desk allows
    # frames (a burst, then a pace), so that only the bounded outgoing queue can end it.
    deadline = time.monotonic() + 60
    for sent in itertools.count():
        if "too slow: closed" in server.web.log():
            break
        assert time.monotonic() < deadline, "the desk kept serving a socket that reads nothing"
        slow.send(type="resume", since=0)
        time.sleep(0.02 if sent < FRAMES_BURST - 5 else 1.05 / FRAMES_PER_SECOND)
    slow.close()
    with chat.open() as other:  # the desk goes on for everyone else
        assert hello(other, token)["conversation"]["reference"] == reference
