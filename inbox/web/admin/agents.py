"""Agents, for administrators: unlocking a sign-in, resetting a second factor, and who may
unlock customer accounts. The last two need a second factor proved just before."""

from __future__ import annotations

from typing import Any

from litestar import Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from inbox.actions.signin.agents import access_agent, set_unlock_permission, unlock_agent
from inbox.actions.signin.two_factor import reset_two_factor
from inbox.db import Database
from inbox.queries.agent_admin import list_agents
from inbox.web.admin.layout import AdminController, AdminRequest
from inbox.web.auth import reverify_first
from inbox.web.forms import FormBody


class AgentAdminPages(AdminController):
    path = "/admin/agents"

    @get("/", sync_to_thread=True)
    def agents(self, request: AdminRequest, db: NamedDependency[Database]) -> Template:
        with db.reading() as session:
            rows = list_agents(session)
        return Template("pages/admin/agents.html", context={"agents": rows, "agent": request.user})

    @post("/{agent_id:int}/unlock", sync_to_thread=True)
    def unlock(
        self, request: AdminRequest, agent_id: FromPath[int], db: NamedDependency[Database]
    ) -> Redirect:
        with db.unit_of_work() as session:
            target = access_agent(session, agent_id)
            unlock_agent(session, email=target.email, actor=request.user)
        return Redirect("/admin/agents", status_code=303)

    @post("/{agent_id:int}/two-factor/reset", sync_to_thread=True)
    def reset_two_factor(
        self, request: AdminRequest, agent_id: FromPath[int], db: NamedDependency[Database]
    ) -> Response[Any]:
        """Needs a fresh second factor: this is how an attacker would take over an account."""
        if reverify := reverify_first(request, "/admin/agents"):
            return reverify
        with db.unit_of_work() as session:
            reset_two_factor(session, access_agent(session, agent_id), actor=request.user)
        return Redirect("/admin/agents", status_code=303)

    @post("/{agent_id:int}/unlock-permission", sync_to_thread=True)
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
