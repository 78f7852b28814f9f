"""Macros and canned responses, defined by managers and administrators."""

from __future__ import annotations

from typing import Any

from litestar import Response, get, post
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromPath
from litestar.response import Redirect, Template

from inbox.actions.macros import (
    MacroFields,
    check_can_manage_macros,
    create_macro,
    delete_macro,
    update_macro,
)
from inbox.db import Database
from inbox.errors import DomainError, NotFound
from inbox.queries.views import status_names
from inbox.queries.workspace import list_macros
from inbox.web.admin.layout import AdminController, AdminRequest
from inbox.web.auth import browser_session_only
from inbox.web.forms import FormBody, split_words, status_of


def managers_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    check_can_manage_macros(connection.user)


def _macro_fields(data: dict[str, str]) -> MacroFields:
    return MacroFields(
        name=data.get("name", ""),
        body=data.get("body", ""),
        set_status=data.get("set_status") or None,
        set_priority=data.get("set_priority") or None,
        add_tags=tuple(split_words(data.get("add_tags", ""))),
    )


class MacroAdminPages(AdminController):
    """Managers and administrators define macros and canned responses; others get 403."""

    path = "/admin/macros"
    guards = [browser_session_only, managers_only]

    def _page(
        self,
        request: AdminRequest,
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
    def index(self, request: AdminRequest, db: NamedDependency[Database]) -> Template:
        return self._page(request, db)

    @post("/", sync_to_thread=True)
    def create(
        self, request: AdminRequest, db: NamedDependency[Database], data: FormBody
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
        request: AdminRequest,
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
        request: AdminRequest,
        macro_id: FromPath[int],
        db: NamedDependency[Database],
    ) -> Redirect:
        with db.unit_of_work() as session:
            delete_macro(session, actor=request.user, macro_id=macro_id)
        return Redirect("/admin/macros", status_code=303)
