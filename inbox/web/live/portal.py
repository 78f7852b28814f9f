"""The portal's live socket, ``/portal/live``: a customer's open portal page (one of their
requests, or the list of them) shows the desk's replies and status changes without a reload.

Every commit that touches a ticket is published as ids (``inbox.realtime.publish``), and every
web process hears them on the desk's channel, in memory or through Redis or PostgreSQL. A
process with a portal socket of that ticket's customer reads what changed and renders the
partials the pages render (``templates/partials/portal_*.html``), as htmx out-of-band swaps
for the ``ws`` extension: new messages a customer may see (never internal notes, call notes or
system events), the status as customers read it, the list's row of the ticket.

A socket belongs to a portal session: its cookie, from a page of the desk's own origin, read
before the upgrade. Before anything is pushed the session is read again and the ticket
checked to be that customer's; signing out, or the session's end, closes the socket within
seconds (4401). Nothing of one customer's tickets is ever rendered for another's socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

import anyio
from litestar import WebSocket, websocket
from litestar.channels import ChannelsPlugin, Subscriber
from litestar.di import NamedDependency
from litestar.exceptions import WebSocketDisconnect

from inbox.db import Database
from inbox.errors import NotFound
from inbox.queries.portal import (
    PortalCustomer,
    PortalTicketRow,
    customer_ticket,
    customer_tickets,
    own_ticket_by_id,
    portal_customer,
    portal_messages,
    portal_row,
    ticket_owner,
)
from inbox.realtime.publish import Message, channel_name, decode
from inbox.settings import Settings
from inbox.web.auth import PUBLIC
from inbox.web.live.connections import merged, paced_messages
from inbox.web.live.socket import origin_allowed
from inbox.web.live.updates import (
    FORBIDDEN,
    NOT_FOUND,
    RESTARTING,
    SEND_BATCH,
    SESSION_CHECK_SECONDS,
    SIGNED_OUT,
)
from inbox.web.portal import portal_cookie_name

log = logging.getLogger(__name__)

QUEUE_LIMIT = 200  # changes waiting for one socket; a reader slower than that is closed


@dataclass(eq=False)
class PortalConnection:
    """One customer's socket, and what its page shows."""

    socket: WebSocket[Any, Any, Any]
    token: str  # the portal session's cookie, read again before every push
    customer: PortalCustomer
    ticket_id: int | None = None  # one request's page; None: the list of requests
    # The status category the page shows, per ticket reference: a change that leaves it and
    # adds nothing the customer may read (an internal note) sends nothing.
    statuses: dict[str, str] = field(default_factory=dict)
    queue: asyncio.Queue[Message] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))


class PortalSignedOut(Exception):
    """The portal session behind a socket has ended."""


