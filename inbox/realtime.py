"""The realtime hub: small messages between the processes of one desk.

Every process that commits publishes what changed (a ticket id and a kind, never content); the
web processes that hold websockets listen and render for their own connections. In memory
within one process by default (``inbox serve`` alone); Redis pub/sub or PostgreSQL
LISTEN/NOTIFY when ``INBOX_REALTIME_URL`` names one, for several web and worker processes.

Publishing never raises into the caller: it runs after a commit, and a lost live update is
repaired by the next one or a reload, while an exception would fail work that succeeded.
Listeners are called on a thread of the hub's own (or the publisher's, in memory); they must
hand the message over quickly, e.g. with ``loop.call_soon_threadsafe``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any, Protocol

from inbox.events import Event, MessageAdded, TicketChanged, TicketCreated

log = logging.getLogger(__name__)

Message = dict[str, Any]
Listener = Callable[[Message], None]
CHANNEL = "inbox_realtime"
# PostgreSQL refuses NOTIFY payloads from 8000 bytes on; our messages are ids and a name.
MAX_MESSAGE_BYTES = 4000
RECONNECT_SECONDS = 1.0
CLOSE_SECONDS = 5.0
# Messages waiting for the hub's server; beyond this, while it is down, updates are dropped.
OUTGOING_LIMIT = 10_000
MAX_MESSAGE_IDS = 50


class Hub(Protocol):
    def publish(self, message: Message) -> None:
        """Hand ``message`` to every listener of every process; never raises."""

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with each message from now on; returns the unsubscribe."""

    def close(self) -> None: ...


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


