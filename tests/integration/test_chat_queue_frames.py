"""What a visitor's websocket hears of live chat routing (docs/chat-protocol.md), against a
real ``inbox serve``: ``availability`` after ``welcome``, their ``queue`` place as it changes,
and ``agent`` when an agent takes their chat.

An agent becomes available through the desk's database, and takes a chat in their console
(``POST /chats/{id}/take``): the desk publishes the change, and every web process tells the
visitors' sockets.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlmodel import col, select

from inbox.actions.chat.routing import set_availability
from inbox.models import Agent, Channel, ChatConversation, Ticket, utcnow
from tests.support.chat_socket import (
    WAIT,
    Chat,
    database,
    hello,
    of_type,
    receive,
    receive_each,
    say,
    send,
    signed_in,
)
from tests.support.processes import Deployment
from tests.support.served import create_agent, desk_database
from tests.support.web import csrf_token

BROKER = os.environ.get("INBOX_TEST_BROKER", "")
pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(BROKER == "amqp", reason="the chat tests scale out on Redis only"),
]
AGENT = "alex@example.test"
AWAY_TEXT = "We are out to lunch; leave a message and your email address."
BUSY_TEXT = "All our agents are talking to someone; leave a message."


def configure(server: Deployment, **config: Any) -> None:
    """Routing settings of the chat channel, as its administrator sets them."""
    db = database(server)
    with db.unit_of_work() as session:
        channel = session.exec(select(Channel).where(Channel.name == "Chat")).one()
        channel.config = {**channel.config, **config}
        session.add(channel)
    db.dispose()


def make_available(server: Deployment, email: str = AGENT) -> None:
    """The agent says they are available, as their console does."""
    with desk_database(server) as session:
        agent = session.exec(select(Agent).where(Agent.email == email)).one()
        set_availability(session, agent, now=utcnow(), status="available")


def take(server: Deployment, reference: str, email: str = AGENT) -> None:
    """The agent takes the chat of the ticket ``reference`` in their console (/chats)."""
    db = database(server)
    with db.reading() as session:
        conversation_id = session.exec(
            select(ChatConversation.id)
            .join(Ticket, col(Ticket.id) == ChatConversation.ticket_id)
            .where(Ticket.reference == reference)
        ).one()
    db.dispose()
    with signed_in(server, email) as console:
        page = console.get("/chats")
        assert page.status_code == 200 and f"/chats/{conversation_id}/take" in page.text
        taken = console.post(
            f"/chats/{conversation_id}/take", data={"_csrf_token": csrf_token(page.text)}
        )
        assert taken.status_code == 303 and taken.headers["location"] == f"/tickets/{reference}"


def routing_of(server: Deployment, reference: str) -> str:
    db = database(server)
    with db.reading() as session:
        routing = session.exec(
            select(ChatConversation.routing)
            .join(Ticket, col(Ticket.id) == ChatConversation.ticket_id)
            .where(Ticket.reference == reference)
        ).one()
    db.dispose()
    return routing


def receive_all(ws: Any, *wanted: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
    """A frame for each of ``wanted``, in whatever order they come."""
    found: dict[int, dict[str, Any]] = {}
    while len(found) < len(wanted):
        frame = receive(ws, lambda f: any(w(f) for n, w in enumerate(wanted) if n not in found))
        found.update({n: frame for n, w in enumerate(wanted) if n not in found and w(frame)})
    return [found[n] for n in range(len(wanted))]


def next_frame(ws: Any) -> dict[str, Any]:
    frame: dict[str, Any] = json.loads(ws.recv(timeout=WAIT))
    return frame


def test_availability_follows_the_welcome_away_with_nobody_available_open_with_an_agent(
    server: Deployment,
) -> None:
    chat = Chat(server)
    configure(server, away_message=AWAY_TEXT)
    create_agent(server, AGENT, "Alex Agent")  # offline until they say otherwise
    with chat.open() as ws:
        assert hello(ws, name="Maria")["conversation"] is None
        assert next_frame(ws) == {"type": "availability", "state": "away", "text": AWAY_TEXT}
        reference = say(ws, "Can someone call me back?")["reference"]
    assert routing_of(server, reference) == "message"  # left for the agents to answer

    make_available(server)
    with chat.open() as ws:
        hello(ws, name="Noor")
        assert next_frame(ws) == {"type": "availability", "state": "open", "text": ""}


def test_a_returning_visitor_with_an_open_chat_is_told_no_availability(server: Deployment) -> None:
    chat = Chat(server)
    with chat.open() as ws:
        token = hello(ws)["token"]
        assert next_frame(ws)["type"] == "availability"
        say(ws, "Hello?")
    with chat.open() as ws:
        assert hello(ws, token)["conversation"]["status"] == "open"
        ws.send(json.dumps({"type": "ping"}))
        assert next_frame(ws) == {"type": "pong"}  # an availability would have come first


def _say_and_wait(ws: Any, text: str) -> list[dict[str, Any]]:
    """A visitor's first message: its ack and their place in the queue, in whichever order
    they come (the place is pushed once the message is filed, the ack once it is answered)."""
    client_id = uuid.uuid4().hex
    send(ws, type="message", client_id=client_id, text=text)
    return receive_each(ws, of_type("ack", client_id=client_id), of_type("queue"))


def test_waiting_visitors_hear_their_place_and_move_up_when_an_agent_takes_a_chat(
    server: Deployment,
) -> None:
    chat = Chat(server)
    configure(server, queue_cap=2, busy_message=BUSY_TEXT)
    create_agent(server, AGENT, "Alex Agent")
    make_available(server)
    with chat.open() as first, chat.open() as second:
        hello(first, name="Maria")
        assert next_frame(first)["state"] == "open"
        ack, place = _say_and_wait(first, "My account is locked")
        reference = ack["reference"]
        assert place == {"type": "queue", "position": 1, "wait_seconds": None}

        hello(second, name="Noor")
        assert next_frame(second)["state"] == "open"
        assert _say_and_wait(second, "Where is my parcel?")[1]["position"] == 2

        with chat.open() as third:  # two wait: the queue is at its cap
            hello(third, name="Olga")
            assert next_frame(third) == {"type": "availability", "state": "busy", "text": BUSY_TEXT}

        take(server, reference)

        joined = of_type("message", author="system", text="Alex Agent joined the chat.")
        agent, _ = receive_all(first, of_type("agent"), joined)
        assert agent == {"type": "agent", "name": "Alex Agent"}
        moved = receive(second, of_type("queue"))
        assert moved["position"] == 1
        # A chat was taken: its wait is something to estimate the next one's by.
        assert isinstance(moved["wait_seconds"], int) and moved["wait_seconds"] >= 1

        with chat.open() as fourth:  # one waits now: room in the queue again
            hello(fourth, name="Pia")
            assert next_frame(fourth)["state"] == "open"
