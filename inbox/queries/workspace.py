"""Reads for the agent workspace: macros, notifications, who can be mentioned, merges."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, or_, select

from inbox.models import (
    PRIORITIES,
    Agent,
    Macro,
    Notification,
    Team,
    TeamMember,
    Ticket,
    TicketMerge,
)
from inbox.queries.views import assignable_agents, status_names

NOTIFICATIONS_PAGE = 100


def handle_of(agent: Agent) -> str:
    """The short handle a note mentions an agent by: the part of the address before the @."""
    return agent.email.partition("@")[0].lower()


def list_macros(session: Session) -> list[Macro]:
    return list(session.exec(select(Macro).order_by(col(Macro.name))).all())


def list_teams(session: Session) -> list[Team]:
    return list(session.exec(select(Team).order_by(col(Team.name))).all())


def agents_who_see(session: Session, ticket: Ticket) -> list[Agent]:
    """Active agents allowed to see the ticket: the ones a note on it may mention."""
    query = select(Agent).where(col(Agent.is_active))
    if ticket.team_id is not None:
        members = select(TeamMember.agent_id).where(TeamMember.team_id == ticket.team_id)
        query = query.where(
            or_(
                col(Agent.role) == "admin",
                col(Agent.id).in_(members),
                col(Agent.id) == ticket.assignee_id,
            )
        )
    return list(session.exec(query.order_by(col(Agent.name))).all())


@dataclass
class NotificationRow:
    notification: Notification
    reference: str | None
    subject: str


def notifications_for(session: Session, agent: Agent) -> list[NotificationRow]:
    rows = session.exec(
        select(Notification, Ticket.reference, Ticket.subject)
        .join(Ticket, col(Ticket.id) == Notification.ticket_id, isouter=True)
        .where(Notification.agent_id == agent.id)
        .order_by(col(Notification.id).desc())
        .limit(NOTIFICATIONS_PAGE)
    ).all()
    return [NotificationRow(n, reference, subject or "") for n, reference, subject in rows]


def unread_notification_count(session: Session, agent: Agent) -> int:
    return session.exec(
        select(func.count())
        .select_from(Notification)
        .where(Notification.agent_id == agent.id, col(Notification.read_at).is_(None))
    ).one()


@dataclass
class MergeInfo:
    """For a merged ticket: where it went, to offer undoing it."""

    merge: TicketMerge
    target_reference: str


def merge_of(session: Session, ticket: Ticket) -> MergeInfo | None:
    row = session.exec(
        select(TicketMerge, Ticket.reference)
        .join(Ticket, col(Ticket.id) == TicketMerge.target_ticket_id)
        .where(TicketMerge.source_ticket_id == ticket.id, col(TicketMerge.undone_at).is_(None))
    ).first()
    return MergeInfo(row[0], row[1]) if row else None


@dataclass
class Workspace:
    """What the ticket page offers besides the ticket itself."""

    macros: list[Macro]
    statuses: list[str]
    priorities: tuple[str, ...]
    agents: list[Agent]
    teams: list[Team]
    # (handle, name) of each agent a note may mention.
    mentionable: list[tuple[str, str]]
    merge: MergeInfo | None
    can_manage_macros: bool


def workspace_for(session: Session, agent: Agent, ticket: Ticket) -> Workspace:
    return Workspace(
        macros=list_macros(session),
        statuses=status_names(session),
        priorities=PRIORITIES,
        agents=assignable_agents(session),
        teams=list_teams(session),
        mentionable=[
            (handle_of(a), a.name) for a in agents_who_see(session, ticket) if a.id != agent.id
        ],
        merge=merge_of(session, ticket),
        can_manage_macros=agent.role in ("manager", "admin"),
    )
