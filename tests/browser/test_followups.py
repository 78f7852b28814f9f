"""Follow-ups in a real browser against ``inbox serve``: an agent snoozes a ticket from its
page and it leaves the queues; a customer answers the satisfaction survey through its link,
without signing in, and the agent sees the answer on the ticket."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from sqlmodel import select

from inbox.actions.followups import send_survey, survey_link
from inbox.actions.tickets import update_ticket
from inbox.db import Database
from inbox.models import Ticket
from inbox.settings import Settings
from tests.support.browsing import submit_sign_in
from tests.support.desk import PASSWORD, agent_by_email, make_agent, make_channel, new_ticket
from tests.support.processes import Deployment


def _signed_in(browser: Any, server: Deployment) -> Any:
    page = browser.new_page()
    page.goto(f"{server.base_url}/tickets")
    submit_sign_in(page, "agent@example.com", PASSWORD)
    page.wait_for_url("**/tickets")
    return page


def test_agent_snoozes_a_ticket_from_its_page_and_it_leaves_the_queues(
    browser: Any, server: Deployment, db: Database, settings: Settings
) -> None:
    make_agent(db)
    reference = new_ticket(db, settings, make_channel(db, settings), subject="Refund missing")
    page = _signed_in(browser, server)
    page.goto(f"{server.base_url}/tickets/{reference}")
    page.wait_for_selector("#followups form.followup-set")  # the panel loads itself
    page.click("#followups button.preset-tomorrow")
    pending = page.locator("#followups p.followup-pending")
    pending.wait_for()
    assert "Snoozed until" in pending.inner_text() and "09:00" in pending.inner_text()
    page.reload()
    page.wait_for_selector("li.kind-system >> text=Snoozed by Alex Agent")
    assert "Snoozed until" in page.locator("#followups p.followup-pending").inner_text()

    page.goto(f"{server.base_url}/tickets?view=open")
    assert page.locator(f"#ticket-row-{reference}").count() == 0
    page.click("li[data-view=snoozed] a")
    page.wait_for_url("**/tickets?view=snoozed")
    page.wait_for_selector(f"#ticket-row-{reference}")

    page.goto(f"{server.base_url}/tickets/{reference}")
    page.wait_for_selector("#followups p.followup-pending")
    page.click("#followups form.followup-cancel button")
    page.locator("#followups p.followup-pending").wait_for(state="detached")
    page.goto(f"{server.base_url}/tickets?view=open")
    page.wait_for_selector(f"#ticket-row-{reference}")
    page.close()


def test_customer_answers_the_survey_through_its_link_and_the_agent_sees_it(
    browser: Any, server: Deployment, db: Database, settings: Settings
) -> None:
    make_agent(db)
    reference = new_ticket(db, settings, make_channel(db, settings), subject="Card declined")
    agent = agent_by_email(db, "agent@example.com")
    with db.unit_of_work() as session:
        ticket = session.exec(select(Ticket).where(Ticket.reference == reference)).one()
        update_ticket(session, ticket, actor=agent, status="resolved")
    with db.unit_of_work() as session:  # what the survey timer does an hour later
        survey = send_survey(session, settings, ticket.id or 0)
        assert survey is not None
        path = urlsplit(survey_link(settings, survey.id or 0)).path

    customer = browser.new_context()  # the customer's own browser: no session
    page = customer.new_page()
    page.goto(f"{server.base_url}{path}?score=4")
    assert page.locator("input[name=score][value='4']").is_checked()
    page.check("input[name=score][value='5']")
    page.fill("#survey-comment", "Sorted in <i>minutes</i>")
    page.click("form button[type=submit]")
    page.wait_for_selector("text=Thank you! Your answer has reached the team.")
    page.goto(f"{server.base_url}{path}")
    page.wait_for_selector("text=This survey has been answered already.")
    customer.close()

    page = _signed_in(browser, server)
    page.goto(f"{server.base_url}/tickets/{reference}")
    answer = page.locator("li.kind-system", has_text="Satisfaction survey answered: 5 of 5")
    answer.wait_for()
    assert "Sorted in <i>minutes</i>" in answer.inner_text()  # shown as text, not markup
    page.wait_for_selector("#followups strong.survey-score >> text=5 of 5")
    page.close()
