"""Litestar channels in the web process: the desk's one channel, which every web process
subscribes to (``inbox.web.live``) and every process publishes to (``inbox.realtime.publish``).

In memory by default; on Redis pub/sub or PostgreSQL LISTEN/NOTIFY when ``INBOX_REALTIME_URL``
names one. Litestar's remote backends stop streaming for good when their connection drops, and
refuse to start while their server is down; ``ReconnectingBackend`` wraps them so that a web
process starts regardless and hears again once the server is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable

from litestar.channels import ChannelsBackend, ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend

from inbox.realtime.publish import (
    OUTGOING_LIMIT,
    RECONNECT_SECONDS,
    REDIS_SCHEMES,
    channel_name,
    check_url,
    postgres_dsn,
)

log = logging.getLogger(__name__)

Closer = Callable[[], Awaitable[None]]


class ReconnectingBackend(ChannelsBackend):
    """A Litestar channels backend whose server may go away: it keeps a backend made by
    ``connect`` (with what else must close with it) and, when its stream fails, makes another
    and subscribes it again, every ``RECONNECT_SECONDS`` until that works. Publishing never
    raises. The channels are known from the start and subscribed whenever a backend opens."""

    def __init__(
        self, connect: Callable[[], tuple[ChannelsBackend, Closer]], channels: Iterable[str]
    ) -> None:
        self._connect = connect
        self._channels = set(channels)
        self._current: tuple[ChannelsBackend, Closer] | None = None

    async def _open(self) -> ChannelsBackend:
        backend, closer = self._connect()
        try:
            await backend.on_startup()
            await backend.subscribe(self._channels)
        except BaseException:
            await self._close(backend, closer)
            raise
        self._current = (backend, closer)
        return backend

    async def _close(self, backend: ChannelsBackend, closer: Closer) -> None:
        with contextlib.suppress(Exception):
            await backend.on_shutdown()
        with contextlib.suppress(Exception):
            await closer()

    async def _discard(self) -> None:
        current, self._current = self._current, None
        if current is not None:
            await self._close(*current)

    async def on_startup(self) -> None:
        try:
            await self._open()
        except Exception as exc:  # the stream keeps trying: a desk starts without its hub
            log.warning("realtime server unreachable (%s); retrying", exc)

    async def on_shutdown(self) -> None:
        await self._discard()

    async def publish(self, data: bytes, channels: Iterable[str]) -> None:
        try:
            if self._current is not None:
                await self._current[0].publish(data, channels)
        except Exception as exc:
            log.warning("realtime publish failed: %s", exc)

    async def subscribe(self, channels: Iterable[str]) -> None:
        new = set(channels) - self._channels
        self._channels |= new
        if new and self._current is not None:
            try:
                await self._current[0].subscribe(new)
            except Exception as exc:
                log.warning("realtime subscribe failed (%s); reconnecting", exc)
                await self._discard()

    async def unsubscribe(self, channels: Iterable[str]) -> None:
        """The desk's channel stays subscribed while the process runs."""

    async def stream_events(self) -> AsyncGenerator[tuple[str, bytes], None]:
        while True:
            backend = self._current[0] if self._current is not None else None
            if backend is None:
                try:
                    backend = await self._open()
                except Exception as exc:
                    log.warning("realtime server unreachable (%s); retrying", exc)
                    await asyncio.sleep(RECONNECT_SECONDS)
                    continue
            try:
                async for event in backend.stream_events():
                    yield event
            except Exception as exc:
                log.warning("realtime connection lost (%s); reconnecting", exc)
            if self._current is not None and self._current[0] is backend:
                await self._discard()
            await asyncio.sleep(RECONNECT_SECONDS)

    async def get_history(self, channel: str, limit: int | None = None) -> list[bytes]:
        raise NotImplementedError("the desk's channel keeps no history")


def _redis_backend(url: str) -> tuple[ChannelsBackend, Closer]:
    from litestar.channels.backends.redis import RedisChannelsPubSubBackend
    from redis.asyncio import Redis

    client = Redis.from_url(url, socket_connect_timeout=5)
    return RedisChannelsPubSubBackend(redis=client), client.aclose


def _postgres_backend(url: str) -> tuple[ChannelsBackend, Closer]:
    from litestar.channels.backends.psycopg import PsycoPgChannelsBackend

    async def nothing() -> None:
        pass

    return PsycoPgChannelsBackend(postgres_dsn(url)), nothing


def realtime_channels(url: str | None) -> ChannelsPlugin:
    """The web process's ``ChannelsPlugin`` for ``INBOX_REALTIME_URL``: its one channel on a
    memory backend when unset, else on Redis pub/sub or PostgreSQL LISTEN/NOTIFY."""
    check_url(url)
    channel = channel_name(url)
    backend: ChannelsBackend
    if not url:
        backend = MemoryChannelsBackend()
    elif url.startswith(REDIS_SCHEMES):
        backend = ReconnectingBackend(lambda: _redis_backend(url), [channel])
    else:
        backend = ReconnectingBackend(lambda: _postgres_backend(url), [channel])
    return ChannelsPlugin(
        backend=backend, channels=[channel], subscriber_max_backlog=OUTGOING_LIMIT
    )