class _Listeners:
    """The listeners of one process, called one after another; one failing spoils nothing."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._lock = threading.Lock()

    def add(self, listener: Listener) -> Callable[[], None]:
        with self._lock:
            self._listeners.append(listener)

        def remove() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return remove

    def deliver(self, message: Message) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(message)
            except Exception:
                log.exception("realtime listener failed")


class MemoryHub:
    """One process: publishing calls the listeners directly."""

    def __init__(self) -> None:
        self._listeners = _Listeners()

    def publish(self, message: Message) -> None:
        payload = encode(message)
        if payload is not None:
            decoded = decode(payload)  # listeners get what a remote hub would deliver
            if decoded is not None:
                self._listeners.deliver(decoded)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        return self._listeners.add(listener)

    def close(self) -> None:
        pass


class _RemoteHub:
    """Shared by the hubs on a server: a thread that sends and a thread that receives.

    Publishing only queues (bounded): a commit never waits for the hub's server, even when it
    is down. The receiving thread starts with the first subscriber and reconnects until
    closed.
    """

    def __init__(self) -> None:
        self._listeners = _Listeners()
        self._stopping = threading.Event()
        self._outgoing: queue.Queue[str | None] = queue.Queue(OUTGOING_LIMIT)
        self._threads: dict[str, threading.Thread] = {}
        self._threads_lock = threading.Lock()

    def publish(self, message: Message) -> None:
        payload = encode(message)
        if payload is None or self._stopping.is_set():
            return
        self._ensure_thread("sender", self._run_sender)
        try:
            self._outgoing.put_nowait(payload)
        except queue.Full:
            log.warning("realtime hub unreachable for a while: live update dropped")

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        remove = self._listeners.add(listener)
        self._ensure_thread("listener", self._run_listener)
        return remove

    def close(self) -> None:
        """Send what is queued (for a few seconds at most), then stop both threads."""
        with self._threads_lock:
            sender = self._threads.get("sender")
            if sender is not None:
                with contextlib.suppress(queue.Full):
                    self._outgoing.put(None, timeout=CLOSE_SECONDS)
                sender.join(CLOSE_SECONDS)
            self._stopping.set()
            listener = self._threads.get("listener")
            if listener is not None:
                listener.join(CLOSE_SECONDS)
        self._disconnect()

    def _ensure_thread(self, role: str, target: Callable[[], None]) -> None:
        with self._threads_lock:
            if role not in self._threads and not self._stopping.is_set():
                thread = threading.Thread(
                    target=target, name=f"{type(self).__name__}-{role}", daemon=True
                )
                self._threads[role] = thread
                thread.start()

    def _run_sender(self) -> None:
        while True:
            payload = self._outgoing.get()
            if payload is None:
                return
            for attempt in (1, 2):  # a connection dropped since the last message: once more
                try:
                    self._send(payload)
                    break
                except Exception as exc:
                    self._reset_sender()
                    if attempt == 2:
                        log.warning("realtime publish failed: %s", exc)

    def _run_listener(self) -> None:
        while not self._stopping.is_set():
            try:
                self._listen()
            except Exception as exc:
                if self._stopping.is_set():
                    return
                log.warning("realtime hub lost its connection (%s); reconnecting", exc)
                self._stopping.wait(RECONNECT_SECONDS)

    def _deliver(self, payload: str | bytes) -> None:
        message = decode(payload)
        if message is not None:
            self._listeners.deliver(message)

    def _send(self, payload: str) -> None:
        raise NotImplementedError

    def _reset_sender(self) -> None:
        pass

    def _listen(self) -> None:
        raise NotImplementedError

    def _disconnect(self) -> None:
        pass


class RedisHub(_RemoteHub):
    """Redis pub/sub on one channel: every web process hears every message. Channels are
    global to a Redis server, so the database number of the URL is part of the name: desks
    on ``redis://host/1`` and ``redis://host/2`` do not hear each other."""

    def __init__(self, url: str) -> None:
        super().__init__()
        import redis

        self._client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
        self._listen_client = redis.Redis.from_url(url, socket_connect_timeout=5)
        self.channel = f"{CHANNEL}:{self._client.connection_pool.connection_kwargs.get('db', 0)}"

    def _send(self, payload: str) -> None:
        self._client.publish(self.channel, payload)

    def _listen(self) -> None:
        pubsub = self._listen_client.pubsub(ignore_subscribe_messages=True)
        try:
            pubsub.subscribe(self.channel)
            while not self._stopping.is_set():
                received = pubsub.get_message(timeout=1.0)
                if received and received.get("type") == "message":
                    self._deliver(received["data"])
        finally:
            pubsub.close()

    def _disconnect(self) -> None:
        self._client.close()
        self._listen_client.close()


class PostgresHub(_RemoteHub):
    """PostgreSQL LISTEN/NOTIFY, for a desk that runs PostgreSQL and no Redis."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self._url = url.replace("postgresql+psycopg://", "postgresql://", 1)
        self._connection: Any = None  # the sender's, used by its thread alone

    def _send(self, payload: str) -> None:
        import psycopg

        if self._connection is None or self._connection.closed:
            self._connection = psycopg.connect(self._url, autocommit=True, connect_timeout=5)
        self._connection.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))

    def _reset_sender(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.close()
        self._connection = None

    def _listen(self) -> None:
        import psycopg

        with psycopg.connect(self._url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f"LISTEN {CHANNEL}")
            while not self._stopping.is_set():
                for notify in conn.notifies(timeout=1.0):
                    self._deliver(notify.payload)

    def _disconnect(self) -> None:
        self._reset_sender()


def open_hub(url: str | None) -> Hub:
    """The hub ``INBOX_REALTIME_URL`` names; in memory when unset."""
    if not url:
        return MemoryHub()
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHub(url)
    if url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        return PostgresHub(url.replace("postgres://", "postgresql://", 1))
    raise ValueError("INBOX_REALTIME_URL must be redis://, rediss:// or postgresql://")


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


def publisher(hub: Hub) -> Callable[[list[Event]], None]:
    """The dispatcher for ``Database.on_commit``: committed ticket events go to the hub."""

    def publish_events(events: list[Event]) -> None:
        for message in ticket_messages(events):
            hub.publish(message)

    return publish_events
