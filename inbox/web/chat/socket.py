"""``GET /chat/ws?widget=K``: the visitor's websocket, the protocol of docs/chat-protocol.md.

Refused before the upgrade (403) unless the widget key names an enabled chat channel and the
``Origin`` is one of its sites. Then ``hello`` first; each visitor message is stored and
filed (``inbox.actions.chat.messages``) and acked with its number and the ticket's
reference; everything the visitor may see reaches every socket of theirs through
``inbox.web.chat.hub``. Bad frames get an ``error`` frame and the socket goes on; a frame over
8 KiB closes it (1009), and so does a visitor who keeps writing faster than the desk allows
(1008).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

import anyio
from litestar import WebSocket, websocket
from litestar.di import NamedDependency

from inbox.actions.chat.channels import DEFAULT_LIMITS, chat_channel_by_key
from inbox.actions.chat.conversations import open_conversation_of
from inbox.actions.chat.ending import mail_transcript, rate_chat
from inbox.actions.chat.files import FileRefused
from inbox.actions.chat.messages import ChatAck, take_visitor_message
from inbox.actions.chat.routing import end_chat
from inbox.actions.chat.visitors import Greeting, IdentityRefused, greet_visitor
from inbox.blobs import BlobStore
from inbox.db import Database
from inbox.errors import DomainError
from inbox.models import Channel, ChatVisitor, utcnow
from inbox.queries.chat import conversation_view, entries_since, latest_conversation
from inbox.queries.chat_queue import desk_availability
from inbox.rules.chat import (
    MAX_FRAME_BYTES,
    End,
    FrameError,
    Hello,
    Ping,
    Rate,
    Resume,
    Say,
    TokenBucket,
    Transcript,
    Typing,
    origin_listed,
    read_frame,
)
from inbox.settings import Settings
from inbox.signing import SecretBox
from inbox.web.account import client_address
from inbox.web.auth import PUBLIC
from inbox.web.chat.hub import ChatHub, VisitorSocket, encode_frame

log = logging.getLogger(__name__)

REFUSED = 4403  # closed before the upgrade: the client sees HTTP 403
POLICY = 1008
TOO_BIG = 1009
HELLO_SECONDS = 30.0
TYPING_EVERY = 2.0  # a visitor's typing is passed on at most this often
FRAMES_BURST = 30.0  # frames of any kind
FRAMES_PER_SECOND = 5.0
REFUSALS_BEFORE_CLOSE = 10
# What a visitor hears when a score or a transcript is refused: answered already, no proven
# address, no chat yet, a score out of range.
_AFTER_ERRORS = {"conflict": "refused", "not_found": "no_chat"}


def _channel(db: Database, widget_key: str) -> Channel | None:
    with db.reading() as session:
        return chat_channel_by_key(session, widget_key)


@websocket("/chat/ws", opt=PUBLIC)
async def chat_socket(
    socket: WebSocket[Any, Any, Any],
    settings: NamedDependency[Settings],
    blobs: NamedDependency[BlobStore],
) -> None:
    hub: ChatHub = socket.app.state.chat
    db: Database = socket.app.state.db
    widget_key = socket.query_params.get("widget") or ""
    channel = await anyio.to_thread.run_sync(_channel, db, str(widget_key))
    origins = list(channel.config.get("origins", ())) if channel else []
    if channel is None or not origin_listed(socket.headers.get("origin"), origins):
        await socket.close(code=REFUSED, reason="origin not allowed")
        return
    await socket.accept()
    await VisitorConnection(socket, hub, db, settings, blobs, channel).run()


class VisitorConnection:
    """One visitor's socket from ``hello`` to its close."""

    def __init__(
        self,
        socket: WebSocket[Any, Any, Any],
        hub: ChatHub,
        db: Database,
        settings: Settings,
        blobs: BlobStore,
        channel: Channel,
    ) -> None:
        self.socket = socket
        self.hub = hub
        self.db = db
        self.settings = settings
        self.blobs = blobs
        self.channel = channel
        limits = {**DEFAULT_LIMITS, **channel.config}
        self.burst = float(limits["burst"])
        self.per_minute = float(limits["per_minute"])
        self.idle_seconds = float(limits["idle_seconds"])
        self.frames = TokenBucket(FRAMES_BURST, FRAMES_PER_SECOND)
        self.refusals = 0
        self.conn: VisitorSocket | None = None
        self.last_activity = time.monotonic()
        self.typing_at = 0.0
        self.typing_active = False
        self.visit = ""  # hello's: until the visitor's first message is taken
        # Set by the hub when this socket reads too slowly: the handler ends, and with it
        # the connection.
        self.dropped = asyncio.Event()

    async def run(self) -> None:
        writer: asyncio.Task[None] | None = None
        try:
            greeting = await self._hello()
            if greeting is None:
                return
            conn = self.conn
            assert conn is not None
            writer = conn.writer = asyncio.get_running_loop().create_task(self._write(conn))
            self.hub.want_sync(conn)  # whatever committed while the welcome was read
            while True:
                data = await self._receive(self.last_activity + self.idle_seconds)
                if data is None:
                    return
                if not await self._handle(conn, data):
                    return
        finally:
            if self.conn is not None:
                if self.typing_active:
                    self.hub.visitor_typing(self.conn, await self._ticket_id(), False)
                self.hub.leave(self.conn)
                self.hub.send(self.conn, None)
            if writer is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(writer, 2)
                writer.cancel()

    # -- receiving -------------------------------------------------------------------------------

    async def _receive(self, deadline: float) -> str | None:
        """The next text frame; None once the socket is closed (by either side)."""
        while True:
            receiving = asyncio.ensure_future(self.socket.receive())
            dropped = asyncio.ensure_future(self.dropped.wait())
            done, _ = await asyncio.wait(
                {receiving, dropped},
                timeout=max(0.05, deadline - time.monotonic()),
                return_when=asyncio.FIRST_COMPLETED,
            )
            dropped.cancel()
            if receiving not in done:
                receiving.cancel()
                if not done:  # idle
                    await self._send_now(
                        {"type": "error", "code": "idle", "detail": "idle too long"}
                    )
                    await self._close(1000, "idle")
                return None  # idle, or dropped by the hub as too slow a reader
            event = receiving.result()
            if event["type"] == "websocket.disconnect":
                return None
            text: Any = event.get("text")
            data = (
                str(text)
                if text is not None
                else bytes(event.get("bytes") or b"").decode("utf-8", "replace")  # type: ignore[call-overload]
            )
            if len(data.encode()) > MAX_FRAME_BYTES:
                await self._close(TOO_BIG, "frame over 8 KiB")
                return None
            if not self.frames.take(time.monotonic()):
                await self._close(POLICY, "too many frames")
                return None
            return data

    async def _hello(self) -> Greeting | None:
        deadline = time.monotonic() + HELLO_SECONDS
        while True:
            data = await self._receive(deadline)
            if data is None:
                return None
            try:
                frame = read_frame(data)
            except FrameError as exc:
                await self._send_now({"type": "error", "code": exc.code, "detail": exc.detail})
                continue
            if not isinstance(frame, Hello):
                await self._send_now(
                    {"type": "error", "code": "hello_first", "detail": "say hello first"}
                )
                continue
            if frame.token is None and not self.hub.may_greet_newcomer(
                client_address(self.socket, self.settings)
            ):
                await self._send_now(
                    {
                        "type": "error",
                        "code": "rate_limited",
                        "detail": "too many new conversations from your network; try later",
                    }
                )
                await self._close(POLICY, "too many new visitors")
                return None
            try:
                greeting, welcome, availability = await anyio.to_thread.run_sync(self._greet, frame)
            except IdentityRefused as exc:
                await self._send_now(
                    {"type": "error", "code": "identity_refused", "detail": str(exc)}
                )
                await self._close(POLICY, "identity refused")
                return None
            visitor = greeting.visitor
            conn = VisitorSocket(
                self.socket, self.channel.id or 0, visitor.id or 0, visitor.name, self.hub.new_key()
            )
            conn.dropped = self.dropped
            conversation = welcome["conversation"]
            if conversation is not None:
                conn.conversation_id = conversation.pop("id")
                conn.sent_seq = conversation["last_seq"]
                conn.ended_sent = conversation["status"] == "ended"
            self.conn = conn
            self.visit = frame.visit
            self.hub.join(conn)
            await self._send_now(welcome)
            if availability is not None:
                await self._send_now(availability)
            self.last_activity = time.monotonic()
            return greeting

    def _greet(self, hello: Hello) -> tuple[Greeting, dict[str, Any], dict[str, Any] | None]:
        """The welcome, and for a visitor with no open chat whether agents are there to
        answer one (``availability``)."""
        with self.db.unit_of_work() as session:
            channel = session.get(Channel, self.channel.id)
            assert channel is not None
            greeting = greet_visitor(
                session,
                self.settings.secret_key,
                SecretBox(self.settings.secret_key),
                channel,
                hello,
            )
            conversation: dict[str, Any] | None = None
            if greeting.conversation is not None:
                view = conversation_view(session, greeting.conversation)
                entries = entries_since(session, view.id, 0)
                conversation = {
                    "id": view.id,
                    "reference": view.reference,
                    "status": view.status,
                    "last_seq": entries[-1].seq if entries else 0,
                    "messages": self.hub.frames(session, greeting.visitor.id or 0, entries),
                }
                self.hub.ticket_visitor[view.ticket_id] = greeting.visitor.id or 0
            availability: dict[str, Any] | None = None
            if conversation is None or conversation["status"] != "open":
                desk = desk_availability(session, channel, utcnow())
                availability = {"type": "availability", "state": desk.state, "text": desk.text}
            session.expunge(greeting.visitor)
        welcome = {"type": "welcome", "token": greeting.token, "conversation": conversation}
        return greeting, welcome, availability

    # -- one frame ---------------------------------------------------------------------------------

    async def _handle(self, conn: VisitorSocket, data: str) -> bool:
        """Answer one frame; False when the socket was closed."""
        try:
            frame = read_frame(data)
        except FrameError as exc:
            self.hub.send(conn, {"type": "error", "code": exc.code, "detail": exc.detail})
            return True
        if not isinstance(frame, Ping):
            self.last_activity = time.monotonic()
        if isinstance(frame, Ping):
            self.hub.send(conn, {"type": "pong"})
        elif isinstance(frame, Hello):
            self.hub.send(
                conn, {"type": "error", "code": "already_greeted", "detail": "hello once"}
            )
        elif isinstance(frame, Say):
            return await self._say(conn, frame)
        elif isinstance(frame, Typing):
            await self._typing(conn, frame.active)
        elif isinstance(frame, Resume):
            self.hub.send(conn, {"type": "_resume", "since": frame.since})
        elif isinstance(frame, End):
            await anyio.to_thread.run_sync(self._end, conn.visitor_id)
            if not conn.ended_sent:
                conn.ended_sent = True
                self.hub.send(conn, {"type": "ended"})
        elif isinstance(frame, Rate | Transcript):
            self.hub.send(conn, await anyio.to_thread.run_sync(self._after, conn.visitor_id, frame))
        return True

    def _after(self, visitor_id: int, frame: Rate | Transcript) -> dict[str, Any]:
        """``rated`` or ``transcript_sent``, or the error that says why not."""
        try:
            with self.db.unit_of_work() as session:
                if isinstance(frame, Rate):
                    rate_chat(session, visitor_id, score=frame.score, comment=frame.comment)
                    return {"type": "rated", "score": frame.score}
                return {
                    "type": "transcript_sent",
                    "to": mail_transcript(session, self.settings, visitor_id),
                }
        except DomainError as exc:
            code = _AFTER_ERRORS.get(exc.code, exc.code)
            return {"type": "error", "code": code, "detail": str(exc)}

    async def _say(self, conn: VisitorSocket, frame: Say) -> bool:
        if not self.hub.bucket(conn.visitor_id, self.burst, self.per_minute).take(time.monotonic()):
            self.refusals += 1
            if self.refusals > REFUSALS_BEFORE_CLOSE:
                await self._close(POLICY, "rate limited")
                return False
            self.hub.send(
                conn,
                {
                    "type": "error",
                    "code": "rate_limited",
                    "detail": "you are writing faster than we can read; wait a moment",
                    "client_id": frame.client_id,
                },
            )
            return True
        self.refusals = 0
        try:
            ack = await anyio.to_thread.run_sync(self._take, conn.visitor_id, frame)
        except FileRefused as exc:  # a file not the visitor's, or too old: nothing stored
            refused = {"type": "error", "code": exc.code, "detail": str(exc)}
            self.hub.send(conn, {**refused, "client_id": frame.client_id})
            return True
        if ack is None:
            self.hub.send(
                conn,
                {
                    "type": "error",
                    "code": "not_stored",
                    "detail": "your message could not be taken just now; it will be sent again",
                    "client_id": frame.client_id,
                },
            )
            return True
        self.visit = ""
        self.hub.send(
            conn,
            {"type": "ack", "client_id": ack.client_id, "seq": ack.seq, "reference": ack.reference},
        )
        if self.typing_active:
            self.typing_active = False
            self.hub.visitor_typing(conn, await self._ticket_id(), False)
        return True

    def _take(self, visitor_id: int, frame: Say) -> ChatAck | None:
        with self.db.unit_of_work() as session:
            visitor = session.get(ChatVisitor, visitor_id)
            assert visitor is not None
            return take_visitor_message(
                session,
                self.settings,
                self.blobs,
                visitor=visitor,
                client_id=frame.client_id,
                text=frame.text,
                visit=self.visit,
                attachments=frame.attachments,
            )

    def _end(self, visitor_id: int) -> None:
        with self.db.unit_of_work() as session:
            conversation = open_conversation_of(session, visitor_id)
            if conversation is not None:
                end_chat(session, conversation, by_label="the visitor", now=utcnow())

    async def _typing(self, conn: VisitorSocket, active: bool) -> None:
        now = time.monotonic()
        if active == self.typing_active and now - self.typing_at < TYPING_EVERY:
            return
        if active and now - self.typing_at < TYPING_EVERY:
            return
        self.typing_at, self.typing_active = now, active
        self.hub.visitor_typing(conn, await self._ticket_id(), active)

    async def _ticket_id(self) -> int | None:
        if self.conn is None:
            return None
        visitor_id = self.conn.visitor_id

        def read() -> int | None:
            with self.db.reading() as session:
                view = latest_conversation(session, visitor_id)
                return view.ticket_id if view and view.status == "open" else None

        return await anyio.to_thread.run_sync(read)

    # -- sending -----------------------------------------------------------------------------------

    async def _write(self, conn: VisitorSocket) -> None:
        """The socket's one writer: frames in the order they were queued. When what to send
        cannot be read, the socket is closed rather than left open and mute: the widget
        reconnects and resumes from the last ``seq`` it saw."""
        while True:
            frame = await conn.queue.get()
            if frame is None:
                return
            try:
                if frame["type"] == "_sync":
                    frames = await self.hub.sync(conn)
                elif frame["type"] == "_resume":
                    frames = await self._resume(conn, int(frame["since"]))
                else:
                    frames = [frame]
            except Exception:
                log.exception("chat frames for visitor %s failed; closing", conn.visitor_id)
                conn.dropped.set()
                return
            try:
                for one in frames:
                    await self.socket.send_text(encode_frame(one))
            except Exception as exc:  # the socket went away under us
                log.debug("chat writer stopped: %r", exc)
                return

    async def _resume(self, conn: VisitorSocket, since: int) -> list[dict[str, Any]]:
        def read() -> list[dict[str, Any]]:
            with self.db.reading() as session:
                view = latest_conversation(session, conn.visitor_id)
                if view is None:
                    return []
                if view.id != conn.conversation_id:
                    conn.start(view.id)
                entries = entries_since(session, view.id, since)
                return self.hub.frames(session, conn.visitor_id, entries)

        frames = await anyio.to_thread.run_sync(read)
        if frames:
            conn.sent_seq = max(conn.sent_seq, frames[-1]["seq"])
        return frames

    async def _send_now(self, frame: dict[str, Any]) -> None:
        with contextlib.suppress(Exception):
            await self.socket.send_text(json.dumps(frame, separators=(",", ":")))

    async def _close(self, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            await self.socket.close(code=code, reason=reason)
