"""The desk of the SLA report tests: one policy round the clock, two teams, and tickets whose
stories happen on day D, ten days ago (``B`` is 08:00 UTC that day)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlmodel import select

from inbox.actions.sla.clocks import recompute_sla
from inbox.actions.sla.policies import PolicyFields, save_policy
from inbox.db import Database
from inbox.models import Team, TeamMember, Ticket, utcnow
from inbox.settings import Settings
from tests.support.desk import make_agent, make_channel
from tests.support.sla_story import Story

DAY = utcnow().date() - timedelta(days=10)
B = datetime.combine(DAY, time(8), tzinfo=UTC)


def minutes(n: int) -> datetime:
    return B + timedelta(minutes=n)


class ReportDesk:
    """Three agents (a manager in Billing), the teams Billing and Fraud, and one policy round
    the clock: first response in 60 minutes, resolution in 600; ``story`` opens a ticket."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db, self.settings = db, settings
        self.channel_id = make_channel(db, settings)
        _, self.admin_token = make_agent(db, "admin@example.com", role="admin", name="Ada")
        manager_id, self.manager_token = make_agent(
            db, "manager@example.com", role="manager", name="Max"
        )
        _, self.agent_token = make_agent(db, "agent@example.com", name="Alex")
        with db.unit_of_work() as session:
            billing = Team(name="Billing")
            session.add_all([billing, Team(name="Fraud")])
            session.flush()
            session.add(TeamMember(team_id=billing.id or 0, agent_id=manager_id))
            policy = save_policy(
                session,
                PolicyFields(
                    name="Round the clock", first_response_minutes=60, resolution_minutes=600
                ),
                actor=None,
            )
            self.policy_id = policy.id or 0
        self.refs: dict[str, str] = {}

    def story(self, name: str, team: str, opened: datetime, subject: str) -> Story:
        story = Story(self.db, self.settings, self.channel_id, "admin@example.com", self.policy_id)
        story.opened(opened, subject=subject)
        story.changed(opened, team=team)
        self.refs[name] = story.reference
        return story

    def recompute_all(self) -> None:
        now = utcnow()
        with self.db.unit_of_work() as session:
            for ticket_id in session.exec(select(Ticket.id)).all():
                recompute_sla(session, ticket_id or 0, now)
