"""A ``/live`` connection and what decides what it is sent: the rows of the changed tickets its
inbox list includes (one query for a batch), whether its list could include a ticket at all
(``could_list``, from the ticket's assignee and team), and a batch of changes merged to one per
ticket. ``inbox.web.live.updates`` routes and renders with these."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from litestar import WebSocket
from markupsafe import Markup
from sqlmodel import Session, col, select

from inbox.models import Agent, Ticket
from inbox.queries.tickets import (
    TicketFilters,
    TicketRow,
    Viewer,
    row_select,
    scope_clause,
    ticket_conditions,
    ticket_rows,
)
from inbox.queries.views import ViewGroups
from inbox.realtime.publish import Message

QUEUE_LIMIT = 1000
POLICY = 1008
TOO_BIG = 1009
MAX_CLIENT_MESSAGE = 4096
BURST = 10  # messages at once
REFILL_PER_SECOND = 1.0


async def paced_messages(socket: WebSocket[Any, Any, Any]) -> AsyncIterator[str]:
    """What a page sends on its live socket: small messages, a few at a time. A client that
    sends a big one, or floods, is closed and the iteration ends."""
    tokens, last = float(BURST), time.monotonic()
    while True:
        text = await socket.receive_text()
        if len(text) > MAX_CLIENT_MESSAGE:
            await socket.close(code=TOO_BIG, reason="message too big")
            return
        now = time.monotonic()
        tokens = min(float(BURST), tokens + (now - last) * REFILL_PER_SECOND)
        last = now
        if tokens < 1:
            await socket.close(code=POLICY, reason="too many messages")
            return
        tokens -= 1
        yield text


@dataclass(eq=False)
class Connection:
    """One agent's socket, and what its page shows."""

    socket: WebSocket[Any, Any, Any]
    agent: Agent
    viewer: Viewer
    cookie: str
    csrf_input: Markup
    key: str
    filters: TicketFilters | None = None  # the inbox list, with these filters
    ticket_id: int | None = None  # or one ticket's page
    reference: str = ""
    shown: set[int] = field(default_factory=set)
    queue: asyncio.Queue[Message] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    counts_due: asyncio.Event = field(default_factory=asyncio.Event)
    counts_shown: ViewGroups | None = None  # the sidebar's counts last sent


def rows_of(
    session: Session, prefix: str, conn: Connection, ticket_ids: list[int]
) -> dict[int, TicketRow]:
    """The inbox rows of these tickets that this agent's list (scope and filters) includes,
    in one query."""
    assert conn.filters is not None
    conditions = ticket_conditions(session, prefix=prefix, filters=conn.filters, viewer=conn.viewer)
    reader = conn.viewer.agent_id
    query = row_select(reader).where(col(Ticket.id).in_(ticket_ids), *conditions)
    return {row.ticket.id or 0: row for row in ticket_rows(session, query)}


def could_list(conn: Connection, assignee_id: int | None, team_id: int | None) -> bool:
    """Whether the connection's list might include a ticket with this assignee and team: False
    only when its scope or view rules the ticket out (the query decides the rest)."""
    assert conn.filters is not None
    viewer = conn.viewer
    in_scope = (
        viewer.sees_everything
        or team_id is None
        or team_id in viewer.team_ids
        or assignee_id == viewer.agent_id
    )
    if not in_scope:
        return False
    if conn.filters.view == "mine":
        return assignee_id == viewer.agent_id
    if conn.filters.view == "unassigned":
        return assignee_id is None
    return True


def merged(messages: list[Message]) -> list[Message]:
    """Ticket messages waiting for one connection, one per ticket in the order they came: a
    busy desk renders each changed ticket once per batch, not once per change."""
    by_ticket: dict[int, Message] = {}
    for message in messages:
        ticket_id = message.get("ticket_id")
        if not isinstance(ticket_id, int):
            continue
        known = by_ticket.get(ticket_id)
        if known is None:
            by_ticket[ticket_id] = {**message, "messages": list(message.get("messages") or [])}
            continue
        if message.get("kind") == "created":
            known["kind"] = "created"
        known["messages"] += [
            m for m in message.get("messages") or [] if m not in known["messages"]
        ]
    return list(by_ticket.values())


def visible(session: Session, viewer: Viewer, ticket_id: int) -> Ticket | None:
    query = select(Ticket).where(col(Ticket.id) == ticket_id)
    scope = scope_clause(viewer)
    if scope is not None:
        query = query.where(scope)
    return session.exec(query).first()
