"""One request at a time: what the desk's request path costs before any load.

    python bench/request_path.py [--requests 200] [--gap 0.02]

A desk set up as ``bench/chat.py`` sets it up (one chat channel, ``--agents`` agents with API
tokens, ``--visitors`` open chats) is served by one ``inbox serve`` on the embedded default,
and left until it is idle. Then, one at a time on one keep-alive connection, ``--gap`` seconds
apart, the requests take turns:

- ``GET /healthz`` (one database ping, no sign-in);
- ``GET /api/v1/tickets/{reference}`` (token sign-in, the ticket and its messages);
- ``POST /api/v1/tickets/{reference}/notes``;
- ``POST /api/v1/tickets/{reference}/replies`` on a chat ticket (the visitor's socket is not
  open: the reply is stored and pushed to nobody).

The baseline, in the same run and with the same uvicorn settings as ``inbox serve``: a bare
Litestar app, with a handler that answers at once and one that pings a SQLite database in a
worker thread, as ``/healthz`` does. Each time is from the request's first byte sent to the
answer's last byte read, on this machine's loopback.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from chat import start_desk  # noqa: E402

from tests.support.processes import free_port  # noqa: E402

BARE_APP = textwrap.dedent(
    """
    import sys

    import sqlalchemy
    import uvicorn
    from litestar import Litestar, get

    engine = sqlalchemy.create_engine("sqlite:///" + sys.argv[2])
    sys.setswitchinterval(0.001)  # as inbox serve sets it

    @get("/ping", sync_to_thread=False)
    def ping() -> dict[str, str]:
        return {"status": "ok"}

    @get("/db", sync_to_thread=True)
    def db() -> dict[str, str]:
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text("SELECT 1"))
        return {"status": "ok"}

    uvicorn.run(
        Litestar([ping, db]), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
        ws_max_size=64 * 1024, proxy_headers=False,
    )
    """
)

Request = Callable[[httpx.Client], httpx.Response]


def _time_all(
    client: httpx.Client, requests: dict[str, Request], count: int, gap: float
) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in requests}
    for send in requests.values():  # one of each first: connections and caches warm
        send(client).raise_for_status()
    for _ in range(count):
        for name, send in requests.items():
            time.sleep(gap)
            started = time.perf_counter()
            send(client).raise_for_status()
            times[name].append(time.perf_counter() - started)
    return times


def _quantile(seconds: list[float], q: float) -> float:
    ordered = sorted(seconds)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def _wait_ready(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise SystemExit(f"nothing answered at {url}")


def measure_bare(workdir: Path, count: int, gap: float) -> dict[str, list[float]]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", BARE_APP, str(port), str(workdir / "bare.sqlite3")]
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_ready(f"{base}/ping")
        with httpx.Client(base_url=base) as client:
            return _time_all(
                client,
                {
                    "bare: answer at once": lambda c: c.get("/ping"),
                    "bare: SQLite ping in a thread": lambda c: c.get("/db"),
                },
                count,
                gap,
            )
    finally:
        server.terminate()
        server.wait(20)


def measure_desk(
    workdir: Path, count: int, gap: float, visitors: int, agents: int
) -> dict[str, list[float]]:
    import asyncio

    desk = start_desk("embedded", workdir, visitors, agents)
    try:
        asyncio.run(desk.settled())
        _, reference = desk.visitors[0]
        _, token = desk.agents[desk.owner[reference]]
        ticket = f"/api/v1/tickets/{reference}"
        headers = {"authorization": f"Bearer {token}"}
        sent = iter(range(10**9))
        with httpx.Client(base_url=desk.bases[0], headers=headers) as client:
            return _time_all(
                client,
                {
                    "GET /healthz": lambda c: c.get("/healthz"),
                    "GET a ticket (API)": lambda c: c.get(ticket),
                    "POST a note (API)": lambda c: c.post(
                        f"{ticket}/notes", json={"body": f"Note {next(sent)}"}
                    ),
                    "POST a chat reply (API)": lambda c: c.post(
                        f"{ticket}/replies", json={"body": f"Answer {next(sent)}"}
                    ),
                },
                count,
                gap,
            )
    finally:
        desk.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="of each kind")
    parser.add_argument("--gap", type=float, default=0.02, help="seconds between requests")
    parser.add_argument("--visitors", type=int, default=20)
    parser.add_argument("--agents", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-request-path-") as folder:
        workdir = Path(folder)
        results = measure_bare(workdir, args.requests, args.gap)
        results |= measure_desk(workdir, args.requests, args.gap, args.visitors, args.agents)
    floor = statistics.median(results["bare: answer at once"]) * 1000
    print(
        f"{args.requests} of each, one at a time, {args.gap * 1000:.0f} ms apart; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(f"{'request':<32} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'p50 / bare':>11}")
    for name, seconds in results.items():
        p50 = _quantile(seconds, 0.5)
        print(
            f"{name:<32} {p50:8.2f} {_quantile(seconds, 0.95):8.2f} "
            f"{_quantile(seconds, 0.99):8.2f} {p50 / floor:10.1f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
