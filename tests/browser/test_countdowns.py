"""SLA countdowns in a real browser against ``inbox serve``: they tick without a reload, a
breached ticket shows overdue, and without JavaScript the server's text is there."""

from __future__ import annotations

from typing import Any

from inbox.actions.sla.policies import PolicyFields, save_policy
from inbox.db import Database
from inbox.settings import Settings
from tests.support.browsing import submit_sign_in
from tests.support.desk import PASSWORD, make_agent, make_channel
from tests.support.processes import Deployment
from tests.support.sla_story import opened_ago


def _desk(db: Database, settings: Settings) -> dict[str, str]:
    channel = make_channel(db, settings)
    make_agent(db)
    with db.unit_of_work() as session:
        save_policy(session, PolicyFields(name="Standard", first_response_minutes=60), actor=None)
    return {
        "overdue": opened_ago(db, settings, channel, "Overdue", 65),
        "soon": opened_ago(db, settings, channel, "Soon", 57),
    }


def _countdown(reference: str) -> str:
    return f"#ticket-row-{reference} time.sla-countdown"


def test_countdowns_tick_and_a_breached_ticket_shows_overdue(
    browser: Any, server: Deployment, db: Database, settings: Settings
) -> None:
    refs = _desk(db, settings)
    page = browser.new_page()
    page.goto(f"{server.base_url}/tickets")
    submit_sign_in(page, "agent@example.com", PASSWORD)
    page.wait_for_url("**/tickets")
    page.click("li[data-view=breaching] a")
    page.wait_for_url("**/tickets?view=breaching&sort=sla")
    rows = page.locator("tr.ticket-row")
    assert [
        str(rows.nth(i).get_attribute("id")).removeprefix("ticket-row-")
        for i in range(rows.count())
    ] == [
        refs["overdue"],
        refs["soon"],
    ]

    overdue = page.locator(_countdown(refs["overdue"]))
    assert overdue.inner_text().startswith("overdue 5m ")
    assert "sla-overdue" in (overdue.get_attribute("class") or "")
    soon = page.locator(_countdown(refs["soon"]))
    first = soon.inner_text()
    assert first.startswith("due in 2m ") or first.startswith("due in 3m ")
    assert "sla-soon" in (soon.get_attribute("class") or "")
    # It ticks: the text changes within a couple of seconds, with no request for it.
    page.wait_for_function(
        "([selector, before]) => document.querySelector(selector).textContent !== before",
        arg=[_countdown(refs["soon"]), first],
        timeout=5_000,
    )
    assert soon.inner_text().startswith("due in ")
    before = overdue.inner_text()
    page.wait_for_function(
        "([selector, before]) => document.querySelector(selector).textContent !== before",
        arg=[_countdown(refs["overdue"]), before],
        timeout=5_000,
    )
    assert overdue.inner_text().startswith("overdue 5m ")
    page.close()


def test_without_javascript_the_countdown_is_the_servers_text(
    browser: Any, server: Deployment, db: Database, settings: Settings
) -> None:
    refs = _desk(db, settings)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{server.base_url}/tickets")
    submit_sign_in(page, "agent@example.com", PASSWORD)
    page.wait_for_url("**/tickets")
    assert page.locator(_countdown(refs["overdue"])).inner_text().startswith("overdue 5m ")
    assert page.locator(_countdown(refs["soon"])).inner_text().startswith("due in 2m ")
    context.close()
