"""Live updates: rows of the inbox, view counts, timeline entries and presence, pushed to the
agents connected to this web process (``inbox.web.live.socket`` lets them in).

Litestar channels (``inbox.realtime.publish``) tell every web process which ticket changed; this
module subscribes the process once to the desk's channel and renders,
for each agent connected to this process, the same partials the pages use, as htmx
out-of-band swaps for the ``ws`` extension, and only for tickets that agent may see. It takes
small and few messages from the client, and closes a socket with code 4401 once its session
ends.

Presence (who else views a ticket, who types a reply) travels over the channel as well, so
agents on different web processes see each other; each process keeps the board itself and
forgets an entry when its socket closes or its heartbeats stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import time
import uuid
from collections.abc import Coroutine
from typing import Any
from urllib.parse import urlencode

import anyio
from litestar import WebSocket
from litestar.channels import ChannelsPlugin, Subscriber
from litestar.exceptions import WebSocketDisconnect
from markupsafe import Markup, escape
from sqlmodel import Session, col, select

from inbox.actions.signin.two_factor import second_factor_pending
from inbox.db import Database
from inbox.models import Agent, Ticket
from inbox.queries.counts import DeskNames, desk_names
from inbox.queries.ticket_page import ticket_detail
from inbox.queries.tickets import (
    FILTER_FIELDS,
    TicketFilters,
    TicketPage,
    TicketRow,
    find_ticket,
    list_tickets,
    viewer_for,
)
from inbox.queries.views import view_counts
from inbox.queries.workspace import workspace_for
from inbox.realtime.publish import Message, Publisher, channel_name, decode
from inbox.settings import Settings
from inbox.web.auth import CSRF_COOKIE, agent_for_session, cookie_name
from inbox.web.live.connections import (
    QUEUE_LIMIT,
    Connection,
    could_list,
    merged,
    paced_messages,
    rows_of,
    visible,
)
from inbox.web.live.fragments import element_by_id
from inbox.web.live.presence import SWEEP_SECONDS, PresenceBoard

log = logging.getLogger(__name__)

# Close codes: the htmx extension reconnects only after 1006, 1011, 1012 and 1013.
SIGNED_OUT = 4401
FORBIDDEN = 4403
NOT_FOUND = 4404
RESTARTING = 1012
# The client sends a heartbeat every 20 s and "typing" at most every 2 s, with htmx's headers.
SESSION_CHECK_SECONDS = 10.0
COUNTS_EVERY_SECONDS = 3.0  # with 50 agents on one process, 50 renders a second at 1 s
# The desk's channel and team names, read once for the counts of every list meanwhile.
NAMES_FOR_SECONDS = 1.0
SEND_BATCH = 200  # changes rendered together for one connection, when they queue up
INBOX_ROWS = 50  # as many rows as the inbox's first page


class LiveUpdates:
    """The live side of one web process: its connections, the presence board, what it hears
    on the desk's channel and what it publishes there."""

    def __init__(
        self, publisher: Publisher, channels: ChannelsPlugin, db: Database, settings: Settings
    ) -> None:
        self.publisher = publisher
        self.channels = channels
        self.channel = channel_name(settings.realtime_url)
        self.db = db
        self.settings = settings
        self.process_key = uuid.uuid4().hex[:12]
        self.connections: set[Connection] = set()
        self.board = PresenceBoard()
        self.templates: Any = None
        self._numbers = itertools.count(1)
        self._subscriber: Subscriber | None = None
        self._listener: asyncio.Task[None] | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Future[Any]] = set()
        self._names: tuple[float, DeskNames] | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, app: Any) -> None:
        """After the channels plugin has started (lifespan managers come before hooks)."""
        self.templates = app.template_engine
        loop = asyncio.get_running_loop()
        self.publisher.attach(loop)
        self._subscriber = await self.channels.subscribe(self.channel)
        self._listener = loop.create_task(self._listen(self._subscriber))
        self._sweeper = loop.create_task(self._sweep())

    async def stop(self, app: Any) -> None:
        for task in (self._listener, self._sweeper):
            if task:
                task.cancel()
        if self._subscriber is not None:
            with contextlib.suppress(Exception):
                await self.channels.unsubscribe(self._subscriber)
        for conn in list(self.connections):
            with contextlib.suppress(Exception):
                await conn.socket.close(code=RESTARTING, reason="restarting")
        await anyio.to_thread.run_sync(self.publisher.close)

    # -- routing channel messages to connections ----------------------------------------------

    async def _listen(self, subscriber: Subscriber) -> None:
        async for payload in subscriber.iter_events():
            message = decode(payload)
            if message is None:
                continue
            try:
                facts = None
                ticket_id = message.get("ticket_id")
                lists = any(conn.filters is not None for conn in self.connections)
                if message.get("type") == "ticket" and isinstance(ticket_id, int) and lists:
                    facts = await anyio.to_thread.run_sync(self._facts, ticket_id)
                self._route(message, facts)
            except Exception:
                log.exception("live update failed")

    def _facts(self, ticket_id: int) -> tuple[int | None, int | None] | None:
        """The changed ticket's assignee and team: read once, they spare the lists that
        cannot show it a query each."""
        with self.db.reading() as session:
            found = session.exec(
                select(Ticket.assignee_id, Ticket.team_id).where(col(Ticket.id) == ticket_id)
            ).first()
        return (found[0], found[1]) if found else None

    def _route(self, message: Message, facts: tuple[int | None, int | None] | None = None) -> None:
        kind = message.get("type")
        if kind == "ticket":
            ticket_id, added = message.get("ticket_id"), message.get("messages")
            for conn in self.connections:
                # A ticket's page hears only of its own ticket's new messages; a list, of the
                # tickets it shows or could show.
                if conn.filters is None and (conn.ticket_id != ticket_id or not added):
                    continue
                unseen = conn.filters is not None and ticket_id not in conn.shown
                if unseen and facts is not None and not could_list(conn, *facts):
                    conn.counts_due.set()  # not its row, but maybe its views' counts
                    continue
                self._offer(conn, message)
        elif kind == "presence":
            applied = self.board.apply(message, time.monotonic())
            if applied is None:
                return
            ticket_id, changed, new_here = applied
            if changed:
                self._refresh_presence(ticket_id)
            if new_here:  # a newcomer elsewhere learns at once who is already here
                self._announce_local(ticket_id, exclude=str(message.get("conn")))

    def _offer(self, conn: Connection, message: Message) -> None:
        try:
            conn.queue.put_nowait(message)
        except asyncio.QueueFull:  # a peer that reads nothing is dropped, the page reconnects
            conn.queue = asyncio.Queue(QUEUE_LIMIT)
            self._background(conn.socket.close(code=1013, reason="too slow"))

    def _refresh_presence(self, ticket_id: int) -> None:
        for conn in self.connections:
            if conn.ticket_id == ticket_id:
                self._offer(conn, {"type": "presence_refresh"})

    def _announce_local(self, ticket_id: int, *, exclude: str) -> None:
        for conn in self.connections:
            if conn.ticket_id == ticket_id and conn.key != exclude:
                self._publish_presence(conn, "viewing")

    def _publish_presence(self, conn: Connection, state: str) -> None:
        message = {
            "type": "presence",
            "ticket_id": conn.ticket_id,
            "conn": conn.key,
            "agent_id": conn.agent.id,
            "name": conn.agent.name,
            "state": state,
        }
        self.publisher.publish(message)  # only queues (or, in memory, hands over to this loop)

    def _background(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            for ticket_id in self.board.sweep(time.monotonic()):
                self._refresh_presence(ticket_id)

    # -- one connection -----------------------------------------------------------------------

    def connection(
        self,
        socket: WebSocket[Any, Any, Any],
        agent: Agent,
        cookie: str,
        params: dict[str, str],
    ) -> Connection:
        """What the socket asks to follow, checked against what the agent may see."""
        csrf = socket.cookies.get(cookie_name(self.settings, CSRF_COOKIE), "")
        csrf_input = Markup('<input type="hidden" name="_csrf_token" value="{}">').format(csrf)
        key = f"{self.process_key}:{next(self._numbers)}"
        prefix = self.settings.reference_prefix
        with self.db.reading() as session:
            viewer = viewer_for(session, agent)
            conn = Connection(socket, agent, viewer, cookie, csrf_input, key)
            if params.get("ticket"):
                ticket = find_ticket(session, params["ticket"], prefix)
                if visible(session, viewer, ticket.id or 0) is None:
                    raise PermissionError("not this agent's ticket")
                conn.ticket_id, conn.reference = ticket.id, ticket.reference
            else:
                conn.filters = TicketFilters(
                    **{k: v for k, v in params.items() if k in FILTER_FIELDS and v}
                )
                page = list_tickets(
                    session, prefix=prefix, filters=conn.filters, viewer=viewer, limit=INBOX_ROWS
                )
                conn.shown = {row.ticket.id or 0 for row in page.rows}
        return conn

    async def serve(self, conn: Connection, expires_at: float) -> None:
        self.connections.add(conn)
        if conn.ticket_id is not None:
            self._publish_presence(conn, "viewing")
        tasks = [
            asyncio.ensure_future(self._receive(conn)),
            asyncio.ensure_future(self._send(conn)),
            asyncio.ensure_future(self._watch_session(conn, expires_at)),
        ]
        if conn.filters is not None:
            tasks.append(asyncio.ensure_future(self._send_counts(conn)))
        try:
            done, _pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                error = None if task.cancelled() else task.exception()
                if error is not None and not isinstance(error, WebSocketDisconnect):
                    log.warning("live connection ended: %r", error)
        finally:
            for task in tasks:
                task.cancel()
            self.connections.discard(conn)
            if conn.ticket_id is not None:
                self._publish_presence(conn, "left")
            with contextlib.suppress(Exception):
                await conn.socket.close()

    async def _receive(self, conn: Connection) -> None:
        """Small, few messages: ``{"type": "viewing"}`` (a heartbeat) or ``{"type": "typing"}``."""
        async for text in paced_messages(conn.socket):
            try:
                kind = json.loads(text).get("type")
            except (ValueError, AttributeError):
                continue
            if conn.ticket_id is not None and kind in ("viewing", "typing"):
                self._publish_presence(conn, kind)

    async def _send(self, conn: Connection) -> None:
        """What waits for the connection, in batches: each changed ticket rendered once, all
        of them in one read."""
        while True:
            batch = [await conn.queue.get()]
            while not conn.queue.empty() and len(batch) < SEND_BATCH:
                batch.append(conn.queue.get_nowait())
            if any(m.get("type") == "presence_refresh" for m in batch):
                await conn.socket.send_text(self.render_presence(conn))
            tickets = merged(batch)
            if not tickets:
                continue
            for html in await anyio.to_thread.run_sync(self.render_tickets, conn, tickets):
                await conn.socket.send_text(html)
            if conn.filters is not None:
                # Tickets changed: the counts follow their rows, and the event is set here,
                # on the event loop's thread (asyncio's events are not thread-safe).
                conn.counts_due.set()

    async def _send_counts(self, conn: Connection) -> None:
        """The view counts, at most every ``COUNTS_EVERY_SECONDS`` after tickets changed, and
        only when one of them moved."""
        while True:
            await conn.counts_due.wait()
            conn.counts_due.clear()
            html = await anyio.to_thread.run_sync(self.render_counts, conn)
            if html is not None:
                await conn.socket.send_text(html)
            await asyncio.sleep(COUNTS_EVERY_SECONDS)

    async def _watch_session(self, conn: Connection, expires_at: float) -> None:
        """Sign-out anywhere (or the session's end) closes the socket within seconds."""
        while True:
            await asyncio.sleep(max(0.0, min(SESSION_CHECK_SECONDS, expires_at - time.time())))
            found = await anyio.to_thread.run_sync(agent_for_session, self.db, conn.cookie)
            if found is None or second_factor_pending(*found):
                await conn.socket.close(code=SIGNED_OUT, reason="signed out")
                return
            expires_at = found[1].expires_at.timestamp()

    # -- rendering ----------------------------------------------------------------------------

    def _render(self, name: str, context: dict[str, Any]) -> str:
        template = self.templates.get_template(name)
        rendered: str = template.render(**context)
        return rendered

    def render_tickets(self, conn: Connection, messages: list[Message]) -> list[str]:
        """The fragments for these changed tickets (one message each), read in one session."""
        prefix = self.settings.reference_prefix
        with self.db.reading() as session:
            if conn.filters is not None:
                ids = [int(m["ticket_id"]) for m in messages]
                rows = rows_of(session, prefix, conn, ids)
                found = [
                    self._inbox_update(session, conn, m, rows.get(int(m["ticket_id"])))
                    for m in messages
                ]
                return [html for html in found if html]
            # A ticket's page: its own ticket's new messages (``_route`` offers no other).
            for message in messages:
                added = [m for m in message.get("messages") or [] if isinstance(m, int)]
                if conn.ticket_id != message["ticket_id"] or not added:
                    continue
                if visible(session, conn.viewer, conn.ticket_id or 0) is None:
                    return []
                html = self._timeline_entries(session, prefix, conn, added)
                return [html] if html else []
        return []

    def _inbox_update(
        self, session: Session, conn: Connection, message: Message, row: TicketRow | None
    ) -> str | None:
        assert conn.filters is not None
        ticket_id = int(message["ticket_id"])
        if row is None:
            if ticket_id not in conn.shown:
                return None
            conn.shown.discard(ticket_id)
            gone = session.get(Ticket, ticket_id)
            return (
                f'<tr id="ticket-row-{escape(gone.reference)}" hx-swap-oob="delete"></tr>'
                if gone
                else None
            )
        moves_to_top = message.get("kind") == "created" or conn.filters.sort == "updated"
        if not moves_to_top and ticket_id not in conn.shown:
            return None  # its place in this order is unknown here; a reload shows it
        context = {
            "page": TicketPage(rows=[row], next_cursor=None),
            "query": "",
            "live_swap": None if moves_to_top else "true",
        }
        html = self._render("partials/ticket_rows.html", context)
        conn.shown.add(ticket_id)
        if moves_to_top:  # live.js removes the row's old copy, wherever it was
            return f'<tbody hx-swap-oob="afterbegin:#ticket-rows">{html}</tbody>'
        return html

    def _timeline_entries(
        self, session: Session, prefix: str, conn: Connection, message_ids: list[int]
    ) -> str | None:
        detail = ticket_detail(session, conn.reference, prefix)
        context = {
            "d": detail,
            "ws": workspace_for(session, conn.agent, detail.ticket),
            "agent": conn.agent,
            "csrf_input": conn.csrf_input,
        }
        timeline = self._render("partials/timeline.html", context)
        entries = {m: element_by_id(timeline, f"message-{m}") for m in message_ids}
        shown = [m for m, entry in entries.items() if entry]
        if not shown:
            return None
        found = "".join(entries[m] or "" for m in shown)
        # What the agent sees arrive is seen: a reply written now is not refused as written
        # before it (a chat would refuse every answer the visitor wrote on top of).
        seen = (
            f'<input type="hidden" id="seen-message-id" name="seen_message_id"'
            f' value="{max(shown)}" hx-swap-oob="true">'
        )
        return f'<ol hx-swap-oob="beforeend:#timeline > ol.timeline">{found}</ol>{seen}'

    def render_counts(self, conn: Connection) -> str | None:
        """The sidebar's counts, or None when they are what the list shows already (most
        changes move no count: a message on an open ticket)."""
        assert conn.filters is not None
        query = urlencode(conn.filters.params())
        with self.db.reading() as session:
            views = view_counts(
                session,
                conn.viewer,
                prefix=self.settings.reference_prefix,
                names=self._desk_names(session),
            )
        if views == conn.counts_shown:
            return None
        conn.counts_shown = views
        html = self._render(
            "partials/view_counts.html",
            {
                "views": views,
                "current": "/tickets" + (f"?{query}" if query else ""),
                "csrf_input": conn.csrf_input,
            },
        )
        return f'<aside id="view-counts" hx-swap-oob="innerHTML">{html}</aside>'

    def _desk_names(self, session: Session) -> DeskNames:
        now = time.monotonic()
        kept = self._names
        if kept is None or now - kept[0] > NAMES_FOR_SECONDS:
            kept = self._names = (now, desk_names(session))
        return kept[1]

    def render_presence(self, conn: Connection) -> str:
        others = self.board.others(conn.ticket_id or 0, conn.agent.id or 0, time.monotonic())
        return self._render("partials/presence.html", {"others": others, "presence_push": True})
