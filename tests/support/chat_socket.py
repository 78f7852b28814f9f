"""A visitor's side of the chat websocket (docs/chat-protocol.md) against a served desk: its
chat channel, and the frames a widget sends and waits for; and an agent's browser on it."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin

from inbox.actions.chat.channels import add_chat_channel
from inbox.db import Database
from tests.support.processes import Deployment, run_cli
from tests.support.served import PASSPHRASE, desk_box, desk_database
from tests.support.web import csrf_token

SITE = "http://shop.example.test:8080"
WAIT = 20.0


class Chat:
    """A chat channel of a served desk: added through ``inbox channel add-chat`` when ``cli``
    (what it printed in ``output``), else through the action the command calls."""

    def __init__(self, server: Deployment, *origins: str, cli: bool = False) -> None:
        origins = origins or (SITE,)
        self.server = server
        self.output = ""
        if cli:
            args = [a for o in origins for a in ("--origin", o)]
            self.output = run_cli(server.env, "channel", "add-chat", "--name", "Chat", *args)
            lines = self.output.strip().splitlines()
            self.widget_key = lines[-2].removeprefix("widget key: ")
            self.identity_secret = lines[-1].removeprefix("identity secret: ")
            return
        with desk_database(server) as session:
            added = add_chat_channel(
                session,
                desk_box(server),
                name="Chat",
                origins=list(origins),
            )
            self.widget_key, self.identity_secret = added.widget_key, added.identity_secret

    def open(self, address: str | None = None, origin: str = SITE) -> ClientConnection:
        base = (address or self.server.base_url).replace("http://", "ws://")
        return connect(
            f"{base}/chat/ws?widget={self.widget_key}", origin=Origin(origin), open_timeout=10
        )


def database(server: Deployment) -> Database:
    return Database(
        server.env["INBOX_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://")
    )


def send(ws: ClientConnection, **frame: Any) -> None:
    ws.send(json.dumps(frame))


def receive(ws: ClientConnection, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The first frame ``wanted`` accepts (frames before it are passed over)."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        try:
            frame = json.loads(ws.recv(timeout=deadline - time.monotonic()))
        except TimeoutError:
            break
        seen.append(frame)
        if wanted(frame):
            return frame
    raise AssertionError(f"no such frame within {WAIT}s; received {seen}")


def receive_each(
    ws: ClientConnection, *wanted: Callable[[dict[str, Any]], bool]
) -> list[dict[str, Any]]:
    """The first frame each of ``wanted`` accepts, in whatever order they come (a message's
    ack and its own ``message`` frame, say)."""
    found: dict[int, dict[str, Any]] = {}
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + WAIT
    while len(found) < len(wanted) and time.monotonic() < deadline:
        try:
            frame = json.loads(ws.recv(timeout=deadline - time.monotonic()))
        except TimeoutError:
            break
        seen.append(frame)
        for n, accepts in enumerate(wanted):
            if n not in found and accepts(frame):
                found[n] = frame
                break
    if len(found) < len(wanted):
        raise AssertionError(f"not every frame within {WAIT}s; received {seen}")
    return [found[n] for n in range(len(wanted))]


def of_type(kind: str, **fields: Any) -> Callable[[dict[str, Any]], bool]:
    return lambda f: f.get("type") == kind and all(f.get(k) == v for k, v in fields.items())


def hello(ws: ClientConnection, token: str | None = None, **extra: Any) -> dict[str, Any]:
    send(ws, type="hello", token=token, **extra)
    return receive(ws, of_type("welcome"))


def say(ws: ClientConnection, text: str, client_id: str | None = None) -> dict[str, Any]:
    client_id = client_id or uuid.uuid4().hex
    send(ws, type="message", client_id=client_id, text=text)
    return receive(ws, of_type("ack", client_id=client_id))


@contextmanager
def signed_in(server: Deployment, email: str) -> Iterator[httpx.Client]:
    """An agent's browser on the served desk, signed in with their password."""
    with httpx.Client(base_url=server.base_url, timeout=10) as browser:
        form = browser.get("/login")
        answer = browser.post(
            "/login",
            data={
                "email": email,
                "password": PASSPHRASE,
                "next": "/chats",
                "_csrf_token": csrf_token(form.text),
            },
        )
        assert answer.status_code == 303 and answer.headers["location"] == "/chats", answer.text
        yield browser
