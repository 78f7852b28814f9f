"""Administration of agents and the audit log: role admin only, everything else answers 403."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from inbox.actions.signin.agents import (
    access_agent,
    check_admin,
    set_unlock_permission,
    unlock_agent,
)
from inbox.actions.signin.two_factor import reset_two_factor
from inbox.actions.tickets import add_status
from inbox.db import Database
from inbox.errors import DomainError
from inbox.models import STATUS_CATEGORIES, Agent
from inbox.queries.agent_admin import audit_page, list_agents
from inbox.queries.views import list_statuses
from inbox.web.auth import Credentials, browser_session_only, reverify_first
from inbox.web.common import FormBody, status_of

AdminRequest = Request[Agent, Credentials, Any]


def admin_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    check_admin(connection.user)


class AdminPages(Controller):
    path = "/admin"
    guards = [browser_session_only, admin_only]
    include_in_schema = False

    @get("/statuses", sync_to_thread=True)
    def statuses(self, request: AdminRequest, db: NamedDependency[Database]) -> Template:
        return self._statuses_page(request, db)

    @post("/statuses", sync_to_thread=True)
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

    @get("/agents", sync_to_thread=True)
    def agents(self, request: AdminRequest, db: NamedDependency[Database]) -> Template:
        with db.reading() as session:
            rows = list_agents(session)
        return Template("pages/admin/agents.html", context={"agents": rows, "agent": request.user})

    @post("/agents/{agent_id:int}/unlock", sync_to_thread=True)
    def unlock(
        self, request: AdminRequest, agent_id: FromPath[int], db: NamedDependency[Database]
    ) -> Redirect:
        with db.unit_of_work() as session:
            target = access_agent(session, agent_id)
            unlock_agent(session, email=target.email, actor=request.user)
        return Redirect("/admin/agents", status_code=303)

    @post("/agents/{agent_id:int}/two-factor/reset", sync_to_thread=True)
    def reset_two_factor(
        self, request: AdminRequest, agent_id: FromPath[int], db: NamedDependency[Database]
    ) -> Response[Any]:
        """Needs a fresh second factor: this is how an attacker would take over an account."""
        if reverify := reverify_first(request, "/admin/agents"):
            return reverify
        with db.unit_of_work() as session:
            reset_two_factor(session, access_agent(session, agent_id), actor=request.user)
        return Redirect("/admin/agents", status_code=303)

    @post("/agents/{agent_id:int}/unlock-permission", sync_to_thread=True)
    def unlock_permission(
        self,
        request: AdminRequest,
        agent_id: FromPath[int],
        db: NamedDependency[Database],
        data: FormBody,
    ) -> Response[Any]:
        if reverify := reverify_first(request, "/admin/agents"):
            return reverify
        with db.unit_of_work() as session:
            set_unlock_permission(
                session,
                access_agent(session, agent_id),
                allowed=data.get("allowed") == "yes",
                actor=request.user,
            )
        return Redirect("/admin/agents", status_code=303)

    @get("/audit", sync_to_thread=True)
    def audit(
        self,
        request: AdminRequest,
        db: NamedDependency[Database],
        action: FromQuery[str | None] = None,
        before: FromQuery[int | None] = None,
    ) -> Template:
        with db.reading() as session:
            page = audit_page(session, action=action or None, before=before)
        return Template(
            "pages/admin/audit.html",
            context={"page": page, "action": action or "", "agent": request.user},
        )
