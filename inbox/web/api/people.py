"""Teams and agents in the JSON API, for administrators' tokens: the desk configured as code.

The same actions as the admin pages (``inbox.actions.staff``, ``create_agent``), so the same
checks and audit entries: no second active administrator, no demotion of the last one; a
new role or a deactivation ends the agent's sessions (and a deactivation their tokens).
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, patch, post
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED
from sqlmodel import Session

from inbox.actions.signin.agents import access_agent, check_admin, create_agent
from inbox.actions.staff import (
    access_team,
    create_team,
    rename_team,
    set_agent_active,
    set_agent_role,
    set_agent_teams,
    teams_by_name,
)
from inbox.db import Database
from inbox.errors import NotFound
from inbox.models import Agent
from inbox.queries.staff import list_team_rows, staff_agents
from inbox.web.api.bodies import AgentChange, NewAgent, NewTeam, TeamChange
from inbox.web.api.openapi import ERROR_RESPONSES
from inbox.web.api.serializers import iso
from inbox.web.api.shapes import Agent as AgentShape
from inbox.web.api.shapes import AgentList, Team, TeamList

AdminApiRequest = Request[Agent, Any, Any]


def admin_token(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """The desk's configuration is for administrators, as on the admin pages."""
    check_admin(connection.user)


def _team(session: Session, team_id: int) -> Team:
    for row in list_team_rows(session):
        if row.id == team_id:
            return Team(id=row.id, name=row.name, members=[m.email for m in row.members])
    raise NotFound("no such team")


def _agent(session: Session, agent_id: int) -> AgentShape:
    found = staff_agents(session, agent_id)
    if not found:
        raise NotFound("no such agent")
    a = found[0]
    return AgentShape(
        id=a.id,
        email=a.email,
        name=a.name,
        role=a.role,
        active=a.is_active,
        teams=a.teams,
        two_factor=a.has_totp,
        may_unlock_accounts=a.may_unlock_accounts,
        created_at=iso(a.created_at),
    )


class TeamApi(Controller):
    path = "/api/v1/teams"
    tags = ["configuration"]
    guards = [admin_token]

    @get("/", sync_to_thread=True, responses=ERROR_RESPONSES)
    def list(self, db: NamedDependency[Database]) -> TeamList:
        with db.reading() as session:
            return TeamList(
                items=[
                    Team(id=t.id, name=t.name, members=[m.email for m in t.members])
                    for t in list_team_rows(session)
                ]
            )

    @post("/", sync_to_thread=True, responses=ERROR_RESPONSES, status_code=HTTP_201_CREATED)
    def create(
        self, request: AdminApiRequest, data: JSONBody[NewTeam], db: NamedDependency[Database]
    ) -> Team:
        with db.unit_of_work() as session:
            team = create_team(session, name=data.name, actor=request.user)
            return _team(session, team.id or 0)

    @patch("/{team_id:int}", sync_to_thread=True, responses=ERROR_RESPONSES)
    def rename(
        self,
        request: AdminApiRequest,
        team_id: FromPath[int],
        data: JSONBody[TeamChange],
        db: NamedDependency[Database],
    ) -> Team:
        with db.unit_of_work() as session:
            rename_team(session, access_team(session, team_id), name=data.name, actor=request.user)
            return _team(session, team_id)


class AgentApi(Controller):
    path = "/api/v1/agents"
    tags = ["configuration"]
    guards = [admin_token]

    @get("/", sync_to_thread=True, responses=ERROR_RESPONSES)
    def list(self, db: NamedDependency[Database]) -> AgentList:
        with db.reading() as session:
            return AgentList(items=[_agent(session, a.id) for a in staff_agents(session)])

    @get("/{agent_id:int}", sync_to_thread=True, responses=ERROR_RESPONSES)
    def one(self, agent_id: FromPath[int], db: NamedDependency[Database]) -> AgentShape:
        with db.reading() as session:
            return _agent(session, agent_id)

    @post("/", sync_to_thread=True, responses=ERROR_RESPONSES, status_code=HTTP_201_CREATED)
    def create(
        self, request: AdminApiRequest, data: JSONBody[NewAgent], db: NamedDependency[Database]
    ) -> AgentShape:
        with db.unit_of_work() as session:
            teams = teams_by_name(session, data.teams)
            agent = create_agent(
                session,
                email=data.email,
                name=data.name,
                role=data.role,
                password=data.password,
                actor=request.user,
            )
            if teams:
                set_agent_teams(session, agent, [t.id or 0 for t in teams], actor=request.user)
            return _agent(session, agent.id or 0)

    @patch("/{agent_id:int}", sync_to_thread=True, responses=ERROR_RESPONSES)
    def change(
        self,
        request: AdminApiRequest,
        agent_id: FromPath[int],
        data: JSONBody[AgentChange],
        db: NamedDependency[Database],
    ) -> AgentShape:
        """All or nothing: one refused change and none is made."""
        with db.unit_of_work() as session:
            agent = access_agent(session, agent_id)
            if data.teams is not None:
                teams = teams_by_name(session, data.teams)
                set_agent_teams(session, agent, [t.id or 0 for t in teams], actor=request.user)
            if data.role is not None:
                set_agent_role(session, agent, data.role, actor=request.user)
            if data.active is not None:
                set_agent_active(session, agent, data.active, actor=request.user)
            session.flush()
            return _agent(session, agent_id)