class PortalLive:
    """The portal's sockets connected to this web process, and what it hears for them."""

    def __init__(self, channels: ChannelsPlugin, db: Database, settings: Settings) -> None:
        self.channels = channels
        self.channel = channel_name(settings.realtime_url)
        self.db = db
        self.settings = settings
        self.connections: set[PortalConnection] = set()
        self.templates: Any = None
        self._subscriber: Subscriber | None = None
        self._listener: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Future[Any]] = set()

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self, app: Any) -> None:
        """After the channels plugin has started (lifespan managers come before hooks)."""
        self.templates = app.template_engine
        self._subscriber = await self.channels.subscribe(self.channel)
        self._listener = asyncio.get_running_loop().create_task(self._listen(self._subscriber))

    async def stop(self, app: Any) -> None:
        if self._listener is not None:
            self._listener.cancel()
        if self._subscriber is not None:
            with contextlib.suppress(Exception):
                await self.channels.unsubscribe(self._subscriber)
        for conn in list(self.connections):
            with contextlib.suppress(Exception):
                await conn.socket.close(code=RESTARTING, reason="restarting")

    # -- routing what the channel carries -------------------------------------------------------

    async def _listen(self, subscriber: Subscriber) -> None:
        async for payload in subscriber.iter_events():
            message = decode(payload)
            if message is None or message.get("type") != "ticket" or not self.connections:
                continue
            ticket_id = message.get("ticket_id")
            if not isinstance(ticket_id, int):
                continue
            try:
                owner = await anyio.to_thread.run_sync(self._owner, ticket_id)
            except Exception:
                log.exception("portal live update failed")
                continue
            for conn in list(self.connections):
                if owner in conn.customer.customer_ids and conn.ticket_id in (None, ticket_id):
                    self._offer(conn, message)

    def _owner(self, ticket_id: int) -> int | None:
        with self.db.reading() as session:
            return ticket_owner(session, ticket_id)

    def _offer(self, conn: PortalConnection, message: Message) -> None:
        try:
            conn.queue.put_nowait(message)
        except asyncio.QueueFull:  # a reader that takes nothing is let go; the page reconnects
            conn.queue = asyncio.Queue(QUEUE_LIMIT)
            task = asyncio.ensure_future(conn.socket.close(code=1013, reason="too slow"))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    # -- one socket -----------------------------------------------------------------------------

    def connection(
        self, socket: WebSocket[Any, Any, Any], token: str, reference: str
    ) -> PortalConnection:
        """What the page asks to follow: one of the customer's requests (NotFound, as for a
        reference that does not exist, when it is someone else's) or the list of them."""
        with self.db.reading() as session:
            customer = portal_customer(session, token)
            if customer is None:
                raise PortalSignedOut
            conn = PortalConnection(socket, token, customer)
            if reference:
                ticket = customer_ticket(
                    session, customer, reference, self.settings.reference_prefix
                )
                conn.ticket_id = ticket.id
                conn.statuses[ticket.reference] = ticket.status_category
            else:
                for row in customer_tickets(session, customer):
                    conn.statuses[row.reference] = row.status_category
        return conn

    async def serve(self, conn: PortalConnection) -> None:
        self.connections.add(conn)
        tasks = [
            asyncio.ensure_future(self._receive(conn)),
            asyncio.ensure_future(self._send(conn)),
            asyncio.ensure_future(self._watch_session(conn)),
        ]
        try:
            done, _pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                error = None if task.cancelled() else task.exception()
                if error is not None and not isinstance(error, WebSocketDisconnect):
                    log.warning("portal live connection ended: %r", error)
        finally:
            for task in tasks:
                task.cancel()
            self.connections.discard(conn)
            with contextlib.suppress(Exception):
                await conn.socket.close()

    async def _receive(self, conn: PortalConnection) -> None:
        """The page sends nothing it needs to; a client that floods or sends big messages
        is closed."""
        async for _text in paced_messages(conn.socket):
            pass

    async def _send(self, conn: PortalConnection) -> None:
        """What waits for the socket, in batches: each changed ticket read once."""
        while True:
            batch = [await conn.queue.get()]
            while not conn.queue.empty() and len(batch) < SEND_BATCH:
                batch.append(conn.queue.get_nowait())
            try:
                html = await anyio.to_thread.run_sync(self.render, conn, merged(batch))
            except PortalSignedOut:
                await conn.socket.close(code=SIGNED_OUT, reason="signed out")
                return
            if html:
                await conn.socket.send_text(html)

    async def _watch_session(self, conn: PortalConnection) -> None:
        """Sign-out anywhere (or the session's end) closes the socket within seconds; a
        customer merged into another meanwhile hears of the tickets of both."""
        while True:
            await asyncio.sleep(SESSION_CHECK_SECONDS)
            customer = await anyio.to_thread.run_sync(self._customer, conn.token)
            if customer is None:
                await conn.socket.close(code=SIGNED_OUT, reason="signed out")
                return
            conn.customer = customer

    def _customer(self, token: str) -> PortalCustomer | None:
        with self.db.reading() as session:
            return portal_customer(session, token)

    # -- rendering ------------------------------------------------------------------------------

    def render(self, conn: PortalConnection, messages: list[Message]) -> str:
        """The pushes for these changed tickets (one message each), checked against the
        session as it is now: PortalSignedOut once it has ended. Empty when nothing the page
        shows changed."""
        rows: list[PortalTicketRow] = []
        context: dict[str, Any] = {"messages": [], "status_ticket": None, "tickets": rows}
        with self.db.reading() as session:
            customer = portal_customer(session, conn.token)
            if customer is None:
                raise PortalSignedOut
            conn.customer = customer
            for message in messages:
                ticket = own_ticket_by_id(session, customer, int(message["ticket_id"]))
                if ticket is None or conn.ticket_id not in (None, ticket.id):
                    continue
                added = [m for m in message.get("messages") or [] if isinstance(m, int)]
                readable = portal_messages(session, ticket, added) if added else []
                row = portal_row(ticket)
                moved = conn.statuses.get(row.reference) != row.status_category
                conn.statuses[row.reference] = row.status_category
                if conn.ticket_id is not None:
                    context["messages"] += readable
                    context["status_ticket"] = row if moved else context["status_ticket"]
                elif readable or moved:
                    rows.append(row)
        rows.sort(key=lambda r: r.updated_at, reverse=True)
        if not (context["messages"] or context["status_ticket"] or rows):
            return ""
        html: str = self.templates.get_template("partials/portal_push.html").render(**context)
        return html.strip()


@websocket("/portal/live", opt=PUBLIC)
async def portal_live_socket(
    socket: WebSocket[Any, Any, Any], settings: NamedDependency[Settings]
) -> None:
    """Refused (403, before the upgrade) without a live portal session, from another site's
    page, or for a ticket that is not the customer's; ``?ticket=`` follows one request."""
    live: PortalLive = socket.app.state.portal_live
    token = socket.cookies.get(portal_cookie_name(settings), "")
    if not origin_allowed(socket.headers.get("origin"), settings.base_url):
        await socket.close(code=FORBIDDEN, reason="origin")
        return
    if not token:
        await socket.close(code=SIGNED_OUT, reason="sign in to the portal")
        return
    reference = str(socket.query_params.get("ticket") or "")[:64]
    try:
        conn = await anyio.to_thread.run_sync(live.connection, socket, token, reference)
    except PortalSignedOut:
        await socket.close(code=SIGNED_OUT, reason="sign in to the portal")
        return
    except NotFound:
        await socket.close(code=NOT_FOUND, reason="nothing to follow")
        return
    await socket.accept()
    await live.serve(conn)
