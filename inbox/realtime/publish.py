"""Realtime messages between the processes of one desk, published by every process that commits.

Every process that commits publishes what changed (a ticket id and a kind, never content); the
web processes hear it through Litestar channels (``inbox.realtime.hub``, one channel) and
render for their own websockets (``inbox.web.live``). In memory within one process by default
(``inbox serve`` alone); Redis pub/sub or PostgreSQL LISTEN/NOTIFY when ``INBOX_REALTIME_URL``
names one, for several web and worker processes.

Worker and scheduler processes run no event loop and no Litestar app, so publishing is ours:
a small synchronous publisher on a thread of its own that speaks the wire format of Litestar's
backends, a Redis ``PUBLISH`` of the JSON text on the channel's name, or a ``NOTIFY`` on the
channel's name with the JSON text as payload (``test_live`` holds both sides together). Web
processes publish the same way; with the hub in memory they hand over to their plugin.

Publishing never raises into the caller: it runs after a commit, and a lost live update is
repaired by the next one or a reload, while an exception would fail work that succeeded.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any, Protocol

from inbox.events import ChatQueueChanged, Event, MessageAdded, TicketChanged, TicketCreated

log = logging.getLogger(__name__)

Message = dict[str, Any]
CHANNEL = "inbox_realtime"
# PostgreSQL refuses NOTIFY payloads from 8000 bytes on; our messages are ids and a name.
MAX_MESSAGE_BYTES = 4000
RECONNECT_SECONDS = 1.0
CLOSE_SECONDS = 5.0
# Messages waiting for the hub's server; beyond this, while it is down, updates are dropped.
OUTGOING_LIMIT = 10_000
MAX_MESSAGE_IDS = 50
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
POSTGRES_SCHEMES = ("postgresql://", "postgres://", "postgresql+psycopg://")


def encode(message: Message) -> str | None:
    payload = json.dumps(message, separators=(",", ":"))
    if len(payload.encode()) > MAX_MESSAGE_BYTES:
        log.warning("realtime message of %d bytes dropped", len(payload))
        return None
    return payload


def decode(payload: str | bytes) -> Message | None:
    try:
        message = json.loads(payload)
    except ValueError:
        return None
    return message if isinstance(message, dict) else None


def postgres_dsn(url: str) -> str:
    """A PostgreSQL URL as psycopg takes it."""
    for scheme in POSTGRES_SCHEMES:
        if url.startswith(scheme):
            return "postgresql://" + url[len(scheme) :]
    return url


def channel_name(url: str | None) -> str:
    """The one channel of a desk. Redis channels are global to a server, so the database
    number of the URL is part of the name: desks on ``redis://host/1`` and ``redis://host/2``
    do not hear each other. NOTIFY channels are per database already."""
    if url and url.startswith(REDIS_SCHEMES):
        import redis

        pool = redis.ConnectionPool.from_url(url)
        return f"{CHANNEL}:{pool.connection_kwargs.get('db', 0)}"
    return CHANNEL


def check_url(url: str | None) -> None:
    if url and not url.startswith(REDIS_SCHEMES + POSTGRES_SCHEMES):
        raise ValueError("INBOX_REALTIME_URL must be redis://, rediss:// or postgresql://")


# --- publishing, from any process -------------------------------------------------------------


class Publisher(Protocol):
    def publish(self, message: Message) -> None:
        """Hand ``message`` to every web process of the desk; never raises."""

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """The web process's event loop, once it runs (the in-memory publisher needs it)."""

    def close(self) -> None: ...


class LocalChannels(Protocol):
    """The web process's Litestar ``ChannelsPlugin``, as far as publishing in memory goes."""

    def publish(self, data: bytes, channels: str) -> None: ...


class InProcessPublisher:
    """The hub in memory: messages go to this process's own plugin, on its event loop, from
    whichever thread committed. A process without a plugin (a command) has nobody to tell."""

    def __init__(self, channels: LocalChannels | None, channel: str) -> None:
        self._channels = channels
        self._channel = channel
        self._loop: asyncio.AbstractEventLoop | None = None

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def publish(self, message: Message) -> None:
        payload = encode(message)
        loop = self._loop
        if payload is None or loop is None or self._channels is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop has closed: the process is ending
            loop.call_soon_threadsafe(self._hand_over, payload.encode())

    def _hand_over(self, data: bytes) -> None:
        assert self._channels is not None
        with contextlib.suppress(RuntimeError):  # the plugin has stopped
            self._channels.publish(data, self._channel)

    def close(self) -> None:
        self._loop = None


