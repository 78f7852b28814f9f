"""The chat side of one web process: the visitors' sockets connected to it, and what it hears
on the desk's realtime channel for them.

Every commit that touches a ticket is published as its id (``inbox.realtime.publish``); a web
process with a socket of that ticket's visitor reads the conversation's new entries and sends
them, in order, to each of the visitor's sockets here. So an agent's reply committed by any
process (the composer, the API, another ``inbox serve`` on Redis) reaches the visitor
wherever their sockets are. Agents' typing travels as presence messages; a visitor's typing is
published as presence too, so the ticket page shows it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import anyio
from litestar import WebSocket
from litestar.channels import ChannelsPlugin, Subscriber

from inbox.db import Database
from inbox.models import utcnow
from inbox.queries.chat import (
    ConversationView,
    entries_since,
    latest_conversation,
    visitor_of_ticket,
)
from inbox.queries.chat_files import entry_frames
from inbox.queries.chat_queue import QueuePlace, queue_places
from inbox.realtime.publish import Message, Publisher, channel_name, decode
from inbox.rules.chat import TokenBucket
from inbox.rules.chat_files import UPLOADS_BURST, UPLOADS_PER_HOUR
from inbox.settings import Settings

log = logging.getLogger(__name__)

OUTGOING_LIMIT = 100  # frames waiting for a socket; a reader slower than that is closed
AGENT_TYPING_TTL = 6.0
# New visitors per network address: a burst (an office behind one address), then a trickle.
NEWCOMERS_BURST = 20
NEWCOMERS_PER_HOUR = 60
SWEEP_SECONDS = 2.0
TOO_SLOW = 1008
RESTARTING = 1012
TICKETS_REMEMBERED = 50_000


@dataclass(eq=False)
class VisitorSocket:
    """One socket of one visitor, and how far its conversation was sent on it."""

    socket: WebSocket[Any, Any, Any]
    channel_id: int
    visitor_id: int
    name: str
    key: str
    conversation_id: int | None = None
    sent_seq: int = 0
    ended_sent: bool = False
    # What this socket was told of the conversation's queue and agent, so each is sent again
    # only when it changes; ``waiting`` while the conversation is in its channel's queue.
    queue_sent: tuple[int, int | None] | None = None
    agent_sent: str = ""
    waiting: bool = False
    queue: asyncio.Queue[dict[str, Any] | None] = field(
        default_factory=lambda: asyncio.Queue(OUTGOING_LIMIT)
    )
    sync_pending: bool = False
    closing: bool = False
    writer: asyncio.Task[None] | None = None
    dropped: asyncio.Event = field(default_factory=asyncio.Event)

    def start(self, conversation_id: int) -> None:
        """The visitor's conversation is another from now on: nothing of it was sent yet."""
        self.conversation_id, self.sent_seq, self.ended_sent = conversation_id, 0, False
        self.queue_sent, self.agent_sent, self.waiting = None, "", False


