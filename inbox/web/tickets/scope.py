"""Who may open which ticket, enforced once for every route that names one.

Lists and searches apply the role scope in their queries (``inbox.queries.tickets``);
this guard covers every page and API route that names a ticket directly: by reference,
or through one of its messages or attachments. A ticket outside the agent's scope
answers exactly like one that does not exist.
"""

from __future__ import annotations

from typing import Any

import anyio
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from inbox.db import Database
from inbox.errors import NotFound
from inbox.models import Agent
from inbox.queries.tickets import ticket_hidden_from

NAMING_PARAMS = ("reference", "message_id", "attachment_id")


async def ticket_scope_guard(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    params = {k: v for k, v in connection.path_params.items() if k in NAMING_PARAMS}
    agent = connection.scope.get("user")
    if not params or not isinstance(agent, Agent):
        return
    db: Database = connection.app.state.db
    prefix: str = connection.app.state.settings.reference_prefix
    if await anyio.to_thread.run_sync(_hidden, db, agent, params, prefix):
        raise NotFound("no such ticket")


def _hidden(db: Database, agent: Agent, params: dict[str, Any], prefix: str) -> bool:
    with db.reading() as session:
        if "reference" in params:
            return ticket_hidden_from(
                session, agent, reference=str(params["reference"]), prefix=prefix
            ) or (
                "message_id" in params
                and ticket_hidden_from(session, agent, message_id=int(params["message_id"]))
            )
        if "message_id" in params:
            return ticket_hidden_from(session, agent, message_id=int(params["message_id"]))
        return ticket_hidden_from(session, agent, attachment_id=int(params["attachment_id"]))