class _ThreadedPublisher:
    """Publishing to a server from a thread of its own: ``publish`` only queues (bounded), so a
    commit never waits for the server, even when it is down."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self._outgoing: queue.Queue[str | None] = queue.Queue(OUTGOING_LIMIT)
        self._sender: threading.Thread | None = None
        self._lock = threading.Lock()
        self._closed = False

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        pass

    def publish(self, message: Message) -> None:
        payload = encode(message)
        if payload is None or self._closed:
            return
        with self._lock:
            if self._sender is None:
                self._sender = threading.Thread(
                    target=self._run, name=f"{type(self).__name__}", daemon=True
                )
                self._sender.start()
        try:
            self._outgoing.put_nowait(payload)
        except queue.Full:
            log.warning("realtime server unreachable for a while: live update dropped")

    def close(self) -> None:
        """Send what is queued (for a few seconds at most), then stop."""
        with self._lock:
            self._closed = True
            sender = self._sender
        if sender is not None:
            with contextlib.suppress(queue.Full):
                self._outgoing.put(None, timeout=CLOSE_SECONDS)
            sender.join(CLOSE_SECONDS)
        self._disconnect()

    def _run(self) -> None:
        while True:
            payload = self._outgoing.get()
            if payload is None:
                return
            for attempt in (1, 2):  # a connection dropped since the last message: once more
                try:
                    self._send(payload)
                    break
                except Exception as exc:
                    self._disconnect()
                    if attempt == 2:
                        log.warning("realtime publish failed: %s", exc)

    def _send(self, payload: str) -> None:
        raise NotImplementedError

    def _disconnect(self) -> None:
        pass


class RedisPublisher(_ThreadedPublisher):
    """``PUBLISH channel payload``: what ``RedisChannelsPubSubBackend`` subscribes to."""

    def __init__(self, url: str) -> None:
        super().__init__(channel_name(url))
        import redis

        self._client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)

    def _send(self, payload: str) -> None:
        self._client.publish(self.channel, payload)

    def _disconnect(self) -> None:
        self._client.close()


class PostgresPublisher(_ThreadedPublisher):
    """``NOTIFY channel, payload``: what ``PsycoPgChannelsBackend`` listens to."""

    def __init__(self, url: str) -> None:
        super().__init__(CHANNEL)
        self._dsn = postgres_dsn(url)
        self._connection: Any = None  # the sender's, used by its thread alone

    def _send(self, payload: str) -> None:
        import psycopg

        if self._connection is None or self._connection.closed:
            self._connection = psycopg.connect(self._dsn, autocommit=True, connect_timeout=5)
        self._connection.execute("SELECT pg_notify(%s, %s)", (self.channel, payload))

    def _disconnect(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.close()
        self._connection = None


def open_publisher(url: str | None, channels: LocalChannels | None = None) -> Publisher:
    """The publisher for ``INBOX_REALTIME_URL``; in memory (to ``channels``) when unset."""
    check_url(url)
    if not url:
        return InProcessPublisher(channels, channel_name(url))
    if url.startswith(REDIS_SCHEMES):
        return RedisPublisher(url)
    return PostgresPublisher(url)


# --- what a commit publishes ----------------------------------------------------------------------


def ticket_messages(events: list[Event]) -> list[Message]:
    """What a commit changed, one message per ticket: its id, whether it is new, and the ids
    of messages added to it. Ids only, never content: each web process reads and renders."""
    tickets: dict[int, Message] = {}
    for event in events:
        if not isinstance(event, TicketCreated | TicketChanged | MessageAdded):
            continue
        message = tickets.setdefault(
            event.ticket_id,
            {"type": "ticket", "kind": "changed", "ticket_id": event.ticket_id, "messages": []},
        )
        if isinstance(event, TicketCreated):
            message["kind"] = "created"
        elif isinstance(event, MessageAdded) and event.message_id not in message["messages"]:
            message["messages"].append(event.message_id)
    for message in tickets.values():  # a mail of a thousand parts is still a small message
        message["messages"] = message["messages"][-MAX_MESSAGE_IDS:]
    return list(tickets.values())


def commit_publisher(publisher: Publisher) -> Callable[[list[Event]], None]:
    """The dispatcher for ``Database.on_commit``: committed ticket events are published."""

    def publish_events(events: list[Event]) -> None:
        for message in ticket_messages(events):
            publisher.publish(message)
        for channel_id in dict.fromkeys(
            e.channel_id for e in events if isinstance(e, ChatQueueChanged)
        ):
            publisher.publish({"type": "chat_queue", "channel_id": channel_id})

    return publish_events
