"""The realtime side when its server is away: a web process starts, publishes and stops
without it, and nothing a commit publishes ever raises."""

from __future__ import annotations

import asyncio
import time

import pytest

from inbox.realtime.hub import realtime_channels
from inbox.realtime.publish import channel_name, open_publisher
from tests.support.processes import free_port


@pytest.mark.parametrize("scheme", ["redis", "postgresql"])
def test_a_web_process_starts_publishes_and_stops_while_its_realtime_server_is_down(
    scheme: str,
) -> None:
    port = free_port()  # nothing listens there
    url = (
        f"redis://127.0.0.1:{port}/0"
        if scheme == "redis"
        else (f"postgresql://postgres@127.0.0.1:{port}/inbox?connect_timeout=2")
    )

    async def run_web_process() -> None:
        channels = realtime_channels(url)
        publisher = open_publisher(url, channels)
        started = time.monotonic()
        async with channels:
            publisher.attach(asyncio.get_running_loop())
            subscriber = await channels.subscribe(channel_name(url))
            for n in range(3):
                publisher.publish({"type": "ticket", "kind": "changed", "ticket_id": n})
                channels.publish(b"{}", channel_name(url))
            await asyncio.sleep(1.5)  # the channel keeps trying to connect meanwhile
            assert subscriber.qsize == 0
        await asyncio.to_thread(publisher.close)
        assert time.monotonic() - started < 20

    asyncio.run(run_web_process())
