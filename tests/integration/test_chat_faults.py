"""A visitor's socket whose frames the desk cannot read (the database fails under it) is
closed, not left open and mute: the widget reconnects and resumes once the desk reads again."""

from __future__ import annotations

import os

import pytest
from sqlalchemy import text
from websockets.exceptions import ConnectionClosed

from tests.support.chat_socket import WAIT, Chat, database, hello, say, send
from tests.support.processes import Deployment

pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(
        os.environ.get("INBOX_TEST_BROKER") == "amqp", reason="the chat tests scale out on Redis"
    ),
]


def _rename(server: Deployment, old: str, new: str) -> None:
    db = database(server)
    try:
        with db.engine.begin() as connection:
            connection.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))
    finally:
        db.dispose()


def test_a_socket_whose_frames_cannot_be_read_is_closed_and_the_visitor_resumes_after(
    server: Deployment,
) -> None:
    chat = Chat(server)
    with chat.open() as ws:
        token = hello(ws, name="Maria")["token"]
        say(ws, "My card was declined")
        _rename(server, "chat_entry", "chat_entry_away")  # every read of the chat fails
        try:
            send(ws, type="resume", since=0)
            with pytest.raises(ConnectionClosed):
                while True:  # TimeoutError (a failed test) if the socket stays open
                    ws.recv(timeout=WAIT)
        finally:
            _rename(server, "chat_entry_away", "chat_entry")

    assert "chat frames for visitor" in server.logs()
    with chat.open() as again:
        conversation = hello(again, token)["conversation"]
        said = [m["text"] for m in conversation["messages"] if m["author"] == "visitor"]
        assert said == ["My card was declined"]