class ChatHub:
    def __init__(
        self, publisher: Publisher, channels: ChannelsPlugin, db: Database, settings: Settings
    ) -> None:
        self.publisher = publisher
        self.channels = channels
        self.channel = channel_name(settings.realtime_url)
        self.db = db
        self.settings = settings
        self.by_visitor: dict[int, set[VisitorSocket]] = {}
        # Per visitor, across their sockets here: the pace of their messages.
        self.buckets: dict[int, TokenBucket] = {}
        self.newcomers: dict[str, TokenBucket] = {}
        self.uploads: dict[int, TokenBucket] = {}
        self.ticket_visitor: dict[int, int] = {}
        # (ticket id, agent id) -> (name, until): agents typing on a chat ticket.
        self.agents_typing: dict[tuple[int, int], tuple[str, float]] = {}
        self._numbers = itertools.count(1)
        self._subscriber: Subscriber | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._drops: set[asyncio.Task[None]] = set()

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self, app: Any) -> None:
        self._subscriber = await self.channels.subscribe(self.channel)
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._listen(self._subscriber)),
            loop.create_task(self._sweep()),
        ]

    async def stop(self, app: Any) -> None:
        for task in self._tasks:
            task.cancel()
        if self._subscriber is not None:
            with contextlib.suppress(Exception):
                await self.channels.unsubscribe(self._subscriber)
        for conns in list(self.by_visitor.values()):
            for conn in list(conns):
                with contextlib.suppress(Exception):
                    await conn.socket.close(code=RESTARTING, reason="restarting")

    # -- sockets -------------------------------------------------------------------------------

    def join(self, conn: VisitorSocket) -> None:
        self.by_visitor.setdefault(conn.visitor_id, set()).add(conn)

    def leave(self, conn: VisitorSocket) -> None:
        conns = self.by_visitor.get(conn.visitor_id)
        if conns is not None:
            conns.discard(conn)
            if not conns:
                del self.by_visitor[conn.visitor_id]
                self.buckets.pop(conn.visitor_id, None)

    def bucket(self, visitor_id: int, burst: float, per_minute: float) -> TokenBucket:
        return self.buckets.setdefault(visitor_id, TokenBucket(burst, per_minute / 60.0))

    def may_greet_newcomer(self, address: str) -> bool:
        """Whether one more new visitor (a hello without a token) may start from this network
        address: ``NEWCOMERS_BURST`` at once, then ``NEWCOMERS_PER_HOUR``. Counted in this
        process; the per-visitor limits hold whatever process a socket reaches."""
        if len(self.newcomers) > 100_000:  # a flood of addresses forgets the oldest
            self.newcomers.clear()
        bucket = self.newcomers.setdefault(
            address, TokenBucket(NEWCOMERS_BURST, NEWCOMERS_PER_HOUR / 3600.0)
        )
        return bucket.take(time.monotonic())

    def may_upload(self, visitor_id: int) -> bool:
        """Whether the visitor may upload one more file now (``POST /chat/files``): a burst,
        then a trickle, counted in this process whether or not they have a socket here."""
        if len(self.uploads) > 100_000:
            self.uploads.clear()
        bucket = self.uploads.setdefault(
            visitor_id, TokenBucket(UPLOADS_BURST, UPLOADS_PER_HOUR / 3600.0)
        )
        return bucket.take(time.monotonic())

    def new_key(self) -> str:
        return f"chat-{id(self):x}-{next(self._numbers)}"

    def send(self, conn: VisitorSocket, frame: dict[str, Any] | None) -> None:
        """Queue a frame for the socket; one that cannot keep up is closed."""
        if conn.closing:
            return
        try:
            conn.queue.put_nowait(frame)
        except asyncio.QueueFull:
            conn.closing = True
            task = asyncio.get_running_loop().create_task(self._drop(conn))
            self._drops.add(task)
            task.add_done_callback(self._drops.discard)

    async def _drop(self, conn: VisitorSocket) -> None:
        log.warning("chat socket of visitor %s too slow: closed", conn.visitor_id)
        if conn.writer is not None:
            conn.writer.cancel()  # it waits on a socket that reads nothing
        conn.dropped.set()  # the handler ends: the server closes the connection
        self.leave(conn)
        with contextlib.suppress(Exception):
            with anyio.fail_after(2):
                await conn.socket.close(code=TOO_SLOW, reason="too slow")

    def want_sync(self, conn: VisitorSocket) -> None:
        """Send the conversation's new entries on this socket soon (once, however many ask)."""
        if not conn.sync_pending:
            conn.sync_pending = True
            self.send(conn, {"type": "_sync"})

    async def sync(self, conn: VisitorSocket) -> list[dict[str, Any]]:
        """The frames that bring this socket up to date: the new entries of the visitor's
        newest conversation, and ``ended`` once it ended."""
        conn.sync_pending = False
        view, said = await anyio.to_thread.run_sync(self._read_new, conn)
        if view is None:
            return []
        if view.id != conn.conversation_id:
            conn.start(view.id)
            said = await anyio.to_thread.run_sync(self._read_since, conn, view.id, 0)
        frames = [f for f in said if f["seq"] > conn.sent_seq]
        if said:
            conn.sent_seq = max(conn.sent_seq, said[-1]["seq"])
        frames += routing_frames(conn, view)
        if view.status == "ended" and not conn.ended_sent:
            conn.ended_sent = True
            frames.append({"type": "ended"})
        return frames

    def _read_new(self, conn: VisitorSocket) -> tuple[Any, list[dict[str, Any]]]:
        with self.db.reading() as session:
            view = latest_conversation(session, conn.visitor_id)
            if view is None:
                return None, []
            self.ticket_visitor[view.ticket_id] = conn.visitor_id
            since = conn.sent_seq if view.id == conn.conversation_id else 0
            entries = entries_since(session, view.id, since)
            return view, self.frames(session, conn.visitor_id, entries)

    def _read_since(
        self, conn: VisitorSocket, conversation_id: int, since: int
    ) -> list[dict[str, Any]]:
        with self.db.reading() as session:
            entries = entries_since(session, conversation_id, since)
            return self.frames(session, conn.visitor_id, entries)

    def frames(self, session: Any, visitor_id: int, entries: list[Any]) -> list[dict[str, Any]]:
        """The entries' ``message`` frames, their files behind links for this visitor."""
        return entry_frames(
            session,
            entries,
            secret=self.settings.secret_key,
            base_url=self.settings.base_url,
            visitor_id=visitor_id,
        )

    # -- typing ----------------------------------------------------------------------------------

    def visitor_typing(self, conn: VisitorSocket, ticket_id: int | None, active: bool) -> None:
        """Published as presence, so the agents on the ticket page see it."""
        if ticket_id is None:
            return
        self.publisher.publish(
            {
                "type": "presence",
                "ticket_id": ticket_id,
                "conn": conn.key,
                "state": "typing" if active else "left",
                "agent_id": 0,
                "name": f"{conn.name or 'The visitor'} (visitor)",
            }
        )

    # -- what the desk's channel says ------------------------------------------------------------

    async def _listen(self, subscriber: Subscriber) -> None:
        async for payload in subscriber.iter_events():
            message = decode(payload)
            if message is None or not self.by_visitor:
                continue
            try:
                await self._route(message)
            except Exception:
                log.exception("chat update failed")

    async def _route(self, message: Message) -> None:
        kind = message.get("type")
        if kind == "chat_queue":
            await self._queue_moved(message.get("channel_id"))
            return
        ticket_id = message.get("ticket_id")
        if not isinstance(ticket_id, int):
            return
        if kind == "ticket":
            visitor_id = self.ticket_visitor.get(ticket_id)
            if visitor_id is None:
                visitor_id = await anyio.to_thread.run_sync(self._visitor_of, ticket_id)
            for conn in list(self.by_visitor.get(visitor_id or 0, ())):
                self.want_sync(conn)
        elif kind == "presence" and message.get("agent_id"):
            visitor_id = self.ticket_visitor.get(ticket_id)
            if visitor_id is None or visitor_id not in self.by_visitor:
                return
            key = (ticket_id, int(message.get("agent_id") or 0))
            name = str(message.get("name", ""))[:200]
            typing = message.get("state") == "typing"
            was = key in self.agents_typing
            if typing:
                self.agents_typing[key] = (name, time.monotonic() + AGENT_TYPING_TTL)
            else:
                self.agents_typing.pop(key, None)
            if typing != was:
                for conn in list(self.by_visitor.get(visitor_id, ())):
                    self.send(conn, {"type": "typing", "active": typing, "name": name})

    async def _queue_moved(self, channel_id: object) -> None:
        """The channel's queue changed: each waiting socket here hears its new place (all
        places read at once); one whose chat left the queue catches up instead (``agent``)."""
        waiting = [
            conn
            for conns in self.by_visitor.values()
            for conn in conns
            if conn.waiting and conn.channel_id == channel_id
        ]
        if not waiting or not isinstance(channel_id, int):
            return
        places = await anyio.to_thread.run_sync(self._queue_places, channel_id)
        for conn in waiting:
            place = places.get(conn.conversation_id or 0)
            if place is None:
                self.want_sync(conn)
            elif (frame := queue_frame(conn, place)) is not None:
                self.send(conn, frame)

    def _queue_places(self, channel_id: int) -> dict[int, QueuePlace]:
        with self.db.reading() as session:
            return queue_places(session, channel_id, utcnow())

    def _visitor_of(self, ticket_id: int) -> int | None:
        with self.db.reading() as session:
            visitor_id = visitor_of_ticket(session, ticket_id)
        if len(self.ticket_visitor) > TICKETS_REMEMBERED:
            self.ticket_visitor.clear()
        # A ticket of no chat is remembered too (as 0): it never becomes one.
        self.ticket_visitor[ticket_id] = visitor_id or 0
        return visitor_id

    async def _sweep(self) -> None:
        """Agents who stopped typing: the visitor's indicator goes out."""
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            now = time.monotonic()
            for key, (name, until) in list(self.agents_typing.items()):
                if until > now:
                    continue
                del self.agents_typing[key]
                visitor_id = self.ticket_visitor.get(key[0])
                for conn in list(self.by_visitor.get(visitor_id or 0, ())):
                    self.send(conn, {"type": "typing", "active": False, "name": name})


def routing_frames(conn: VisitorSocket, view: ConversationView) -> list[dict[str, Any]]:
    """``queue`` while the chat waits (when its place or wait changed), ``agent`` when an
    agent took it (once per socket)."""
    frames: list[dict[str, Any]] = []
    conn.waiting = view.place is not None
    if view.place is not None and (frame := queue_frame(conn, view.place)) is not None:
        frames.append(frame)
    if view.agent_name and view.agent_name != conn.agent_sent:
        conn.agent_sent = view.agent_name
        frames.append({"type": "agent", "name": view.agent_name})
    return frames


def queue_frame(conn: VisitorSocket, place: QueuePlace) -> dict[str, Any] | None:
    """``queue`` when the chat's place or wait differs from what the socket was told last."""
    told = (place.position, place.wait_seconds)
    if told == conn.queue_sent:
        return None
    conn.queue_sent = told
    return {"type": "queue", "position": told[0], "wait_seconds": told[1]}


def encode_frame(frame: dict[str, Any]) -> str:
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))
