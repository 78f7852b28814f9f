"""Live chat under load: visitors' sockets and agents' live sockets on a real ``inbox serve``.

    python bench/chat.py [--visitors 1000] [--agents 50] [--rate 200] [--seconds 20]
                         [--deployment embedded|redis|both]

A fresh desk with one chat channel, ``--agents`` agents and ``--visitors`` visitors, each with
an open chat assigned to one of the agents (set up through the desk's own actions). Then:

1. every visitor opens the real widget protocol's socket (``/chat/ws``, ``hello`` with their
   token) and stays; the web processes' resident memory before and after, over the number of
   sockets, is the memory per idle socket;
2. every agent signs in with the sign-in form and opens the inbox's live socket (``/live``,
   "my tickets"), as the inbox page does;
3. once the desk is idle (under a tenth of a core for a second: the work its start-up left
   in the background, the timers due at once and what they set going, is done), for
   ``--seconds``, ``--rate`` visitor messages a second go out on random visitors' sockets,
   each timed until the agent's live socket shows the ticket's row changed; and ``--rate``
   agent replies a second (``POST /api/v1/tickets/{reference}/replies``), each timed from the
   request until the visitor's socket has the message. The web processes' CPU time over
   the load, per message either way, is printed too: steadier than the latencies on a
   machine where a run may tip into queueing or not.

``embedded`` is one ``inbox serve`` on SQLite with everything in the process; ``redis`` is two
``inbox serve`` processes on PostgreSQL (``INBOX_BENCH_POSTGRES``, default
``postgresql://postgres@127.0.0.1``) sharing ``INBOX_REALTIME_URL`` on Redis
(``INBOX_BENCH_REDIS``, default ``redis://127.0.0.1:6379/14``): visitors on one, agents on the
other, so every delivery crosses processes.

The baseline, measured in the same run: a bare ``websockets`` echo server on loopback, the same
number of sockets and the same rate of round trips. It is the floor of what any websocket
service here can do; the desk's figures are printed beside it with their ratio.
Targets on the embedded default: p99 under 50 ms each way, under 100 KB per idle socket.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.processes import INBOX, free_port  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from ws_echo import run_baseline  # noqa: E402

PASSWORD = "a long bench passphrase for agents"
TARGET_P99_MS = 50.0
TARGET_KB_PER_SOCKET = 100.0


# -- the desk ------------------------------------------------------------------------------------


@dataclass
class Desk:
    bases: list[str]  # the web processes' base URLs (visitors on the first, agents on the last)
    processes: list[subprocess.Popen[bytes]]
    widget_key: str
    visitors: list[tuple[str, str]]  # (token, reference)
    agents: list[tuple[str, str]]  # (email, API token)
    owner: dict[str, int]  # reference -> agent index

    def cpu_seconds(self) -> float:
        """User and system time of the web processes so far."""
        total = 0
        for process in self.processes:
            fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
        return total / os.sysconf("SC_CLK_TCK")

    async def settled(self, *, busy: float = 0.1, most: float = 120.0) -> float:
        """Wait until the web processes use less than ``busy`` of a core for a second (what
        start-up leaves to do in the background: timers, rollups, recomputes); the wait."""
        started = time.perf_counter()
        before = self.cpu_seconds()
        while time.perf_counter() - started < most:
            await asyncio.sleep(1.0)
            now = self.cpu_seconds()
            if now - before < busy:
                break
            before = now
        return time.perf_counter() - started

    def rss_kib(self) -> int:
        total = 0
        for process in self.processes:
            for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        return total

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(20)


def _prepare(
    env: dict[str, str], origin: str, visitors: int, agents: int
) -> tuple[str, list[tuple[str, str]], list[tuple[str, str, int]]]:
    """The channel, the agents (with API tokens) and each visitor's open chat assigned to an
    agent, set up through the desk's actions in this process."""
    from sqlmodel import col, update

    from inbox.actions.chat.channels import add_chat_channel
    from inbox.actions.chat.messages import take_visitor_message
    from inbox.actions.signin.agents import create_agent
    from inbox.actions.signin.tokens import create_api_token
    from inbox.blobs import BlobStore
    from inbox.db import Database
    from inbox.models import ChatVisitor, Ticket
    from inbox.rules.chat import visitor_token
    from inbox.settings import load_settings
    from inbox.signing import SecretBox

    settings = load_settings(env)
    db = Database(settings.database_url)
    blobs = BlobStore(settings.blob_dir)
    with db.unit_of_work() as session:
        added = add_chat_channel(
            session, SecretBox(settings.secret_key), name="Website", origins=[origin]
        )
        channel_id = added.channel.id or 0
        staff = []
        for n in range(agents):
            agent = create_agent(
                session,
                email=f"agent{n}@bench.test",
                name=f"Agent {n}",
                role="agent",
                password=PASSWORD,
            )
            staff.append((agent.email, create_api_token(session, agent), agent.id))
    chats = []
    for n in range(visitors):
        with db.unit_of_work() as session:
            visitor = ChatVisitor(channel_id=channel_id, name=f"Visitor {n}")
            session.add(visitor)
            session.flush()
            ack = take_visitor_message(
                session, settings, blobs, visitor=visitor, client_id="first", text=f"Help {n}"
            )
            assert ack is not None
            owner = n % agents
            session.execute(
                update(Ticket)
                .where(col(Ticket.reference) == ack.reference)
                .values(assignee_id=staff[owner][2])
            )
            chats.append(
                (visitor_token(settings.secret_key, visitor.id or 0), ack.reference, owner)
            )
    db.dispose()
    return added.widget_key, [(e, t) for e, t, _ in staff], chats


