"""SLA escalation rules, and escalating a warning or breach by them.

A policy carries its own rules (``/admin/sla/policies/{id}``), as the policy already decides
which tickets and targets matter: on a warning (every one, or one percentage) or on a breach,
of one target or any. A rule may notify the assignee and the managers of the ticket's team
(in the app at once, by mail through ``inbox.actions.sla.digests``), raise the priority
(one step, or up to a set priority; never down) and hand the ticket to a team. Every
enabled rule that matches applies. What was done lands on the ticket's timeline as a system
event and in the audit log as ``sla.escalated`` by ``system``; a changed priority or team
recomputes the clocks at once (the policy may change with them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from inbox.actions.audit import record_audit
from inbox.actions.sla.clocks import SlaMoment, recompute_sla
from inbox.actions.sla.digests import queue_alert_mail
from inbox.actions.tickets import can_see_ticket, touch_ticket
from inbox.actions.timeline import record_system_event
from inbox.errors import InvalidInput, NotFound
from inbox.models import (
    PRIORITIES,
    SLA_TARGETS,
    Agent,
    Notification,
    SlaAlert,
    SlaEscalationRule,
    SlaPolicy,
    Team,
    Ticket,
    utcnow,
)
from inbox.models.escalations import ESCALATION_TRIGGERS, RAISE_ONE_STEP
from inbox.queries.escalations import matching_rules, team_manager_ids
from inbox.queries.sla import TARGET_LABELS


@dataclass
class EscalationRuleFields:
    trigger: str
    target: str = ""
    warn_percent: int | None = None
    notify_assignee: bool = False
    notify_managers: bool = False
    set_priority: str = ""
    assign_team_id: int | None = None
    position: int = 0
    enabled: bool = True


def save_escalation_rule(
    session: Session,
    fields: EscalationRuleFields,
    *,
    actor: Agent | None,
    policy_id: int,
    rule_id: int | None = None,
) -> SlaEscalationRule:
    policy = session.get(SlaPolicy, policy_id)
    if policy is None:
        raise NotFound("no such policy")
    if fields.trigger not in ESCALATION_TRIGGERS:
        raise InvalidInput("a rule acts on a warning or on a breach")
    if fields.target not in ("", *SLA_TARGETS):
        raise InvalidInput(f"targets are {', '.join(SLA_TARGETS)}")
    warn_percent = fields.warn_percent if fields.trigger == "warning" else None
    if warn_percent is not None and warn_percent not in policy.warn_percents:
        shown = ", ".join(f"{p}%" for p in policy.warn_percents) or "no percentage"
        raise InvalidInput(f"this policy warns at {shown}")
    if fields.set_priority not in ("", RAISE_ONE_STEP, *PRIORITIES):
        raise InvalidInput("raise the priority one step or to one of " + ", ".join(PRIORITIES))
    if fields.assign_team_id is not None and session.get(Team, fields.assign_team_id) is None:
        raise InvalidInput("no such team")
    if not (
        fields.notify_assignee
        or fields.notify_managers
        or fields.set_priority
        or fields.assign_team_id
    ):
        raise InvalidInput("a rule needs something to do: notify, raise the priority or reassign")
    rule = SlaEscalationRule(policy_id=policy_id, trigger=fields.trigger)
    if rule_id is not None:
        found = session.get(SlaEscalationRule, rule_id)
        if found is None or found.policy_id != policy_id:
            raise NotFound("no such rule")
        rule = found
    rule.trigger = fields.trigger
    rule.target = fields.target
    rule.warn_percent = warn_percent
    rule.notify_assignee = fields.notify_assignee
    rule.notify_managers = fields.notify_managers
    rule.set_priority = fields.set_priority
    rule.assign_team_id = fields.assign_team_id
    rule.position = fields.position
    rule.enabled = fields.enabled
    rule.updated_at = utcnow()
    session.add(rule)
    session.flush()
    record_audit(
        session,
        "sla.escalation_saved",
        actor=actor,
        target_type="sla_policy",
        target_id=policy_id,
        detail={"rule": rule.id, "policy": policy.name, "summary": describe_rule(session, rule)},
    )
    return rule


def delete_escalation_rule(
    session: Session, rule_id: int, *, actor: Agent | None, policy_id: int
) -> None:
    rule = session.get(SlaEscalationRule, rule_id)
    if rule is None or rule.policy_id != policy_id:
        raise NotFound("no such rule")
    summary = describe_rule(session, rule)
    session.delete(rule)
    record_audit(
        session,
        "sla.escalation_deleted",
        actor=actor,
        target_type="sla_policy",
        target_id=policy_id,
        detail={"rule": rule_id, "summary": summary},
    )


def describe_rule(session: Session, rule: SlaEscalationRule) -> str:
    """``On breach of first response: notify assignee, team managers; priority → urgent``."""
    target = TARGET_LABELS.get(rule.target, "any target").lower() if rule.target else "any target"
    if rule.trigger == "warning":
        when = f"at the {rule.warn_percent}% warning" if rule.warn_percent else "at each warning"
        when = f"{when.capitalize()} of {target}"
    else:
        when = f"On breach of {target}"
    actions = []
    notified = [
        name
        for name, wanted in (
            ("assignee", rule.notify_assignee),
            ("team managers", rule.notify_managers),
        )
        if wanted
    ]
    if notified:
        actions.append("notify " + " and ".join(notified))
    if rule.set_priority == RAISE_ONE_STEP:
        actions.append("raise priority one step")
    elif rule.set_priority:
        actions.append(f"raise priority to {rule.set_priority}")
    if rule.assign_team_id is not None:
        team = session.get(Team, rule.assign_team_id)
        actions.append(f"reassign to team {team.name if team else '?'}")
    return f"{when}: {'; '.join(actions)}"


def raised_priority(current: str, wanted: str) -> str:
    """One step up, or up to ``wanted``; never down, never past urgent."""
    rank = PRIORITIES.index(current) if current in PRIORITIES else 1
    if wanted == RAISE_ONE_STEP:
        return PRIORITIES[min(rank + 1, len(PRIORITIES) - 1)]
    if wanted in PRIORITIES and PRIORITIES.index(wanted) > rank:
        return wanted
    return current


def escalate_sla_moment(session: Session, moment: SlaMoment, now: datetime) -> SlaAlert | None:
    """Apply the policy's matching rules to a warning or breach, once per moment."""
    rules = matching_rules(
        session,
        policy_id=moment.policy_id,
        trigger=moment.trigger,
        target=moment.target,
        percent=moment.percent,
    )
    ticket = session.get(Ticket, moment.ticket_id)
    if not rules or ticket is None:
        return None
    alert = SlaAlert(
        key=moment.key,
        ticket_id=moment.ticket_id,
        target=moment.target,
        cycle=moment.cycle,
        kind=moment.trigger,
        percent=moment.percent,
        due_at=moment.due_at,
        at=now,
    )
    try:
        with session.begin_nested():
            session.add(alert)
            session.flush()
    except IntegrityError:
        return None  # a timer fired twice (a crash after the first run): done already
    changes: dict[str, object] = {}
    priority = ticket.priority
    for rule in rules:
        priority = raised_priority(priority, rule.set_priority)
    if priority != ticket.priority:
        changes["priority"] = f"{ticket.priority} → {priority}"
        ticket.priority = priority
    new_team_id = next((r.assign_team_id for r in rules if r.assign_team_id is not None), None)
    if new_team_id is not None and new_team_id != ticket.team_id:
        team = session.get(Team, new_team_id)
        changes["team"] = team.name if team else str(new_team_id)
        ticket.team_id = new_team_id
    if changes:
        touch_ticket(session, ticket)
        session.flush()
        recompute_sla(session, moment.ticket_id, now)
    recipients = _recipients(session, ticket, rules)
    what = _moment_text(moment)
    for agent in recipients:
        session.add(
            Notification(
                agent_id=agent.id or 0,
                kind=f"sla_{moment.trigger}",
                ticket_id=ticket.id,
                actor_label="SLA",
                text=what[:500],
            )
        )
        queue_alert_mail(session, alert_id=alert.id or 0, agent_id=agent.id or 0, now=now)
    names = [a.name for a in recipients]
    alert.actions = {
        **changes,
        "notified": [a.email for a in recipients],
        "rules": [r.id for r in rules],
    }
    session.add(alert)
    parts = [f"{key} {value}" for key, value in changes.items()]
    if names:
        parts.append("notified " + ", ".join(names))
    record_system_event(
        session, ticket, None, f"SLA escalation ({what}): " + ("; ".join(parts) or "nothing to do")
    )
    record_audit(
        session,
        "sla.escalated",
        actor_label="system",
        target_type="ticket",
        target_id=ticket.reference,
        detail={"moment": moment.key, **alert.actions},
    )
    return alert


def _recipients(session: Session, ticket: Ticket, rules: list[SlaEscalationRule]) -> list[Agent]:
    """The assignee and the managers of the ticket's team (after a reassignment: of the team
    that now has it), those active and allowed to see the ticket, in id order (the order
    their mail rows are locked in, so two escalations never wait on each other)."""
    ids: set[int] = set()
    if any(r.notify_assignee for r in rules) and ticket.assignee_id is not None:
        ids.add(ticket.assignee_id)
    if any(r.notify_managers for r in rules):
        ids |= team_manager_ids(session, (ticket.team_id,))
    agents = []
    for agent_id in sorted(ids):
        agent = session.get(Agent, agent_id)
        if agent is not None and agent.is_active and can_see_ticket(session, agent, ticket):
            agents.append(agent)
    return agents


def _moment_text(moment: SlaMoment) -> str:
    label = TARGET_LABELS.get(moment.target, moment.target)
    if moment.trigger == "breach":
        return f"{label} target missed"
    return f"{moment.percent}% of the {label.lower()} target used"
