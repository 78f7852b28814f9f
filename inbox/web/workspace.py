"""The agent workspace on the ticket page: properties, macros, merges and splits; the
notifications page; the macro administration; and the merge/split JSON API.

Every form posts with its CSRF token. htmx forms swap ``#ticket`` out of the full page, so one
handler serves both; without JavaScript a form answers with a redirect (or the page, with an
error and its status code).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromPath, JSONBody
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_201_CREATED

from inbox.actions.macros import (
    MacroFields,
    apply_macro,
    check_can_manage_macros,
    create_macro,
    delete_macro,
    update_macro,
)
from inbox.actions.mentions import mark_all_notifications_read, mark_notification_read
from inbox.actions.merge import merge_tickets, split_message, unmerge_ticket
from inbox.actions.tickets import access_ticket, update_ticket
from inbox.db import Database
from inbox.errors import DomainError, InvalidInput, NotFound
from inbox.models import Agent
from inbox.queries.tickets import find_ticket
from inbox.queries.views import status_names
from inbox.queries.workspace import list_macros, notifications_for, unread_notification_count
from inbox.settings import Settings
from inbox.web.auth import browser_session_only
from inbox.web.common import (
    FormBody,
    full_ticket_json,
    only_fields,
    status_of,
    ticket_json,
    ticket_page,
    whole_number,
)


def _tags(text: str) -> list[str]:
    return [t for t in text.replace(",", " ").split() if t]


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
                tags=_tags(data["tags"]) if "tags" in data else None,
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

    @get("/notifications", sync_to_thread=True)
    def notifications(self, request: HTMXRequest, db: NamedDependency[Database]) -> Template:
        with db.reading() as session:
            rows = notifications_for(session, request.user)
        return Template("pages/notifications.html", context={"rows": rows, "agent": request.user})

    @get("/notifications/count", sync_to_thread=True)
    def notification_count(self, request: HTMXRequest, db: NamedDependency[Database]) -> Template:
        """The badge in the navigation, re-fetched by the page."""
        with db.reading() as session:
            count = unread_notification_count(session, request.user)
        return HTMXTemplate(
            template_name="partials/notification_count.html", context={"count": count}
        )

    @post("/notifications/{notification_id:int}/read", sync_to_thread=True)
    def read(
        self,
        request: HTMXRequest,
        notification_id: FromPath[int],
        db: NamedDependency[Database],
    ) -> Redirect:
        with db.unit_of_work() as session:
            mark_notification_read(session, agent=request.user, notification_id=notification_id)
        return Redirect("/notifications", status_code=303)

    @post("/notifications/read-all", sync_to_thread=True)
    def read_all(self, request: HTMXRequest, db: NamedDependency[Database]) -> Redirect:
        with db.unit_of_work() as session:
            mark_all_notifications_read(session, agent=request.user)
        return Redirect("/notifications", status_code=303)


def managers_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    check_can_manage_macros(connection.user)


def _macro_fields(data: dict[str, str]) -> MacroFields:
    return MacroFields(
        name=data.get("name", ""),
        body=data.get("body", ""),
        set_status=data.get("set_status") or None,
        set_priority=data.get("set_priority") or None,
        add_tags=tuple(_tags(data.get("add_tags", ""))),
    )


class MacroAdminPages(Controller):
    """Managers and administrators define macros and canned responses; others get 403."""

    path = "/admin/macros"
    guards = [browser_session_only, managers_only]
    include_in_schema = False

    def _page(
        self,
        request: Request[Agent, Any, Any],
        db: Database,
        *,
        error: str | None = None,
        form: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        with db.reading() as session:
            macros = list_macros(session)
            ws_statuses = status_names(session)
        return Template(
            "pages/admin/macros.html",
            context={
                "macros": macros,
                "statuses": ws_statuses,
                "agent": request.user,
                "error": error,
                "form": form or {},
            },
            status_code=status_code,
        )

    @get("/", sync_to_thread=True)
    def index(self, request: Request[Agent, Any, Any], db: NamedDependency[Database]) -> Template:
        return self._page(request, db)

    @post("/", sync_to_thread=True)
    def create(
        self, request: Request[Agent, Any, Any], db: NamedDependency[Database], data: FormBody
    ) -> Response[Any]:
        try:
            with db.unit_of_work() as session:
                create_macro(session, actor=request.user, fields=_macro_fields(data))
        except DomainError as exc:
            return self._page(request, db, error=str(exc), form=data, status_code=status_of(exc))
        return Redirect("/admin/macros", status_code=303)

    @post("/{macro_id:int}", sync_to_thread=True)
    def update(
        self,
        request: Request[Agent, Any, Any],
        macro_id: FromPath[int],
        db: NamedDependency[Database],
        data: FormBody,
    ) -> Response[Any]:
        try:
            with db.unit_of_work() as session:
                update_macro(
                    session, actor=request.user, macro_id=macro_id, fields=_macro_fields(data)
                )
        except NotFound:
            raise
        except DomainError as exc:
            return self._page(request, db, error=str(exc), status_code=status_of(exc))
        return Redirect("/admin/macros", status_code=303)

    @post("/{macro_id:int}/delete", sync_to_thread=True)
    def delete(
        self,
        request: Request[Agent, Any, Any],
        macro_id: FromPath[int],
        db: NamedDependency[Database],
    ) -> Redirect:
        with db.unit_of_work() as session:
            delete_macro(session, actor=request.user, macro_id=macro_id)
        return Redirect("/admin/macros", status_code=303)


class WorkspaceApi(Controller):
    path = "/api/v1"
    tags = ["tickets"]

    def _both(self, db: Database, settings: Settings, source: str, target: str) -> dict[str, Any]:
        with db.reading() as session:
            prefix = settings.reference_prefix
            return {
                "source": full_ticket_json(session, source, prefix),
                "target": full_ticket_json(session, target, prefix),
            }

    @post("/tickets/{reference:str}/merge", sync_to_thread=True, status_code=200)
    def merge(
        self,
        request: Request[Agent, Any, Any],
        reference: FromPath[str],
        data: JSONBody[Any],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> dict[str, Any]:
        """Merges this ticket into ``into``; answers with both tickets as they are now."""
        body = only_fields(data, {"into"}, {"into"})
        if not isinstance(body["into"], str):
            raise InvalidInput("into must be a reference")
        with db.unit_of_work() as session:
            source = access_ticket(
                session, request.user, reference, settings.reference_prefix, lock=False
            )
            target = find_ticket(session, body["into"], settings.reference_prefix)
            merge_tickets(session, actor=request.user, source=source, target=target)
            names = (source.reference, target.reference)
        return self._both(db, settings, *names)

    @post("/tickets/{reference:str}/unmerge", sync_to_thread=True, status_code=200)
    def unmerge(
        self,
        request: Request[Agent, Any, Any],
        reference: FromPath[str],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        data: JSONBody[Any | None] = None,
    ) -> dict[str, Any]:
        """Undoes the merge that closed this ticket."""
        only_fields(data if data is not None else {}, set())
        with db.unit_of_work() as session:
            source = access_ticket(
                session, request.user, reference, settings.reference_prefix, lock=False
            )
            target = unmerge_ticket(session, actor=request.user, source=source)
            names = (source.reference, target.reference)
        return self._both(db, settings, *names)

    @post("/tickets/{reference:str}/split", sync_to_thread=True, status_code=HTTP_201_CREATED)
    def split(
        self,
        request: Request[Agent, Any, Any],
        reference: FromPath[str],
        data: JSONBody[Any],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> dict[str, Any]:
        """Moves ``message_id`` into a new ticket (``subject`` optional); answers with it."""
        body = only_fields(data, {"message_id", "subject"}, {"message_id"})
        message_id = whole_number(body, "message_id")
        subject = body.get("subject", "")
        if not isinstance(subject, str):
            raise InvalidInput("subject must be a string")
        with db.unit_of_work() as session:
            ticket = access_ticket(session, request.user, reference, settings.reference_prefix)
            new = split_message(
                session,
                actor=request.user,
                ticket=ticket,
                message_id=message_id,
                prefix=settings.reference_prefix,
                subject=subject,
            )
            new_reference = new.reference
        return ticket_json(db, settings, new_reference)
