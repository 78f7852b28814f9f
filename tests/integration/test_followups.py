"""Follow-up workflows on a real desk: customers write by mail, agents work through the web
pages, mail leaves through the outbox to a real SMTP peer, and timers fire when the test
moves the clock (``run_due_timers(now=...)``), never by sleeping.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col, func, select

from inbox.actions.followup_hooks import AUTO_RESOLVE, REMINDER, SURVEY
from inbox.actions.followups import FollowupFields, save_followup_settings
from inbox.actions.sla.policies import CalendarFields, save_calendar
from inbox.actions.tickets import update_ticket
from inbox.models import (
    AgentSession,
    AuditEvent,
    BusinessCalendar,
    FollowupSettings,
    InboundItem,
    Message,
    Notification,
    Ticket,
    TicketLink,
    TicketStatusChange,
    Timer,
    utcnow,
)
from inbox.queries.followups import effective_settings, satisfaction_summary
from inbox.queries.sla import calendar_of
from inbox.queries.tickets import TicketFilters, count_tickets, viewer_for
from inbox.rules.followup_time import add_business_days
from inbox.settings import Settings
from inbox.signing import hash_token, new_token, reply_address
from inbox.web.auth import SESSION_COOKIE
from tests.support.desk import (
    agent_by_email,
    ingest,
    mail,
    make_agent,
    make_channel,
    make_team,
    sla_policies_off,
)
from tests.support.desks import InProcessDesk
from tests.support.smtp_peer import Received
from tests.support.web import Client, csrf_token
from workers.runtime import Runtime
from workers.timers import run_due_timers

OFFICE_HOURS = {day: [("09:00", "17:00")] for day in ("mon", "tue", "wed", "thu", "fri")}


class Desk(InProcessDesk):
    """A channel whose mail goes to the SMTP peer, an agent signed in on ``client``, and an
    administrator."""

    def prepare(self) -> None:
        sla_policies_off(self.db)  # the follow-up timers alone
        self.channel_id = make_channel(self.db, self.settings, smtp_url=self.peer.smtp_url())
        self.agent_id, _ = make_agent(self.db)
        self.admin_id, _ = make_agent(
            self.db, email="admin@example.com", role="admin", name="Ada Admin"
        )
        _browser_session(self.rt, self.client, self.agent_id)

    def customer_writes(self, subject: str = "Card declined", *, to: str = "") -> str:
        return self._filed(
            mail(
                sender="Maria Lopez <maria@example.org>",
                subject=subject,
                to=to or "support@example.com",
            )
        )

    def customer_replies(self, reference: str, body: str = "Here is the receipt.") -> str:
        """Maria answers our last mail: to the signed reply address, as her client does."""
        ticket = self.ticket(reference)
        to = reply_address(self.settings.secret_key, "support@example.com", ticket.id or 0)
        return self._filed(
            mail(
                sender="Maria Lopez <maria@example.org>",
                subject=f"Re: [{reference}]",
                to=to,
                body=body,
            )
        )

    def _filed(self, raw: bytes) -> str:
        """Store and file a mail (here, or by the worker the stored mail woke up: whichever
        comes first); returns the reference of the ticket it joined."""
        ingest(self.rt.db, self.settings, self.channel_id, raw)
        self.drain()
        with self.rt.db.reading() as session:
            item_id = session.exec(select(func.max(InboundItem.id))).one()
            return session.exec(
                select(Ticket.reference)
                .join(Message, col(Message.ticket_id) == Ticket.id)
                .where(Message.inbound_item_id == item_id)
            ).one()

    def ticket(self, reference: str) -> Ticket:
        with self.rt.db.reading() as session:
            return session.exec(select(Ticket).where(Ticket.reference == reference)).one()

    def set_status(self, reference: str, status: str) -> None:
        """What the status field of the ticket page does."""
        page = self.client.get(f"/tickets/{reference}")
        response = self.client.post(
            f"/tickets/{reference}/properties",
            data={"status": status, "_csrf_token": csrf_token(page.text)},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        self.drain()

    def timeline(self, reference: str) -> list[str]:
        ticket = self.ticket(reference)
        with self.rt.db.reading() as session:
            return [
                m.body_text
                for m in session.exec(
                    select(Message)
                    .where(Message.ticket_id == ticket.id, Message.kind == "system")
                    .order_by(col(Message.id))
                ).all()
            ]

    def timer(self, reference: str, kind: str) -> Timer:
        ticket = self.ticket(reference)
        with self.rt.db.reading() as session:
            return session.exec(
                select(Timer).where(Timer.ticket_id == ticket.id, Timer.kind == kind)
            ).one()

    def fire(self, now: datetime) -> int:
        fired = run_due_timers(self.rt, now=now)
        self.drain()
        return fired

    def mails_to_maria(self) -> list[Received]:
        return [r for r in self.peer.received if r.rcpt_tos == ("maria@example.org",)]

    def followup_settings(self, *, team_id: int | None = None, **changes: object) -> None:
        values: dict[str, object] = {
            "calendar_id": None,
            "reminder_after_days": 2,
            "auto_resolve_after_days": 4,
            "closing_message": "",
            "reopen_window_days": 7,
            "survey_enabled": True,
            **changes,
        }
        admin = agent_by_email(self.rt.db, "admin@example.com")
        with self.rt.db.unit_of_work() as session:
            save_followup_settings(
                session,
                FollowupFields(**values),  # type: ignore[arg-type]
                actor=admin,
                team_id=team_id,
            )

    def count(self, view: str) -> int:
        agent = agent_by_email(self.rt.db, "agent@example.com")
        with self.rt.db.reading() as session:
            return count_tickets(
                session,
                prefix=self.settings.reference_prefix,
                filters=TicketFilters(view=view),
                viewer=viewer_for(session, agent),
            )


pytestmark = pytest.mark.desk(kind=Desk)


def _browser_session(rt: Runtime, client: Client, agent_id: int) -> None:
    """A browser session past its second factor, as signing in leaves it."""
    raw = new_token()
    with rt.db.unit_of_work() as session:
        session.add(
            AgentSession(
                token_hash=hash_token(raw),
                agent_id=agent_id,
                expires_at=utcnow() + timedelta(hours=1),
                second_factor_at=utcnow(),
            )
        )
    client.cookies.set(SESSION_COOKIE, raw)


def _office_calendar(desk: Desk) -> int:
    admin = agent_by_email(desk.rt.db, "admin@example.com")
    with desk.rt.db.unit_of_work() as session:
        calendar = save_calendar(
            session,
            CalendarFields(
                name="Berlin office",
                timezone="Europe/Berlin",
                weekly_hours=OFFICE_HOURS,
                holiday_country="DE",
                holiday_subdivision="BE",
            ),
            actor=admin,
        )
        return calendar.id or 0


# --- waiting on the customer ----------------------------------------------------------------


def test_waiting_ticket_reminds_the_customer_then_resolves_itself_with_a_closing_message(
    desk: Desk,
) -> None:
    calendar_id = _office_calendar(desk)
    desk.followup_settings(
        calendar_id=calendar_id,
        reminder_after_days=2,
        auto_resolve_after_days=4,
        closing_message="We are closing this request for now.",
        survey_enabled=False,
    )
    reference = desk.customer_writes()
    assert len(desk.mails_to_maria()) == 1  # the acknowledgement
    desk.set_status(reference, "waiting on customer")
    panel = desk.client.get(f"/tickets/{reference}/followups").text
    assert "Reminder to the customer: " in panel and "Resolves itself without an answer" in panel

    reminder = desk.timer(reference, REMINDER)
    auto = desk.timer(reference, AUTO_RESOLVE)
    with desk.rt.db.reading() as session:
        waiting_since = session.exec(
            select(TicketStatusChange.at).where(
                TicketStatusChange.ticket_id == desk.ticket(reference).id,
                TicketStatusChange.category == "waiting_on_customer",
            )
        ).one()
        calendar = calendar_of(session.get(BusinessCalendar, calendar_id))
    # Business days of the Berlin office: weekends and Berlin holidays do not count.
    expected = add_business_days(calendar, waiting_since, 2)
    assert abs(reminder.due_at - expected) < timedelta(seconds=1)
    assert reminder.due_at.astimezone(calendar.zone).weekday() < 5
    assert abs(auto.due_at - add_business_days(calendar, waiting_since, 4)) < timedelta(seconds=1)

    assert desk.fire(reminder.due_at - timedelta(minutes=1)) == 0  # not yet
    assert desk.fire(reminder.due_at + timedelta(minutes=1)) == 1
    [_, reminded] = desk.peer.wait_for(2)
    assert reminded.rcpt_tos == ("maria@example.org",)
    assert f"[{reference}]" in reminded.message["Subject"]
    assert reminded.message["Auto-Submitted"] == "auto-replied"
    assert "still waiting for your answer" in reminded.message.get_content()
    assert desk.ticket(reference).status == "waiting on customer"

    assert desk.fire(auto.due_at + timedelta(minutes=1)) == 1
    [*_, closing] = desk.peer.wait_for(3)
    assert "We are closing this request for now." in closing.message.get_content()
    assert desk.ticket(reference).status_category == "resolved"
    assert any("Resolved automatically" in line for line in desk.timeline(reference))
    # Each fires once.
    assert desk.fire(auto.due_at + timedelta(minutes=2)) == 0
    assert len(desk.mails_to_maria()) == 3


def test_a_customer_reply_cancels_the_reminder_and_the_auto_resolve(desk: Desk) -> None:
    desk.followup_settings(reminder_after_days=1, auto_resolve_after_days=3)
    reference = desk.customer_writes()
    desk.set_status(reference, "waiting on customer")
    auto = desk.timer(reference, AUTO_RESOLVE)

    assert desk.customer_replies(reference) == reference
    assert desk.ticket(reference).status == "open"
    assert desk.timer(reference, REMINDER).state == "cancelled"
    assert desk.timer(reference, AUTO_RESOLVE).state == "cancelled"
    assert "Reminder to the customer" not in desk.client.get(f"/tickets/{reference}/followups").text
    assert desk.fire(auto.due_at + timedelta(days=1)) == 0
    assert len(desk.mails_to_maria()) == 1  # only the acknowledgement
    assert desk.ticket(reference).status == "open"

    # Waiting again starts both again, from then on.
    desk.set_status(reference, "waiting on customer")
    assert desk.timer(reference, REMINDER).state == "pending"
    assert desk.timer(reference, AUTO_RESOLVE).due_at > auto.due_at


def test_an_out_of_office_answer_does_not_stop_the_waiting(desk: Desk) -> None:
    reference = desk.customer_writes()
    desk.set_status(reference, "waiting on customer")
    ticket = desk.ticket(reference)
    to = reply_address(desk.settings.secret_key, "support@example.com", ticket.id or 0)
    ingest(
        desk.rt.db,
        desk.settings,
        desk.channel_id,
        mail(
            sender="maria@example.org",
            to=to,
            subject="Out of office",
            headers={"Auto-Submitted": "auto-replied"},
        ),
    )
    desk.drain()
    assert desk.ticket(reference).status == "waiting on customer"
    assert desk.timer(reference, AUTO_RESOLVE).state == "pending"


# --- snoozes and reminders ------------------------------------------------------------------


def _snooze(desk: Desk, reference: str, **data: str) -> str:
    panel = desk.client.get(f"/tickets/{reference}/followups")
    assert panel.status_code == 200
    response = desk.client.post(
        f"/tickets/{reference}/snooze",
        data={**data, "_csrf_token": csrf_token(panel.text)},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    desk.drain()
    return response.text


def test_a_snoozed_ticket_leaves_the_queues_and_comes_back_at_its_time(desk: Desk) -> None:
    reference = desk.customer_writes()
    assert desk.count("open") == 1
    panel = _snooze(desk, reference, kind="snooze", preset="tomorrow")
    assert "Snoozed until" in panel and "09:00" in panel

    assert desk.count("open") == 0 and desk.count("unassigned") == 0
    assert desk.count("snoozed") == 1
    inbox = desk.client.get("/tickets?view=open").text
    assert reference not in inbox
    assert any(line.startswith("Snoozed by Alex Agent until") for line in desk.timeline(reference))

    wake = desk.timer(reference, "snooze_wake")
    assert wake.due_at > utcnow()
    assert desk.fire(wake.due_at - timedelta(minutes=1)) == 0
    assert desk.count("open") == 0
    assert desk.fire(wake.due_at + timedelta(seconds=30)) == 1
    assert desk.count("open") == 1 and desk.count("snoozed") == 0
    assert "Back from snooze: its time came." in desk.timeline(reference)
    with desk.rt.db.reading() as session:
        [notice] = session.exec(
            select(Notification).where(Notification.agent_id == desk.agent_id)
        ).all()
    assert notice.kind == "snooze" and notice.ticket_id == desk.ticket(reference).id
    assert reference in desk.client.get("/notifications").text
    assert desk.fire(wake.due_at + timedelta(days=1)) == 0  # once


def test_a_customer_reply_wakes_a_snoozed_ticket_early(desk: Desk) -> None:
    reference = desk.customer_writes()
    in_a_month = (utcnow() + timedelta(days=30)).strftime("%Y-%m-%dT09:00")
    _snooze(desk, reference, kind="snooze", at=in_a_month, preset="")
    assert "out of the inbox" in desk.client.get(f"/tickets/{reference}/followups").text
    desk.customer_replies(reference)
    assert desk.count("open") == 1
    assert "Back from snooze: the customer wrote." in desk.timeline(reference)
    assert desk.timer(reference, "snooze_wake").state == "cancelled"


def test_a_reminder_keeps_the_ticket_in_the_inbox_and_notifies_its_agent(desk: Desk) -> None:
    reference = desk.customer_writes()
    _snooze(desk, reference, kind="reminder", preset="3h")
    assert desk.count("open") == 1
    wake = desk.timer(reference, "snooze_wake")
    assert timedelta(hours=2, minutes=59) < wake.due_at - utcnow() <= timedelta(hours=3)
    desk.customer_replies(reference)  # a reminder is not woken by the customer
    assert desk.timer(reference, "snooze_wake").state == "pending"
    assert desk.fire(wake.due_at + timedelta(seconds=30)) == 1
    assert "Reminder for Alex Agent: follow up on this ticket." in desk.timeline(reference)
    with desk.rt.db.reading() as session:
        kinds = session.exec(
            select(Notification.kind).where(Notification.agent_id == desk.agent_id)
        ).all()
    assert kinds == ["reminder"]


def test_a_snooze_in_the_past_is_refused(desk: Desk) -> None:
    reference = desk.customer_writes()
    panel = _snooze(desk, reference, kind="snooze", at="2001-01-01T09:00", preset="")
    assert "choose a moment in the future" in panel
    assert desk.count("open") == 1


# --- the satisfaction survey ----------------------------------------------------------------


def _survey_link(received: Received) -> str:
    found = re.search(
        r"http://127\.0\.0\.1:8000(/survey/[^\s?]+)\?score=4", received.message.get_content()
    )
    assert found, "no survey link in the mail"
    return found.group(1)


def test_resolving_sends_one_survey_whose_link_takes_an_answer_without_sign_in(
    desk: Desk, settings: Settings
) -> None:
    reference = desk.customer_writes()
    desk.set_status(reference, "resolved")
    survey_timer = desk.timer(reference, SURVEY)
    assert desk.fire(survey_timer.due_at - timedelta(minutes=5)) == 0  # an hour later
    assert desk.fire(survey_timer.due_at + timedelta(seconds=1)) == 1
    [_, survey_mail] = desk.peer.wait_for(2)
    assert survey_mail.message["Auto-Submitted"] == "auto-replied"
    assert "How did we do?" in survey_mail.message.get_content()
    path = _survey_link(survey_mail)
    agent_view = desk.client.get(f"/tickets/{reference}").text
    assert "[survey link]?score=4" in agent_view and path not in agent_view  # the customer's

    customer = desk.client
    customer.cookies.clear()  # the customer's browser: no session
    assert customer.get(path[:-3] + "xyz").status_code == 404  # a forged link
    form = customer.get(f"{path}?score=4")
    assert form.status_code == 200 and 'value="4" required checked' in form.text
    answered = customer.post(
        path,
        data={
            "score": "4",
            "comment": "Quick and <b>kind</b>",
            "_csrf_token": csrf_token(form.text),
        },
    )
    assert answered.status_code == 200 and "Thank you" in answered.text
    again = customer.post(path, data={"score": "1", "_csrf_token": csrf_token(form.text)})
    assert again.status_code == 409 and "answered already" in again.text
    _browser_session(desk.rt, desk.client, desk.agent_id)  # the agent's browser again

    assert "Satisfaction survey answered: 4 of 5.\nComment: Quick and <b>kind</b>" in desk.timeline(
        reference
    )
    page = desk.client.get(f"/tickets/{reference}").text
    assert "Quick and &lt;b&gt;kind&lt;/b&gt;" in page and "<b>kind</b>" not in page
    with desk.rt.db.reading() as session:
        summary = satisfaction_summary(
            session, start=utcnow() - timedelta(hours=1), end=utcnow() + timedelta(hours=1)
        )
    assert (summary.sent, summary.answers, summary.average) == (1, 1, 4.0)
    assert summary.by_score[4] == 1
    _browser_session(desk.rt, desk.client, desk.admin_id)  # a manager's report shows it
    report = desk.client.get("/reports").text
    assert "1 answer, average 4.0 of 5 (1 survey sent)" in report
    # The count of fours links to the ticket behind it; no ticket answered with a five.
    scores = report[report.index('id="satisfaction"') :]
    four = re.search(r'<td>4</td><td><a href="([^"]+)">1</a>', scores)
    assert four, scores
    behind = desk.client.get(four.group(1).replace("&amp;", "&")).text
    assert f">{reference}</a>" in behind and "satisfaction answers of 4 of 5" in behind
    five = desk.client.get(four.group(1).replace("&amp;", "&").replace("score=4", "score=5"))
    assert five.status_code == 200 and reference not in five.text
    _browser_session(desk.rt, desk.client, desk.agent_id)

    # Reopened and resolved again: still one survey for the ticket.
    desk.customer_replies(reference, body="One more question")
    desk.set_status(reference, "resolved")
    assert desk.fire(utcnow() + timedelta(days=2)) == 0
    assert len(desk.mails_to_maria()) == 2


def test_a_ticket_reopened_within_the_hour_gets_its_survey_at_the_next_resolution(
    desk: Desk,
) -> None:
    reference = desk.customer_writes()
    desk.set_status(reference, "resolved")
    desk.customer_replies(reference, body="Wait, it happened again")
    assert desk.timer(reference, SURVEY).state == "cancelled"
    assert desk.fire(utcnow() + timedelta(hours=2)) == 0
    desk.set_status(reference, "resolved")
    assert desk.fire(utcnow() + timedelta(hours=2)) == 1
    assert "How did we do?" in desk.peer.wait_for(2)[-1].message.get_content()


def test_no_survey_where_the_team_switched_them_off(desk: Desk) -> None:
    team_id = make_team(desk.rt.db, "Payments", desk.agent_id)
    desk.followup_settings(team_id=team_id, survey_enabled=False)
    reference = desk.customer_writes()
    agent = agent_by_email(desk.rt.db, "agent@example.com")
    with desk.rt.db.unit_of_work() as session:
        ticket = session.exec(select(Ticket).where(Ticket.reference == reference)).one()
        update_ticket(session, ticket, actor=agent, team="Payments")
        update_ticket(session, ticket, actor=agent, status="resolved")
    desk.drain()
    assert desk.fire(utcnow() + timedelta(hours=2)) == 0
    assert len(desk.mails_to_maria()) == 1


# --- replies after resolution ---------------------------------------------------------------


def _resolved_days_ago(desk: Desk, reference: str, days: int) -> None:
    with desk.rt.db.unit_of_work() as session:
        session.execute(
            update(Ticket)
            .where(col(Ticket.reference) == reference)
            .values(resolved_at=utcnow() - timedelta(days=days))
        )


def test_a_reply_reopens_within_the_window_and_opens_a_linked_ticket_after_it(
    desk: Desk,
) -> None:
    desk.followup_settings(reopen_window_days=7)
    reference = desk.customer_writes()
    desk.set_status(reference, "resolved")
    _resolved_days_ago(desk, reference, 6)
    assert desk.customer_replies(reference) == reference
    assert desk.ticket(reference).status == "open"

    desk.set_status(reference, "resolved")
    _resolved_days_ago(desk, reference, 8)
    new_reference = desk.customer_replies(reference, body="The card is declined again")
    assert new_reference != reference
    assert desk.ticket(reference).status_category == "resolved"
    new = desk.ticket(new_reference)
    with desk.rt.db.reading() as session:
        link = session.exec(select(TicketLink).where(TicketLink.ticket_id == new.id)).one()
        messages = session.exec(select(Message).where(Message.ticket_id == new.id)).all()
    assert (link.kind, link.other_ticket_id) == ("followup", desk.ticket(reference).id)
    assert any(m.body_text.startswith("The card is declined again") for m in messages)
    assert f"Follow-up of {reference}" in " ".join(desk.timeline(new_reference))
    page = desk.client.get(f"/tickets/{new_reference}").text
    assert f'href="/tickets/{reference}"' in page
    # The customer learns the new reference.
    assert any(new_reference in r.message["Subject"] for r in desk.peer.wait_for(2))


def test_a_team_with_a_longer_window_still_reopens(desk: Desk) -> None:
    team_id = make_team(desk.rt.db, "Disputes", desk.agent_id)
    desk.followup_settings(reopen_window_days=7)
    desk.followup_settings(team_id=team_id, reopen_window_days=30)
    reference = desk.customer_writes()
    agent = agent_by_email(desk.rt.db, "agent@example.com")
    with desk.rt.db.unit_of_work() as session:
        ticket = session.exec(select(Ticket).where(Ticket.reference == reference)).one()
        update_ticket(session, ticket, actor=agent, team="Disputes", status="resolved")
    _resolved_days_ago(desk, reference, 20)
    assert desk.customer_replies(reference) == reference
    assert desk.ticket(reference).status == "open"


# --- the administration page ----------------------------------------------------------------


def test_admin_sets_a_teams_follow_ups_on_the_page_and_it_is_audited(desk: Desk) -> None:
    team_id = make_team(desk.rt.db, "Payments")
    assert desk.client.get("/admin/followups").status_code == 403  # an agent
    admin = desk.client
    _browser_session(desk.rt, admin, desk.admin_id)
    page = admin.get("/admin/followups")
    assert page.status_code == 200 and "Team Payments" in page.text
    refused = admin.post(
        f"/admin/followups/teams/{team_id}",
        data={
            "reminder_after_days": "5",
            "auto_resolve_after_days": "3",
            "reopen_window_days": "10",
            "_csrf_token": csrf_token(page.text),
        },
    )
    assert refused.status_code == 422 and "auto-resolve must come after the reminder" in (
        refused.text
    )
    saved = admin.post(
        f"/admin/followups/teams/{team_id}",
        data={
            "reminder_after_days": "2",
            "auto_resolve_after_days": "5",
            "reopen_window_days": "10",
            "closing_message": "Bye for now",
            "_csrf_token": csrf_token(page.text),
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    no_csrf = admin.post(f"/admin/followups/teams/{team_id}", data={"reopen_window_days": "1"})
    assert no_csrf.status_code == 403
    with desk.rt.db.reading() as session:
        team = effective_settings(session, team_id)
        default = effective_settings(session, None)
        audit = session.exec(
            select(AuditEvent).where(AuditEvent.action == "followups.settings_saved")
        ).one()
        rows = session.exec(select(FollowupSettings)).all()
    assert (team.reminder_after_days, team.auto_resolve_after_days) == (2, 5)
    assert (team.reopen_window_days, team.survey_enabled) == (10, False)
    assert team.closing_message == "Bye for now"
    assert default.survey_enabled and default.reopen_window_days == 14
    assert audit.target_id == "Payments" and audit.actor_label == "admin@example.com"
    assert len(rows) == 1
