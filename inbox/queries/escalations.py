"""Reading SLA escalation rules, who they notify, and the alerts waiting to be mailed."""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from inbox.models import Agent, SlaEscalationRule, TeamMember


def list_escalation_rules(
    session: Session, policy_id: int | None = None
) -> list[SlaEscalationRule]:
    """The rules of one policy (or of every policy), in the order they apply."""
    query = select(SlaEscalationRule)
    if policy_id is not None:
        query = query.where(SlaEscalationRule.policy_id == policy_id)
    return list(
        session.exec(
            query.order_by(
                col(SlaEscalationRule.policy_id),
                col(SlaEscalationRule.position),
                col(SlaEscalationRule.id),
            )
        ).all()
    )


def matching_rules(
    session: Session, *, policy_id: int | None, trigger: str, target: str, percent: int | None
) -> list[SlaEscalationRule]:
    """The enabled rules of the policy that apply to this warning or breach."""
    if policy_id is None:
        return []
    return [
        rule
        for rule in list_escalation_rules(session, policy_id)
        if rule.enabled
        and rule.trigger == trigger
        and rule.target in ("", target)
        and (trigger != "warning" or rule.warn_percent in (None, percent))
    ]


def team_manager_ids(session: Session, team_ids: Iterable[int | None]) -> set[int]:
    """Active agents with the manager role who belong to any of these teams."""
    wanted = sorted({t for t in team_ids if t is not None})
    if not wanted:
        return set()
    return {
        agent_id
        for agent_id in session.exec(
            select(Agent.id)
            .join(TeamMember, col(TeamMember.agent_id) == Agent.id)
            .where(
                col(TeamMember.team_id).in_(wanted),
                Agent.role == "manager",
                col(Agent.is_active),
            )
        )
        if agent_id is not None
    }
