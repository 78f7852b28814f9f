"""Teams, for administrators: adding and renaming them; who is in which team is set on each
agent's page (``/admin/agents/{id}``)."""

from __future__ import annotations

from typing import Any

from litestar import Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from inbox.actions.staff import access_team, create_team, rename_team
from inbox.db import Database
from inbox.errors import DomainError
from inbox.queries.staff import list_team_rows
from inbox.web.admin.layout import AdminController, AdminRequest
from inbox.web.forms import FormBody, status_of


class TeamAdminPages(AdminController):
    path = "/admin/teams"

    @get("/", sync_to_thread=True)
    def teams(self, request: AdminRequest, db: NamedDependency[Database]) -> Template:
        return self._page(request, db)

    @post("/", sync_to_thread=True)
    def create(
        self, request: AdminRequest, db: NamedDependency[Database], data: FormBody
    ) -> Response[Any]:
        try:
            with db.unit_of_work() as session:
                create_team(session, name=data.get("name", ""), actor=request.user)
        except DomainError as exc:
            return self._page(request, db, error=exc, form=data)
        return Redirect("/admin/teams", status_code=303)

    @post("/{team_id:int}/rename", sync_to_thread=True)
    def rename(
        self,
        request: AdminRequest,
        team_id: FromPath[int],
        db: NamedDependency[Database],
        data: FormBody,
    ) -> Response[Any]:
        try:
            with db.unit_of_work() as session:
                team = access_team(session, team_id)
                rename_team(session, team, name=data.get("name", ""), actor=request.user)
        except DomainError as exc:
            return self._page(request, db, error=exc)
        return Redirect("/admin/teams", status_code=303)

    def _page(
        self,
        request: AdminRequest,
        db: Database,
        *,
        error: DomainError | None = None,
        form: dict[str, str] | None = None,
    ) -> Template:
        with db.reading() as session:
            rows = list_team_rows(session)
        return Template(
            "pages/admin/teams.html",
            context={
                "teams": rows,
                "agent": request.user,
                "error": str(error) if error else None,
                "form": form or {},
            },
            status_code=status_of(error) if error else 200,
        )
