"""SLA escalations on real tickets and a real worker: notifications in the app and by mail
(delivered to a real SMTP peer), priority raised with the clocks recomputed, reassignment to
a team, digests of alerts firing together, and the rules on the administration page.

Stories happen in a week a little ahead of today (round the clock, no calendar), so nothing
is due in the real present; timers fire when the test moves the clock, never by sleeping.
Runs unchanged on SQLite and on PostgreSQL (``INBOX_TEST_DATABASE=postgres``).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from inbox.actions.sla.clocks import recompute_sla
from inbox.actions.sla.escalations import EscalationRuleFields, save_escalation_rule
from inbox.actions.sla.policies import PolicyFields, save_policy
from inbox.actions.tickets import update_ticket
from inbox.models import (
    AgentSession,
    AuditEvent,
    Message,
    Notification,
    SlaEscalationRule,
    Ticket,
    TicketStatusChange,
    Timer,
    utcnow,
)
from inbox.queries.sla import ticket_sla_json
from inbox.settings import Settings
from inbox.signing import hash_token, new_token
from inbox.web.auth import SESSION_COOKIE
from tests.support.desk import agent_by_email, ingest, mail, make_agent, make_channel, make_team
from tests.support.desks import InProcessDesk
from tests.support.smtp_peer import Received
from tests.support.web import Client, csrf_token
from workers.runtime import Runtime, build_runtime
from workers.timers import run_due_timers


def _next_monday() -> datetime:
    today = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    return today + timedelta(days=7 + (7 - today.weekday()) % 7)


T0 = _next_monday()


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


class Desk(InProcessDesk):
    """A desk with a Standard policy (first response 60 minutes, resolution 8 hours) and a
    Fast one for high and urgent tickets (resolution 4 hours), agents, teams and a worker."""

    def prepare(self) -> None:
        db = self.db
        self.channel_id = make_channel(db, self.settings, smtp_url=self.peer.smtp_url())
        make_agent(db, email="admin@example.com", role="admin", name="Ada Admin")
        alex = make_agent(db, email="alex@example.com", name="Alex Agent")[0]
        max_ = make_agent(db, email="max@example.com", role="manager", name="Max Manager")[0]
        tina = make_agent(db, email="tina@example.com", role="manager", name="Tina Tier")[0]
        olga = make_agent(db, email="olga@example.com", role="manager", name="Olga Other")[0]
        self.cards_id = make_team(db, "Cards", alex, max_)
        self.tier2_id = make_team(db, "Tier 2", tina)
        make_team(db, "Loans", olga)
        with db.unit_of_work() as session:
            standard = save_policy(
                session,
                PolicyFields(
                    name="Standard",
                    position=10,
                    first_response_minutes=60,
                    resolution_minutes=480,
                ),
                actor=None,
            )
            save_policy(
                session,
                PolicyFields(
                    name="Fast",
                    position=0,
                    priorities=["high", "urgent"],
                    first_response_minutes=60,
                    resolution_minutes=240,
                ),
                actor=None,
            )
            self.standard_id = standard.id or 0
        self.drain()

    def rule(self, **fields: object) -> None:
        with self.rt.db.unit_of_work() as session:
            save_escalation_rule(
                session,
                EscalationRuleFields(**fields),  # type: ignore[arg-type]
                actor=None,
                policy_id=self.standard_id,
            )

    def ticket(self, subject: str, *, assignee: str | None, team: str | None) -> str:
        """A ticket opened by mail at T0, assigned, with its clocks computed at T0.

        The worker may file the stored mail before the test does: the ticket is found by
        its subject, whoever filed it."""
        ingest(
            self.rt.db,
            self.rt.settings,
            self.channel_id,
            mail(sender="Maria <maria@example.org>", subject=subject),
        )
        self.drain()
        with self.rt.db.unit_of_work() as session:
            ticket = session.exec(select(Ticket).where(Ticket.subject == subject)).one()
            update_ticket(
                session,
                ticket,
                actor=agent_by_email(self.rt.db, "admin@example.com"),
                assignee_email=assignee,
                team=team,
            )
            ticket.created_at = ticket.updated_at = T0
            session.add(ticket)
            session.execute(
                update(Message).where(col(Message.ticket_id) == ticket.id).values(created_at=T0)
            )
            session.execute(
                update(TicketStatusChange)
                .where(col(TicketStatusChange.ticket_id) == ticket.id)
                .values(at=T0)
            )
            ticket_id = ticket.id or 0
        self.drain()
        with self.rt.db.unit_of_work() as session:
            recompute_sla(session, ticket_id, at(1))
        return ticket.reference

    def fire(self, when: datetime) -> int:
        """One scheduler pass at ``when``, and everything it causes."""
        fired = run_due_timers(self.rt, now=when)
        self.drain()
        return fired

    def sla_mail(self) -> list[Received]:
        return [r for r in self.peer.received if "SLA" in str(r.message["Subject"])]

    def ticket_row(self, reference: str) -> Ticket:
        with self.rt.db.reading() as session:
            return session.exec(select(Ticket).where(Ticket.reference == reference)).one()

    def timeline(self, reference: str) -> list[str]:
        ticket = self.ticket_row(reference)
        with self.rt.db.reading() as session:
            return [
                m.body_text
                for m in session.exec(
                    select(Message)
                    .where(Message.ticket_id == ticket.id, Message.kind == "system")
                    .order_by(col(Message.id))
                )
            ]

    def notifications(self) -> list[tuple[str, str, str]]:
        """(agent, kind, reference) of every notification."""
        with self.rt.db.reading() as session:
            rows = session.exec(
                select(Notification, Ticket.reference)
                .join(Ticket, col(Ticket.id) == Notification.ticket_id)
                .order_by(col(Notification.id))
            ).all()
            emails = {a.id: a.email for a in (agent_by_email(self.rt.db, e) for e in _EMAILS)}
            return [(emails[n.agent_id], n.kind, ref) for n, ref in rows]

    def digest_timers(self) -> list[tuple[str, datetime]]:
        with self.rt.db.reading() as session:
            return [
                (t.state, t.due_at)
                for t in session.exec(
                    select(Timer).where(Timer.kind == "sla_digest").order_by(col(Timer.id))
                )
            ]


_EMAILS = (
    "admin@example.com",
    "alex@example.com",
    "max@example.com",
    "tina@example.com",
    "olga@example.com",
)


def _text(received: Received) -> str:
    part = received.message.get_body(("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


pytestmark = pytest.mark.desk(kind=Desk)


# --- each escalation action -------------------------------------------------------------


def test_a_breach_notifies_the_assignee_and_the_team_managers_in_the_app_and_by_mail(
    desk: Desk, client: Client
) -> None:
    desk.rule(trigger="breach", notify_assignee=True, notify_managers=True)
    reference = desk.ticket("Card declined", assignee="alex@example.com", team="Cards")
    assert desk.fire(at(46)) == 1  # the 75% warning: no rule for warnings
    assert desk.notifications() == []
    assert desk.fire(at(60) + timedelta(seconds=5)) == 2  # 90%, then the deadline
    assert desk.notifications() == [
        ("alex@example.com", "sla_breach", reference),
        ("max@example.com", "sla_breach", reference),
    ]  # not Olga, manager of another team; not Tina, whose team was not involved
    lines = desk.timeline(reference)
    assert (
        "SLA escalation (First response target missed): notified Alex Agent, Max Manager" in lines
    )
    with desk.rt.db.reading() as session:
        audit = session.exec(select(AuditEvent).where(AuditEvent.action == "sla.escalated")).one()
    assert (audit.actor_label, audit.actor_agent_id, audit.target_id) == (
        "system",
        None,
        reference,
    )
    assert audit.detail["notified"] == ["alex@example.com", "max@example.com"]
    listing = _signed_in(client, desk, "alex@example.com").get("/notifications").text
    assert "SLA target missed" in listing and f'href="/tickets/{reference}"' in listing
    assert "First response target missed" in listing

    assert desk.sla_mail() == []  # gathered for a minute first
    assert desk.fire(at(61) + timedelta(seconds=5)) == 2  # one digest timer per agent
    mails = desk.sla_mail()
    assert sorted(m.rcpt_tos for m in mails) == [("alex@example.com",), ("max@example.com",)]
    for received in mails:
        assert received.message["Subject"] == f"[{reference}] SLA: First response target missed"
        body = _text(received)
        assert f"http://127.0.0.1:8000/tickets/{reference}" in body
        assert f"due {at(60):%Y-%m-%d %H:%M} UTC" in body
        assert received.message["Auto-Submitted"] == "auto-generated"

    # A timer fired again (a crash before it was marked done) escalates nothing twice.
    with desk.rt.db.unit_of_work() as session:
        session.execute(
            update(Timer).where(col(Timer.kind) == "sla_breach").values(state="pending")
        )
    desk.fire(at(62))
    desk.fire(at(80))
    assert len(desk.notifications()) == 2
    assert sum(line.startswith("SLA escalation") for line in desk.timeline(reference)) == 1
    assert len(desk.sla_mail()) == 2


def test_a_warning_raises_the_priority_one_step_and_the_clocks_follow_the_new_policy(
    desk: Desk,
) -> None:
    desk.rule(trigger="warning", warn_percent=75, set_priority="raise")
    reference = desk.ticket("Refund missing", assignee=None, team=None)
    assert desk.ticket_row(reference).priority == "normal"
    assert desk.fire(at(46)) == 1
    ticket = desk.ticket_row(reference)
    assert ticket.priority == "high"
    assert "SLA escalation (75% of the first response target used): priority normal → high" in (
        desk.timeline(reference)
    )
    with desk.rt.db.unit_of_work() as session:
        recompute_sla(session, ticket.id or 0, at(47))
    with desk.rt.db.reading() as session:
        sla = ticket_sla_json(session, ticket.id or 0, at(47))
        audit = session.exec(select(AuditEvent).where(AuditEvent.action == "sla.escalated")).one()
    assert sla["resolution"]["policy"] == "Fast"  # type: ignore[index]
    assert sla["resolution"]["due_at"] == at(240).isoformat()  # type: ignore[index]
    assert audit.detail["priority"] == "normal → high"
    # The 90% warning matches no rule (the rule names 75%), and the new policy has none.
    desk.fire(at(55))
    assert desk.ticket_row(reference).priority == "high"


def test_a_breach_raises_to_a_set_priority_and_reassigns_to_a_team_whose_manager_hears(
    desk: Desk,
) -> None:
    desk.rule(
        trigger="breach",
        target="first_response",
        notify_managers=True,
        set_priority="urgent",
        assign_team_id=desk.tier2_id,
    )
    reference = desk.ticket("Stolen card", assignee="alex@example.com", team="Cards")
    desk.fire(at(60) + timedelta(seconds=5))
    ticket = desk.ticket_row(reference)
    assert (ticket.priority, ticket.team_id) == ("urgent", desk.tier2_id)
    assert ticket.assignee_id == agent_by_email(desk.rt.db, "alex@example.com").id  # kept
    # The managers of the team that has it now; Max, of the team it left, no longer sees it.
    assert desk.notifications() == [("tina@example.com", "sla_breach", reference)]
    assert (
        "SLA escalation (First response target missed): priority normal → urgent; "
        "team Tier 2; notified Tina Tier"
    ) in desk.timeline(reference)


def test_no_rule_means_the_breach_only_shows_on_the_ticket(desk: Desk) -> None:
    desk.rule(trigger="breach", target="resolution", notify_assignee=True)
    reference = desk.ticket("Just a question", assignee="alex@example.com", team="Cards")
    desk.fire(at(60) + timedelta(seconds=5))
    assert desk.notifications() == []
    lines = desk.timeline(reference)
    assert "SLA: First response target missed (was due " in "\n".join(lines)
    assert not [line for line in lines if line.startswith("SLA escalation")]


# --- digests ----------------------------------------------------------------------------


def test_alerts_firing_together_reach_an_agent_as_one_digest_once_across_a_restart(
    desk: Desk, settings: Settings
) -> None:
    desk.rule(trigger="breach", notify_assignee=True)
    subjects = ["Card declined", "Refund missing", "App crashes", "Wrong fee"]
    references = [desk.ticket(s, assignee="alex@example.com", team="Cards") for s in subjects]
    assert desk.fire(at(60) + timedelta(seconds=5)) == 3 * len(references)  # 75, 90, breach
    assert len(desk.notifications()) == len(references)  # in the app: one each, at once
    assert desk.digest_timers() == [("pending", at(61))]  # by mail: one timer for all four

    # Every process restarts and the broker loses what it held; the timer is in the table.
    desk.restart()

    # Two schedulers sweep at the same moment; exactly one mail leaves.
    start = threading.Barrier(2)
    other = build_runtime(settings)

    def sweep(rt: Runtime) -> None:
        start.wait()
        run_due_timers(rt, now=at(61) + timedelta(seconds=1))

    threads = [threading.Thread(target=sweep, args=(rt,)) for rt in (desk.rt, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    desk.drain()
    desk.fire(at(70))
    desk.fire(at(90))
    other.db.dispose()
    (digest,) = desk.sla_mail()
    assert digest.rcpt_tos == ("alex@example.com",)
    assert digest.message["Subject"] == "SLA digest: 4 tickets need attention (4 missed)"
    body = _text(digest)
    for reference, subject in zip(references, subjects, strict=True):
        assert f"- {reference}: {subject}\n" in body
        assert f"http://127.0.0.1:8000/tickets/{reference}" in body
    assert body.count("First response target missed, due ") == 4
    assert f"due {at(60):%Y-%m-%d %H:%M} UTC" in body
    assert desk.digest_timers() == [("fired", at(61))]


def test_after_a_mail_the_next_alert_waits_for_the_window_and_answered_warnings_drop_out(
    desk: Desk,
) -> None:
    desk.rule(trigger="warning", notify_assignee=True)
    first = desk.ticket("Card declined", assignee="alex@example.com", team="Cards")
    desk.fire(at(46))  # the 75% warning
    desk.fire(at(48))  # its mail, alone: nothing else fired
    (alone,) = desk.sla_mail()
    assert alone.message["Subject"] == (f"[{first}] SLA: 75% of the first response target used")
    desk.fire(at(55))  # the 90% warning, three minutes after that mail
    assert desk.digest_timers()[-1] == ("pending", at(45) + timedelta(minutes=16))
    desk.fire(at(60) + timedelta(seconds=5))  # the breach: no rule for breaches
    # The ticket is resolved before the window ends: its warning no longer needs a mail.
    with desk.rt.db.unit_of_work() as session:
        ticket = session.exec(select(Ticket).where(Ticket.reference == first)).one()
        update_ticket(
            session,
            ticket,
            actor=agent_by_email(desk.rt.db, "alex@example.com"),
            status="resolved",
        )
        ticket_id = ticket.id or 0
    with desk.rt.db.unit_of_work() as session:
        session.execute(
            update(TicketStatusChange)
            .where(col(TicketStatusChange.ticket_id) == ticket_id)
            .where(col(TicketStatusChange.category) == "resolved")
            .values(at=at(60.5))
        )
    desk.drain()
    with desk.rt.db.unit_of_work() as session:
        recompute_sla(session, ticket_id, at(61))
    desk.fire(at(63))
    assert len(desk.sla_mail()) == 1
    assert desk.digest_timers()[-1][0] == "fired"


# --- the administration page ------------------------------------------------------------


def _signed_in(client: Client, desk: Desk, email: str) -> Client:
    """A browser session past its second factor (signing in itself is tested elsewhere)."""
    raw = new_token()
    with desk.rt.db.unit_of_work() as session:
        session.add(
            AgentSession(
                token_hash=hash_token(raw),
                agent_id=agent_by_email(desk.rt.db, email).id or 0,
                expires_at=utcnow() + timedelta(hours=1),
                second_factor_at=utcnow(),
            )
        )
    client.cookies.set(SESSION_COOKIE, raw)
    return client


@pytest.fixture
def admin_client(client: Client, desk: Desk) -> Client:
    return _signed_in(client, desk, "admin@example.com")


def test_administrators_add_and_delete_escalation_rules_of_a_policy(
    admin_client: Client, desk: Desk
) -> None:
    client = admin_client
    page = client.get(f"/admin/sla/policies/{desk.standard_id}")
    assert page.status_code == 200 and "Escalation rules of Standard" in page.text
    added = client.post(
        f"/admin/sla/policies/{desk.standard_id}/escalations",
        data={
            "_csrf_token": csrf_token(page.text),
            "trigger": "warning",
            "warn_percent": "90",
            "target": "resolution",
            "notify_assignee": "yes",
            "notify_managers": "yes",
            "set_priority": "raise",
            "assign_team_id": str(desk.tier2_id),
            "position": "2",
        },
        follow_redirects=False,
    )
    assert added.status_code == 303
    page = client.get(f"/admin/sla/policies/{desk.standard_id}")
    summary = (
        "At the 90% warning of resolution: notify assignee and team managers; "
        "raise priority one step; reassign to team Tier 2"
    )
    assert summary in page.text
    assert summary in client.get("/admin/sla").text  # in the list of policies too
    refused = client.post(
        f"/admin/sla/policies/{desk.standard_id}/escalations",
        data={"_csrf_token": csrf_token(page.text), "trigger": "breach"},
    )
    assert refused.status_code == 422 and "a rule needs something to do" in refused.text
    refused = client.post(
        f"/admin/sla/policies/{desk.standard_id}/escalations",
        data={
            "_csrf_token": csrf_token(page.text),
            "trigger": "warning",
            "warn_percent": "50",
            "notify_assignee": "yes",
        },
    )
    assert refused.status_code == 422 and "this policy warns at 75%, 90%" in refused.text
    with desk.rt.db.reading() as session:
        (rule,) = session.exec(select(SlaEscalationRule)).all()
        saved = session.exec(
            select(AuditEvent).where(AuditEvent.action == "sla.escalation_saved")
        ).one()
    assert (rule.trigger, rule.warn_percent, rule.target, rule.set_priority) == (
        "warning",
        90,
        "resolution",
        "raise",
    )
    assert saved.actor_label == "admin@example.com"
    assert (
        client.post(
            f"/admin/sla/policies/{desk.standard_id}/escalations/{rule.id}/delete"
        ).status_code
        == 403
    )  # no CSRF token
    deleted = client.post(
        f"/admin/sla/policies/{desk.standard_id}/escalations/{rule.id}/delete",
        data={"_csrf_token": csrf_token(page.text)},
        follow_redirects=False,
    )
    assert deleted.status_code == 303
    with desk.rt.db.reading() as session:
        assert session.exec(select(SlaEscalationRule)).all() == []


def test_only_administrators_change_escalation_rules(client: Client, desk: Desk) -> None:
    _signed_in(client, desk, "max@example.com")
    token = csrf_token(client.get("/calls/new").text)
    assert client.get(f"/admin/sla/policies/{desk.standard_id}").status_code == 403
    forged = client.post(
        f"/admin/sla/policies/{desk.standard_id}/escalations",
        data={"_csrf_token": token, "trigger": "breach", "notify_assignee": "yes"},
    )
    assert forged.status_code == 403
    with desk.rt.db.reading() as session:
        assert session.exec(select(SlaEscalationRule)).all() == []
