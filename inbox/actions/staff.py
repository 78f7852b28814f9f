"""Teams and the settings of agents, for administrators: the admin pages and the API call
these same actions, so both check and audit alike. Creating an agent is
``inbox.actions.signin.agents.create_agent``.

The desk always keeps an active administrator: none can demote or deactivate the last one.
A change of role ends the agent's sessions (a privilege change: they sign in again), and a
deactivated agent's sessions and API tokens end with it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from inbox.actions.audit import record_audit
from inbox.actions.signin.agents import revoke_sessions
from inbox.errors import Conflict, InvalidInput, NotFound
from inbox.models import ROLES, Agent, ApiToken, Team, TeamMember, utcnow

MAX_TEAM_NAME = 100


def _team_name(name: str) -> str:
    name = " ".join(name.split())
    if not name or len(name) > MAX_TEAM_NAME:
        raise InvalidInput(f"a team needs a name of at most {MAX_TEAM_NAME} characters")
    return name


def access_team(session: Session, team_id: int) -> Team:
    team = session.get(Team, team_id)
    if team is None:
        raise NotFound("no such team")
    return team


def create_team(session: Session, *, name: str, actor: Agent) -> Team:
    team = Team(name=_team_name(name))
    _save_team(session, team)
    record_audit(
        session,
        "team.created",
        actor=actor,
        target_type="team",
        target_id=team.id or 0,
        detail={"name": team.name},
    )
    return team


def rename_team(session: Session, team: Team, *, name: str, actor: Agent) -> Team:
    old, team.name = team.name, _team_name(name)
    if team.name == old:
        return team
    _save_team(session, team)
    record_audit(
        session,
        "team.renamed",
        actor=actor,
        target_type="team",
        target_id=team.id or 0,
        detail={"from": old, "to": team.name},
    )
    return team


def _save_team(session: Session, team: Team) -> None:
    try:
        with session.begin_nested():
            session.add(team)
            session.flush()
    except IntegrityError as exc:
        raise Conflict("a team with that name exists") from exc


def teams_by_name(session: Session, names: Sequence[str]) -> list[Team]:
    """The teams of these names (as typed, spaces squeezed); an unknown one is refused."""
    wanted = {" ".join(n.split()) for n in names if n.strip()}
    found = list(session.exec(select(Team).where(col(Team.name).in_(wanted))).all())
    missing = wanted - {t.name for t in found}
    if missing:
        raise InvalidInput(f"no such team: {', '.join(sorted(missing))}")
    return found


def set_agent_teams(
    session: Session, agent: Agent, team_ids: Sequence[int], *, actor: Agent
) -> None:
    """Exactly these teams for the agent; they see those teams' tickets from the next page
    on."""
    wanted = set(team_ids)
    for team_id in wanted:
        access_team(session, team_id)
    current = set(
        session.exec(select(TeamMember.team_id).where(TeamMember.agent_id == agent.id)).all()
    )
    if wanted == current:
        return
    for member in session.exec(
        select(TeamMember).where(
            TeamMember.agent_id == agent.id, col(TeamMember.team_id).in_(current - wanted)
        )
    ):
        session.delete(member)
    for team_id in wanted - current:
        session.add(TeamMember(team_id=team_id, agent_id=agent.id or 0))
    session.flush()
    names = session.exec(select(Team.name).where(col(Team.id).in_(wanted))).all()
    record_audit(
        session,
        "agent.teams_changed",
        actor=actor,
        target_type="agent",
        target_id=agent.id or 0,
        detail={"teams": sorted(names)},
    )


def _other_active_admins(session: Session, agent: Agent) -> int:
    return session.exec(
        select(func.count())
        .select_from(Agent)
        .where(Agent.role == "admin", col(Agent.is_active).is_(True), Agent.id != agent.id)
    ).one()


def set_agent_role(session: Session, agent: Agent, role: str, *, actor: Agent) -> None:
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}")
    if role == agent.role:
        return
    if agent.role == "admin" and agent.is_active and not _other_active_admins(session, agent):
        raise Conflict("the desk needs an administrator: make another one first")
    old, agent.role = agent.role, role
    if role != "agent":
        agent.may_unlock_accounts = False  # managers and admins may by their role
    session.add(agent)
    revoke_sessions(session, agent)
    record_audit(
        session,
        "agent.role_changed",
        actor=actor,
        target_type="agent",
        target_id=agent.id or 0,
        detail={"from": old, "to": role},
    )


def set_agent_active(session: Session, agent: Agent, active: bool, *, actor: Agent) -> None:
    """Deactivating signs the agent out everywhere and revokes their API tokens; their
    tickets stay as they are."""
    if active == agent.is_active:
        return
    if not active:
        if agent.id == actor.id:
            raise Conflict("another administrator has to deactivate you")
        if agent.role == "admin" and not _other_active_admins(session, agent):
            raise Conflict("the desk needs an administrator: make another one first")
        revoke_sessions(session, agent)
        session.execute(
            update(ApiToken)
            .where(col(ApiToken.agent_id) == agent.id, col(ApiToken.revoked_at).is_(None))
            .values(revoked_at=utcnow())
        )
    agent.is_active = active
    session.add(agent)
    record_audit(
        session,
        "agent.reactivated" if active else "agent.deactivated",
        actor=actor,
        target_type="agent",
        target_id=agent.id or 0,
    )