def _serve(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    out = log.open("ab")
    return subprocess.Popen(
        [*INBOX, "serve", "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT
    )


def _wait_ready(base: str, log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        time.sleep(0.2)
    raise SystemExit(f"inbox serve did not start:\n{log.read_text()[-3000:]}")


def start_desk(deployment: str, workdir: Path, visitors: int, agents: int) -> Desk:
    ports = [free_port() for _ in range(1 if deployment == "embedded" else 2)]
    env = {
        **os.environ,
        "INBOX_DATA_DIR": str(workdir / "var"),
        "INBOX_SECRET_KEY": "bench-secret-key-bench-secret-key",
        "INBOX_BASE_URL": f"http://127.0.0.1:{ports[0]}",
    }
    if deployment == "redis":
        import psycopg

        server = os.environ.get("INBOX_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1")
        name = f"bench_chat_{os.getpid()}"
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name}")
            admin.execute(f"CREATE DATABASE {name}")
        env["INBOX_DATABASE_URL"] = f"{server}/{name}"
        env["INBOX_REALTIME_URL"] = os.environ.get("INBOX_BENCH_REDIS", "redis://127.0.0.1:6379/14")
    subprocess.run([*INBOX, "db", "upgrade"], env=env, check=True, capture_output=True)
    origin = "https://shop.bench.test"
    widget_key, staff, chats = _prepare(env, origin, visitors, agents)
    processes, bases = [], []
    for n, port in enumerate(ports):
        base = f"http://127.0.0.1:{port}"
        processes.append(_serve({**env, "INBOX_BASE_URL": base}, port, workdir / f"serve{n}.log"))
        bases.append(base)
    for n, base in enumerate(bases):
        _wait_ready(base, workdir / f"serve{n}.log")
    return Desk(
        bases,
        processes,
        widget_key,
        [(token, reference) for token, reference, _ in chats],
        staff,
        {reference: owner for _, reference, owner in chats},
    )


def drop_desk_database() -> None:
    import psycopg

    server = os.environ.get("INBOX_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS bench_chat_{os.getpid()} WITH (FORCE)")


# -- the load -------------------------------------------------------------------------------------


@dataclass
class Timings:
    to_agent: list[float] = field(default_factory=list)  # visitor message -> agent's live socket
    to_visitor: list[float] = field(default_factory=list)  # agent's reply -> visitor's socket
    reply_answered: list[float] = field(default_factory=list)  # the reply request's own time
    sent_to_agent: int = 0
    sent_to_visitor: int = 0
    failed: int = 0
    cpu_seconds: float = 0.0  # the web processes', from the load's start to its last delivery


def _ws_url(base: str, path: str) -> str:
    return base.replace("http://", "ws://") + path


async def _sign_in(base: str, email: str) -> str:
    """The Cookie header of a signed-in browser session."""
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        page = (await client.get("/login")).text
        token = page.split('name="_csrf_token" value="', 1)[1].split('"', 1)[0]
        answer = await client.post(
            "/login", data={"email": email, "password": PASSWORD, "_csrf_token": token}
        )
        if answer.status_code not in (200, 302, 303):
            raise SystemExit(f"{email} could not sign in: {answer.status_code}")
        return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


async def run_load(desk: Desk, rate: float, seconds: float) -> tuple[Timings, float]:
    """Open every socket, measure the memory of idle visitors, then the load both ways."""
    timings = Timings()
    visitor_base, agent_base = desk.bases[0], desk.bases[-1]
    origin = "https://shop.bench.test"
    rss_before = desk.rss_kib()
    visitor_sockets: list[ClientConnection] = []
    reply_sent: dict[str, float] = {}  # marker -> sent at
    message_sent: dict[str, float] = {}  # reference -> sent at (one in flight per ticket)

    async def visitor_reader(ws: ClientConnection) -> None:
        async for raw in ws:
            frame = json.loads(raw)
            if frame.get("type") == "message" and frame.get("author") == "agent":
                marker = str(frame.get("text", "")).rsplit(" ", 1)[-1]
                started = reply_sent.pop(marker, None)
                if started is not None:
                    timings.to_visitor.append(time.perf_counter() - started)

    url = _ws_url(visitor_base, f"/chat/ws?widget={desk.widget_key}")
    readers = []
    for token, _ in desk.visitors:
        ws = await connect(url, origin=origin, max_queue=None)  # type: ignore[arg-type]
        await ws.send(json.dumps({"type": "hello", "token": token}))
        while json.loads(await ws.recv()).get("type") != "welcome":
            pass
        visitor_sockets.append(ws)
        readers.append(asyncio.ensure_future(visitor_reader(ws)))
    await asyncio.sleep(3)
    per_socket_kib = (desk.rss_kib() - rss_before) / max(1, len(visitor_sockets))

    cookies = [await _sign_in(agent_base, email) for email, _ in desk.agents]  # a hash each
    agent_sockets = []

    async def agent_reader(ws: ClientConnection) -> None:
        async for raw in ws:
            text = raw if isinstance(raw, str) else raw.decode()
            for reference in [r for r in message_sent if f'ticket-row-{r}"' in text]:
                started = message_sent.pop(reference, None)
                if started is not None:
                    timings.to_agent.append(time.perf_counter() - started)

    for cookie in cookies:
        ws = await connect(
            _ws_url(agent_base, "/live?view=mine"),
            origin=agent_base,  # type: ignore[arg-type]
            additional_headers={"Cookie": cookie},
            max_queue=None,
        )
        agent_sockets.append(ws)
        readers.append(asyncio.ensure_future(agent_reader(ws)))
    waited = await desk.settled()
    print(f"  the desk was idle {waited:.0f} s after the sockets opened; the load starts")

    rng = random.Random(7)
    http = httpx.AsyncClient(
        base_url=agent_base, timeout=30, limits=httpx.Limits(max_connections=100)
    )
    pending: set[asyncio.Task[None]] = set()

    async def reply(reference: str) -> None:
        token = desk.agents[desk.owner[reference]][1]
        marker = uuid.uuid4().hex
        reply_sent[marker] = sent = time.perf_counter()
        try:
            answer = await http.post(
                f"/api/v1/tickets/{reference}/replies",
                json={"body": f"Thanks, looking into it {marker}"},
                headers={"Authorization": f"Bearer {token}"},
            )
            status = answer.status_code
            timings.reply_answered.append(time.perf_counter() - sent)
        except httpx.HTTPError:  # an overloaded desk may drop the connection
            status = 599
        if status >= 300:
            timings.failed += 1
            reply_sent.pop(marker, None)

    started = time.perf_counter()
    cpu_before = desk.cpu_seconds()
    tick = 1.0 / rate
    n = 0
    while time.perf_counter() - started < seconds:
        n += 1
        index = rng.randrange(len(desk.visitors))
        reference = desk.visitors[index][1]
        if reference not in message_sent:
            message_sent[reference] = time.perf_counter()
            timings.sent_to_agent += 1
            await visitor_sockets[index].send(
                json.dumps({"type": "message", "client_id": uuid.uuid4().hex, "text": f"More {n}"})
            )
        task = asyncio.ensure_future(reply(desk.visitors[rng.randrange(len(desk.visitors))][1]))
        timings.sent_to_visitor += 1
        pending.add(task)
        task.add_done_callback(pending.discard)
        delay = started + n * tick - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(asyncio.gather(*pending), 30)
    await asyncio.sleep(2)  # the last deliveries
    timings.cpu_seconds = desk.cpu_seconds() - cpu_before
    await http.aclose()
    for ws in [*visitor_sockets, *agent_sockets]:
        with contextlib.suppress(Exception):
            await ws.close()
    for reader in readers:
        reader.cancel()
    return timings, per_socket_kib


# -- the report ----------------------------------------------------------------------------------


def percentiles(seconds: list[float]) -> tuple[float, float]:
    if not seconds:
        return float("nan"), float("nan")
    ordered = sorted(seconds)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered) * 1000, p99 * 1000


def report(name: str, timings: Timings, kib: float, base_ms: tuple[float, float], base_kib: float,
           seconds: float) -> None:  # fmt: skip
    print(f"\n{name}")
    for label, values, sent in (
        ("visitor -> agent", timings.to_agent, timings.sent_to_agent),
        ("agent -> visitor", timings.to_visitor, timings.sent_to_visitor),
    ):
        p50, p99 = percentiles(values)
        print(
            f"  {label}: {len(values)}/{sent} delivered ({len(values) / seconds:.0f}/s), "
            f"p50 {p50:.1f} ms, p99 {p99:.1f} ms "
            f"(baseline p50 {base_ms[0]:.1f} ms, p99 {base_ms[1]:.1f} ms: "
            f"p99 {p99 / base_ms[1]:.1f}x)"
        )
    p50, p99 = percentiles(timings.reply_answered)
    print(f"  the reply requests themselves: p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    messages = timings.sent_to_agent + timings.sent_to_visitor
    print(
        f"  the desk's CPU: {timings.cpu_seconds:.1f} s, "
        f"{timings.cpu_seconds / max(messages, 1) * 1000:.1f} ms per message either way"
    )
    print(
        f"  memory per idle visitor socket: {kib:.1f} KiB "
        f"(baseline {base_kib:.1f} KiB: {kib / base_kib:.1f}x)"
    )
    if timings.failed:
        print(f"  replies refused or dropped: {timings.failed}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--visitors", type=int, default=1000)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--rate", type=float, default=200.0, help="messages a second each way")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--deployment", choices=("embedded", "redis", "both"), default="both")
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
    print(
        f"{args.visitors} visitor sockets, {args.agents} agents, {args.rate:.0f} messages a "
        f"second each way for {args.seconds:.0f} s; {os.cpu_count()} CPUs"
    )
    base_latencies, base_kib = asyncio.run(run_baseline(args.visitors, args.rate, args.seconds))
    base_ms = percentiles(base_latencies)
    print(f"baseline (websockets echo): p50 {base_ms[0]:.1f} ms, p99 {base_ms[1]:.1f} ms, "
          f"{base_kib:.1f} KiB per idle socket")  # fmt: skip
    deployments = ["embedded", "redis"] if args.deployment == "both" else [args.deployment]
    for deployment in deployments:
        with tempfile.TemporaryDirectory(prefix="bench-chat-") as tmp:
            started = time.perf_counter()
            desk = start_desk(deployment, Path(tmp), args.visitors, args.agents)
            print(f"\n{deployment}: desk ready in {time.perf_counter() - started:.0f} s")
            try:
                timings, kib = asyncio.run(run_load(desk, args.rate, args.seconds))
            finally:
                desk.stop()
                if deployment == "redis":
                    drop_desk_database()
            title = (
                "embedded default (one inbox serve, SQLite)"
                if deployment == "embedded"
                else "two inbox serve processes, PostgreSQL, realtime on Redis"
            )
            report(title, timings, kib, base_ms, base_kib, args.seconds)
            if deployment == "embedded":
                p99s = [percentiles(t)[1] for t in (timings.to_agent, timings.to_visitor)]
                met = all(p < TARGET_P99_MS for p in p99s) and kib < TARGET_KB_PER_SOCKET
                print(
                    f"  targets (p99 < {TARGET_P99_MS:.0f} ms each way, < "
                    f"{TARGET_KB_PER_SOCKET:.0f} KB per idle socket): {'met' if met else 'not met'}"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
