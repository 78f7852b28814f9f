"""What one live-chat exchange costs the embedded desk's one writer, in one thread.

    python bench/chat_writes.py [--chats 300] [--writes 400]

On the embedded default (SQLite) every write of the process takes its turn at one writer
(``inbox.db``), so the writes a second a desk can take are bounded by how long each holds
it. A fresh desk set up as ``bench/chat.py`` sets it up (a chat channel, 10 agents, ``--chats``
open chats, each assigned), then, in this process, each ``--writes`` times:

- an agent's reply on a chat ticket: the transaction ``POST /api/v1/tickets/{ref}/replies``
  runs (the ticket found and checked, the reply, the chat entry);
- a visitor's message: the transaction the chat socket runs (stored raw, then filed);
- the SLA recompute each of them causes (``recompute_tickets_sla`` for one ticket);
- ten tickets' SLA recomputes in one job, as the embedded desk's one recompute job at a time
  takes them under load (``workers.sla_actors.CHANGED_TICKETS``).

Printed: milliseconds per write of each kind, and the statements each runs; the baseline,
in the same run, is a bare transaction on the same database file inserting one row with the
``sqlite3`` module (``BEGIN IMMEDIATE``, insert, commit). The ratio says how much of a
write is the desk's own work.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from chat import _prepare  # noqa: E402

from tests.support.processes import INBOX  # noqa: E402


def _timed(label: str, write: Callable[[int], None], count: int, statements: list[int]) -> float:
    for n in range(min(50, count)):  # warm: caches, compiled statements
        write(n)
    statements.clear()
    started = time.perf_counter()
    for n in range(count):
        write(n)
    each = (time.perf_counter() - started) / count * 1000
    print(f"  {label}: {each:.2f} ms a write, {len(statements) / count:.0f} statements")
    return each


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chats", type=int, default=300)
    parser.add_argument("--writes", type=int, default=400)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-chat-writes-"))
    env = {
        **os.environ,
        "INBOX_DATA_DIR": str(work / "var"),
        "INBOX_SECRET_KEY": "bench-secret-key-bench-secret-key",
        "INBOX_BASE_URL": "http://127.0.0.1:9",
    }
    subprocess.run([*INBOX, "db", "upgrade"], env=env, check=True, capture_output=True)
    _key, _staff, chats = _prepare(env, "https://shop.bench.test", args.chats, 10)

    from sqlalchemy import event
    from sqlmodel import select

    from inbox.actions.chat.messages import take_visitor_message
    from inbox.actions.replies import reply_to_customer
    from inbox.actions.sla.clocks import recompute_sla_many
    from inbox.actions.tickets import access_ticket
    from inbox.blobs import BlobStore
    from inbox.db import Database
    from inbox.models import Agent, ChatConversation, ChatVisitor, Ticket, utcnow
    from inbox.queries.sla import tickets_with_sla_work
    from inbox.settings import load_settings

    settings = load_settings(env)
    db = Database(settings.database_url)
    blobs = BlobStore(settings.blob_dir)
    statements: list[int] = []
    event.listen(db.engine, "before_cursor_execute", lambda *_a, **_k: statements.append(1))
    with db.reading() as session:
        agents = {a.id: a for a in session.exec(select(Agent))}
        by_reference = {
            reference: (ticket_id, visitor_id)
            for reference, ticket_id, visitor_id in session.exec(
                select(Ticket.reference, Ticket.id, ChatConversation.visitor_id).join(
                    ChatConversation, ChatConversation.ticket_id == Ticket.id
                )
            )
        }
    staff = sorted(agents)

    def reply(n: int) -> None:
        _token, reference, owner = chats[n % len(chats)]
        agent = agents[staff[owner]]
        with db.unit_of_work() as session:
            ticket = access_ticket(session, agent, reference, settings.reference_prefix)
            reply_to_customer(
                session, settings, ticket=ticket, author=agent, body=f"Looking into it {n}"
            )

    def message(n: int) -> None:
        _ticket, visitor_id = by_reference[chats[n % len(chats)][1]]
        with db.unit_of_work() as session:
            visitor = session.get(ChatVisitor, visitor_id)
            assert visitor is not None
            take_visitor_message(
                session, settings, blobs, visitor=visitor, client_id=uuid.uuid4().hex, text="More"
            )

    def recompute(n: int) -> None:  # what recompute_tickets_sla does for one ticket
        ticket_id, _visitor = by_reference[chats[n % len(chats)][1]]
        with db.reading() as session:
            todo = tickets_with_sla_work(session, [ticket_id])
        with db.unit_of_work(background=True) as session:
            recompute_sla_many(session, todo, utcnow())

    tickets = [by_reference[reference][0] for _token, reference, _owner in chats]

    def recompute_ten(n: int) -> None:  # what one job of the in-process bell does under load
        ids = [tickets[(n * 10 + k) % len(tickets)] for k in range(10)]
        with db.reading() as session:
            todo = tickets_with_sla_work(session, ids)
        with db.unit_of_work(background=True) as session:
            recompute_sla_many(session, todo, utcnow())

    path = settings.database_url.removeprefix("sqlite:///")
    bare = sqlite3.connect(path, isolation_level=None)
    bare.execute("CREATE TABLE IF NOT EXISTS bench_write (n INTEGER, text TEXT)")

    def baseline(n: int) -> None:
        bare.execute("BEGIN IMMEDIATE")
        bare.execute("INSERT INTO bench_write VALUES (?, ?)", (n, "More"))
        bare.execute("COMMIT")

    print(f"{args.chats} open chats, {args.writes} writes of each kind; {os.cpu_count()} CPUs")
    floor = _timed("baseline (sqlite3: one insert, committed)", baseline, args.writes, [])
    costs = {
        "agent's reply": _timed("agent's reply", reply, args.writes, statements),
        "visitor's message": _timed("visitor's message", message, args.writes, statements),
        "SLA recompute of one ticket": _timed("SLA recompute", recompute, args.writes, statements),
    }
    ten = _timed("SLA recompute of ten tickets together", recompute_ten, args.writes, statements)
    print(f"  SLA recompute in tens: {ten / 10:.2f} ms a ticket")
    for label, each in costs.items():
        print(f"  {label}: {each / floor:.0f}x the baseline")
    exchange = sum(costs.values()) + costs["SLA recompute of one ticket"]
    print(
        f"  a reply and a message with their two recomputes: {exchange:.1f} ms of the writer, "
        f"so at most {1000 / exchange:.0f} messages a second each way"
    )
    loaded = costs["agent's reply"] + costs["visitor's message"] + 2 * ten / 10
    print(
        f"  the same with the recomputes taken ten at a time: {loaded:.1f} ms, "
        f"at most {1000 / loaded:.0f} a second each way"
    )
    bare.close()
    db.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
