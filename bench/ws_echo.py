"""The floor of any websocket service on this machine: a bare ``websockets`` echo server on
loopback, in a process of its own, with as many sockets and as many round trips a second as a
benchmark's service gets (``bench/chat.py`` prints its figures beside it)."""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
import time
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.processes import free_port

ECHO_SERVER = """
import asyncio, sys
from websockets.asyncio.server import serve
async def echo(ws):
    async for message in ws:
        await ws.send(message)
async def main():
    async with serve(echo, "127.0.0.1", int(sys.argv[1]), max_queue=None):
        print("ready", flush=True)
        await asyncio.Future()
asyncio.run(main())
"""


async def run_baseline(sockets: int, rate: float, seconds: float) -> tuple[list[float], float]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", ECHO_SERVER, str(port)], stdout=subprocess.PIPE
    )
    assert process.stdout is not None
    process.stdout.readline()

    def rss() -> int:
        for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    before = rss()
    sent: dict[str, float] = {}
    latencies: list[float] = []

    async def reader(ws: ClientConnection) -> None:
        async for raw in ws:
            started = sent.pop(str(raw), None)
            if started is not None:
                latencies.append(time.perf_counter() - started)

    conns = [await connect(f"ws://127.0.0.1:{port}/", max_queue=None) for _ in range(sockets)]
    readers = [asyncio.ensure_future(reader(ws)) for ws in conns]
    await asyncio.sleep(3)
    per_socket = (rss() - before) / sockets
    rng = random.Random(7)
    started = time.perf_counter()
    n = 0
    while time.perf_counter() - started < seconds:
        for _ in range(2):  # as many round trips as the desk's deliveries, both ways
            n += 1
            marker = f"m{n}"
            sent[marker] = time.perf_counter()
            await conns[rng.randrange(sockets)].send(marker)
        delay = started + (n / 2) / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
    await asyncio.sleep(1)
    for ws in conns:
        await ws.close()
    for task in readers:
        task.cancel()
    process.terminate()
    process.wait(10)
    return latencies, per_socket
