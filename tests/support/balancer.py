"""A TCP load balancer on loopback, as a reverse proxy in front of two web processes would be:
each new connection goes to the first backend that accepts it, so when that process stops,
new connections (the widget reconnecting) reach the next. Bytes pass through untouched, so
HTTP and websockets go through alike."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Sequence

from tests.support.processes import free_port


class Balancer:
    def __init__(self, backend_ports: Sequence[int]) -> None:
        self.backends = list(backend_ports)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.chosen: list[int] = []  # the backend of each connection, in order
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.AbstractServer | None = None

    def __enter__(self) -> Balancer:
        self._thread.start()
        started = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve, "127.0.0.1", self.port), self._loop
        )
        self._server = started.result(timeout=10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _close(self) -> None:
        """Stop listening and cut every connection still open."""
        if self._server is not None:
            self._server.close()
        open_connections = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in open_connections:
            task.cancel()
        await asyncio.gather(*open_connections, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for port in self.backends:
            try:
                upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                continue  # that process is down: the next one
            self.chosen.append(port)
            await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))
            return
        writer.close()


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    try:
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(ConnectionError, OSError):
            sink.close()
