"""The agent workspace on the ticket page: properties, assigning, macros, merges and splits.

Every form posts with its CSRF token. htmx forms swap ``#ticket`` out of the full page, so one
handler serves both; without JavaScript a form answers with a redirect (or the page, with an
error and its status code).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Controller, Response, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template

from inbox.actions.macros import apply_macro
from inbox.actions.merge import merge_tickets, split_message, unmerge_ticket
from inbox.actions.tickets import access_ticket, update_ticket
from inbox.db import Database
from inbox.errors import DomainError, InvalidInput, NotFound
from inbox.queries.tickets import find_ticket
from inbox.settings import Settings
from inbox.web.forms import FormBody, split_words, status_of
from inbox.web.tickets.page import ticket_page


class WorkspacePages(Controller):
    include_in_schema = False

    def _act(
        self,
        request: HTMXRequest,
        db: Database,
        settings: Settings,
        reference: str,
        act: Any,
        *,
        lock: bool = True,
        answer: Callable[[Any], Response[Any]] | None = None,
    ) -> Response[Any]:
        """Run ``act(session, ticket)`` on the ticket (locked, unless the action locks it with
        another in id order), then show the page it names, or ``answer`` what it returned."""
        try:
            with db.unit_of_work() as session:
                ticket = access_ticket(
                    session, request.user, reference, settings.reference_prefix, lock=lock
                )
                result = act(session, ticket)
                go_to = result or ticket.reference
        except NotFound:
            raise
        except DomainError as exc:
            return ticket_page(
                request, db, settings, reference, status_code=status_of(exc), ws_error=str(exc)
            )
        if answer is not None:
            return answer(result)
        return Redirect(f"/tickets/{go_to}", status_code=303)

    @post("/tickets/{reference:str}/properties", sync_to_thread=True)
    def properties(
        self,
        request: HTMXRequest,
        reference: FromPath[str],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        data: FormBody,
    ) -> Response[Any]:
        def act(session: Any, ticket: Any) -> None:
            update_ticket(
                session,
                ticket,
                actor=request.user,
                status=data.get("status") or None,
                priority=data.get("priority") or None,
                assignee_email=data.get("assignee") or None,
                clear_assignee="assignee" in data and not data["assignee"],
                team=data.get("team") or None,
                clear_team="team" in data and not data["team"],
                tags=split_words(data["tags"]) if "tags" in data else None,
            )

        return self._act(request, db, settings, reference, act)

    @post("/tickets/{reference:str}/assign-to-me", sync_to_thread=True)
    def assign_to_me(
        self,
        request: HTMXRequest,
        reference: FromPath[str],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> Response[Any]:
        def act(session: Any, ticket: Any) -> None:
            update_ticket(session, ticket, actor=request.user, assignee_email=request.user.email)

        return self._act(request, db, settings, reference, act)

    @post("/tickets/{reference:str}/macros", sync_to_thread=True)
    def macro(
        self,
        request: HTMXRequest,
        reference: FromPath[str],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        data: FormBody,
    ) -> Response[Any]:
        """Apply a macro (or insert a canned response): the page comes back with its text added
        to the reply being drafted, which the form sends along."""
        draft = data.get("body", "")
        try:
            macro_id = int(data.get("macro_id", ""))
        except ValueError:
            return ticket_page(
                request, db, settings, reference, status_code=422, ws_error="choose a macro"
            )

        def act(session: Any, ticket: Any) -> str:
            applied = apply_macro(session, actor=request.user, ticket=ticket, macro_id=macro_id)
            return "\n\n".join(part for part in (draft.rstrip(), applied.text) if part)

        def answer(text: str) -> Template:
            return ticket_page(request, db, settings, reference, reply_text=text)

        return self._act(request, db, settings, reference, act, answer=answer)

    @post("/tickets/{reference:str}/merge", sync_to_thread=True)
    def merge(
        self,
        request: HTMXRequest,
        reference: FromPath[str],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        data: FormBody,
    ) -> Response[Any]:
        def act(session: Any, ticket: Any) -> None:
            try:
                target = find_ticket(session, data.get("into", ""), settings.reference_prefix)
            except NotFound as exc:
                raise InvalidInput("no ticket with that reference") from exc
            merge_tickets(session, actor=request.user, source=ticket, target=target)

        return self._act(request, db, settings, reference, act, lock=False)

    @post("/tickets/{reference:str}/unmerge", sync_to_thread=True)
    def unmerge(
        self,
        request: HTMXRequest,
        reference: FromPath[str],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> Response[Any]:
        def act(session: Any, ticket: Any) -> None:
            unmerge_ticket(session, actor=request.user, source=ticket)

        return self._act(request, db, settings, reference, act, lock=False)

    @post("/tickets/{reference:str}/messages/{message_id:int}/split", sync_to_thread=True)
    def split(
        self,
        request: HTMXRequest,
        reference: FromPath[str],
        message_id: FromPath[int],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        data: FormBody,
    ) -> Response[Any]:
        def act(session: Any, ticket: Any) -> str:
            new = split_message(
                session,
                actor=request.user,
                ticket=ticket,
                message_id=message_id,
                prefix=settings.reference_prefix,
                subject=data.get("subject", ""),
            )
            return new.reference

        return self._act(request, db, settings, reference, act)
