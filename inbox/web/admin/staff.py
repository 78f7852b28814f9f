"""Agents' settings, for administrators: adding an agent, and each agent's role, teams and
whether they may sign in at all. The list, sign-in lockouts and second factors are on
``/admin/agents`` itself (``agents.py``).

Adding an agent and changing a role give privileges: like the other privilege changes, they
need a second factor proved just before.
"""

from __future__ import annotations

from typing import Any

from litestar import Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from inbox.actions.signin.agents import access_agent, create_agent
from inbox.actions.staff import set_agent_active, set_agent_role, set_agent_teams
from inbox.db import Database
from inbox.errors import DomainError, NotFound
from inbox.models import ROLES
from inbox.queries.staff import list_team_rows, staff_agents
from inbox.web.admin.layout import AdminController, AdminRequest
from inbox.web.auth import reverify_first
from inbox.web.forms import MultiForm, form_value, form_values, status_of


class AgentSettingsPages(AdminController):
    path = "/admin/agents"

    @get("/new", sync_to_thread=True)
    def new_agent(self, request: AdminRequest, db: NamedDependency[Database]) -> Template:
        return self._new_page(request, db)

    @post("/new", sync_to_thread=True)
    def create(
        self, request: AdminRequest, db: NamedDependency[Database], data: MultiForm
    ) -> Response[Any]:
        if reverify := reverify_first(request, "/admin/agents/new"):
            return reverify
        try:
            with db.unit_of_work() as session:
                agent = create_agent(
                    session,
                    email=form_value(data, "email"),
                    name=form_value(data, "name"),
                    role=form_value(data, "role"),
                    password=form_value(data, "password"),
                    actor=request.user,
                )
                team_ids = [int(t) for t in form_values(data, "team_ids") if t.isdigit()]
                if team_ids:
                    set_agent_teams(session, agent, team_ids, actor=request.user)
        except DomainError as exc:
            form = {k: v for k, v in data.items() if k != "password"}
            return self._new_page(request, db, error=exc, form=form)
        return Redirect(f"/admin/agents/{agent.id}", status_code=303)

    @get("/{agent_id:int}", sync_to_thread=True)
    def settings(
        self, request: AdminRequest, agent_id: FromPath[int], db: NamedDependency[Database]
    ) -> Template:
        return self._agent_page(request, db, agent_id)

    @post("/{agent_id:int}/role", sync_to_thread=True)
    def role(
        self,
        request: AdminRequest,
        agent_id: FromPath[int],
        db: NamedDependency[Database],
        data: MultiForm,
    ) -> Response[Any]:
        if reverify := reverify_first(request, f"/admin/agents/{agent_id}"):
            return reverify
        return self._change(
            request,
            db,
            agent_id,
            lambda session, agent: set_agent_role(
                session, agent, form_value(data, "role"), actor=request.user
            ),
        )

    @post("/{agent_id:int}/active", sync_to_thread=True)
    def active(
        self,
        request: AdminRequest,
        agent_id: FromPath[int],
        db: NamedDependency[Database],
        data: MultiForm,
    ) -> Response[Any]:
        return self._change(
            request,
            db,
            agent_id,
            lambda session, agent: set_agent_active(
                session, agent, form_value(data, "active") == "yes", actor=request.user
            ),
        )

    @post("/{agent_id:int}/teams", sync_to_thread=True)
    def teams(
        self,
        request: AdminRequest,
        agent_id: FromPath[int],
        db: NamedDependency[Database],
        data: MultiForm,
    ) -> Response[Any]:
        team_ids = [int(t) for t in form_values(data, "team_ids") if t.isdigit()]
        return self._change(
            request,
            db,
            agent_id,
            lambda session, agent: set_agent_teams(session, agent, team_ids, actor=request.user),
        )

    def _change(
        self, request: AdminRequest, db: Database, agent_id: int, change: Any
    ) -> Response[Any]:
        try:
            with db.unit_of_work() as session:
                change(session, access_agent(session, agent_id))
        except NotFound:
            raise
        except DomainError as exc:
            return self._agent_page(request, db, agent_id, error=exc)
        return Redirect(f"/admin/agents/{agent_id}", status_code=303)

    def _agent_page(
        self,
        request: AdminRequest,
        db: Database,
        agent_id: int,
        *,
        error: DomainError | None = None,
    ) -> Template:
        with db.reading() as session:
            found = staff_agents(session, agent_id)
            teams = list_team_rows(session)
        if not found:
            raise NotFound("no such agent")
        return Template(
            "pages/admin/agent.html",
            context={
                "person": found[0],
                "teams": teams,
                "roles": ROLES,
                "agent": request.user,
                "error": str(error) if error else None,
            },
            status_code=status_of(error) if error else 200,
        )

    def _new_page(
        self,
        request: AdminRequest,
        db: Database,
        *,
        error: DomainError | None = None,
        form: dict[str, Any] | None = None,
    ) -> Template:
        with db.reading() as session:
            teams = list_team_rows(session)
        return Template(
            "pages/admin/agent_new.html",
            context={
                "teams": teams,
                "roles": ROLES,
                "agent": request.user,
                "error": str(error) if error else None,
                "form": form or {},
            },
            status_code=status_of(error) if error else 200,
        )
