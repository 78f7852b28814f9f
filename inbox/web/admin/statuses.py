"""Statuses, for administrators: agents pick a status, its category says what it means."""

from __future__ import annotations

from typing import Any

from litestar import Response, get, post
from litestar.di import NamedDependency
from litestar.response import Redirect, Template

from inbox.actions.tickets import add_status
from inbox.db import Database
from inbox.errors import DomainError
from inbox.models import STATUS_CATEGORIES
from inbox.queries.views import list_statuses
from inbox.web.admin.layout import AdminController, AdminRequest
from inbox.web.forms import FormBody, status_of


class StatusAdminPages(AdminController):
    path = "/admin/statuses"

    @get("/", sync_to_thread=True)
    def statuses(self, request: AdminRequest, db: NamedDependency[Database]) -> Template:
        return self._statuses_page(request, db)

    @post("/", sync_to_thread=True)
    def create_status(
        self, request: AdminRequest, db: NamedDependency[Database], data: FormBody
    ) -> Response[Any]:
        form = {"name": data.get("name", ""), "category": data.get("category", "")}
        try:
            with db.unit_of_work() as session:
                add_status(
                    session, name=form["name"], category=form["category"], actor=request.user
                )
        except DomainError as exc:
            return self._statuses_page(request, db, error=exc, form=form)
        return Redirect("/admin/statuses", status_code=303)

    def _statuses_page(
        self,
        request: AdminRequest,
        db: Database,
        *,
        error: DomainError | None = None,
        form: dict[str, str] | None = None,
    ) -> Template:
        with db.reading() as session:
            rows = list_statuses(session)
        return Template(
            "pages/admin/statuses.html",
            context={
                "statuses": rows,
                "categories": STATUS_CATEGORIES,
                "agent": request.user,
                "error": str(error) if error else None,
                "form": form or {},
            },
            status_code=status_of(error) if error else 200,
        )
