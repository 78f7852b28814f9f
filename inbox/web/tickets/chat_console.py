"""``/chats``: the agent's chat console, in the inbox's three panes. Their availability and
limit of chats at once, the chats offered to them, the queues they serve and their own open
chats; taking a chat (it opens in the right pane), ending and passing one on. The page
re-reads its panel every few seconds, and each read tells routing that the agent's console is
there (``inbox.actions.chat.routing.note_console``): a console gone for two minutes counts as
away.
"""

from __future__ import annotations

import json
from typing import Any

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate
from litestar.response import Redirect, Template

from inbox.actions.chat.routing import (
    end_chat,
    note_console,
    set_availability,
    take_chat,
    transfer_chat,
)
from inbox.actions.tickets import access_ticket, can_see_ticket
from inbox.db import Database
from inbox.errors import Conflict, DomainError, InvalidInput, NotFound
from inbox.models import Agent, ChatConversation, Ticket, utcnow
from inbox.queries.chat import newest_conversation
from inbox.queries.chat_queue import console, console_seen_at
from inbox.queries.tickets import viewer_for
from inbox.queries.views import view_counts
from inbox.rules.chat_routing import AVAILABILITY, CONSOLE_STAMP, MAX_LIMIT
from inbox.settings import Settings
from inbox.web.forms import FormBody, status_of


def _context(
    db: Database, agent: Agent, error: str = "", *, prefix: str | None = None
) -> dict[str, Any]:
    """The console's lists; with the desk's reference ``prefix``, the whole page's (the
    sidebar's views and their counts too)."""
    now = utcnow()
    with db.reading() as session:
        seen = console_seen_at(session, agent.id or 0)
    if seen is None or now - seen >= CONSOLE_STAMP:  # a write only every 30 s, not each poll
        with db.unit_of_work() as session:
            note_console(session, agent.id or 0, now=now)
    context: dict[str, Any] = {
        "agent": agent,
        "now": now,
        "statuses": AVAILABILITY,
        "max_limit": MAX_LIMIT,
        "error": error,
        "current": "/chats",
    }
    with db.reading() as session:
        context["console"] = console(session, agent, now)
        if prefix is not None:
            context["views"] = view_counts(session, viewer_for(session, agent), prefix=prefix)
    return context


def _open_in_pane(reference: str) -> Response[Any]:
    """Open the ticket in the page's right pane, as a click on the chat would, and have the
    console read its lists again."""
    target = {"path": f"/tickets/{reference}", "target": "#ticket-pane", "select": "#ticket"}
    headers = {"HX-Location": json.dumps(target), "HX-Trigger": "chats-changed"}
    return Response(content="", headers=headers, status_code=200)


class ChatConsolePages(Controller):
    include_in_schema = False

    @get("/chats", sync_to_thread=True)
    def page(
        self,
        request: HTMXRequest,
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> Template:
        context = _context(db, request.user, prefix=settings.reference_prefix)
        return Template("pages/chats.html", context=context)

    @get("/chats/panel", sync_to_thread=True)
    def panel(self, request: HTMXRequest, db: NamedDependency[Database]) -> Template:
        """The console's lists, re-read by the page."""
        context = {**_context(db, request.user), "panel": True}
        return HTMXTemplate(template_name="partials/chat_console.html", context=context)

    @post("/chats/availability", sync_to_thread=True)
    def availability(
        self,
        request: HTMXRequest,
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        data: FormBody,
    ) -> Response[Any]:
        try:
            limit_text = data.get("limit", "").strip()
            if limit_text and not limit_text.isdigit():
                raise InvalidInput(f"a chat limit is 1 to {MAX_LIMIT}")
            with db.unit_of_work() as session:
                set_availability(
                    session,
                    request.user,
                    now=utcnow(),
                    status=data.get("status") or None,
                    limit=int(limit_text) if limit_text else None,
                )
        except DomainError as exc:
            return self._answer(request, db, str(exc), status_of(exc), settings=settings)
        return self._answer(request, db, settings=settings)

    @post("/chats/{conversation_id:int}/take", sync_to_thread=True)
    def take(
        self,
        request: HTMXRequest,
        conversation_id: FromPath[int],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        data: FormBody,
    ) -> Response[Any]:
        """From the console (``open_in=pane``) the chat opens in the right pane; from the
        ticket, the ticket shows it taken."""
        in_pane = request.htmx and data.get("open_in") == "pane"
        try:
            with db.unit_of_work() as session:
                conversation = session.get(ChatConversation, conversation_id)
                ticket = session.get(Ticket, conversation.ticket_id) if conversation else None
                if ticket is None or not can_see_ticket(session, request.user, ticket):
                    raise NotFound("no such chat")
                take_chat(session, request.user, conversation_id, now=utcnow())
                reference = ticket.reference
        except DomainError as exc:
            return self._answer(request, db, str(exc), status_of(exc), settings=settings)
        if in_pane:
            return _open_in_pane(reference)
        return Redirect(f"/tickets/{reference}", status_code=303)

    @post("/tickets/{reference:str}/chat/end", sync_to_thread=True)
    def end(
        self,
        request: HTMXRequest,
        reference: FromPath[str],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        data: FormBody,
    ) -> Response[Any]:
        """The agent ends the ticket's chat: the visitor hears ``ended``. Back to the console
        when ended from there."""
        with db.unit_of_work() as session:
            ticket = access_ticket(session, request.user, reference, settings.reference_prefix)
            conversation = newest_conversation(session, ticket_id=ticket.id, open_only=True)
            if conversation is not None:
                end_chat(session, conversation, by_label=request.user.name, now=utcnow())
        if data.get("back") == "chats":
            return self._answer(request, db, settings=settings)
        return Redirect(f"/tickets/{reference}", status_code=303)

    @post("/tickets/{reference:str}/chat/transfer", sync_to_thread=True)
    def transfer(
        self,
        request: HTMXRequest,
        reference: FromPath[str],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        data: FormBody,
    ) -> Response[Any]:
        """Pass the ticket's open chat to an agent (``to=agent:ID``) or a team (``team:ID``)."""
        kind, _, number = data.get("to", "").partition(":")
        if kind not in ("agent", "team") or not number.isdigit():
            raise InvalidInput("choose an agent or a team to pass the chat to")
        with db.unit_of_work() as session:
            ticket = access_ticket(session, request.user, reference, settings.reference_prefix)
            conversation = newest_conversation(session, ticket_id=ticket.id, open_only=True)
            if conversation is None:
                raise Conflict("this ticket has no open chat")
            transfer_chat(
                session,
                request.user,
                conversation.id or 0,
                now=utcnow(),
                to_agent_id=int(number) if kind == "agent" else None,
                to_team_id=int(number) if kind == "team" else None,
            )
        return Redirect(f"/tickets/{reference}", status_code=303)

    def _answer(
        self,
        request: HTMXRequest,
        db: Database,
        error: str = "",
        status: int = 200,
        *,
        settings: Settings,
    ) -> Response[Any]:
        """The console's lists again for htmx (with 200, or htmx would swap nothing); without
        JavaScript, the page with the error or a redirect to it."""
        if request.htmx:
            context = {**_context(db, request.user, error), "panel": True}
            return HTMXTemplate(template_name="partials/chat_console.html", context=context)
        if error:
            context = _context(db, request.user, error, prefix=settings.reference_prefix)
            return Template("pages/chats.html", context=context, status_code=status)
        return Redirect("/chats", status_code=303)
