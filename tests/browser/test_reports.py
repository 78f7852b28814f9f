"""What a manager reads on /reports: charts drawn on the server, each bar a way to the
tickets it counts."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from inbox.db import Database
from inbox.models import Agent
from tests.support.browsing import SHOTS, submit_sign_in
from tests.support.desk import confirm_second_factor
from tests.support.processes import Deployment
from tests.support.served import load_demo_desk


def test_manager_opens_the_report_and_follows_a_bar_to_its_tickets(
    browser: Any, server: Deployment
) -> None:
    load_demo_desk(server)
    page = browser.new_page(java_script_enabled=False)  # the report needs no script
    page.goto(f"{server.base_url}/login")
    submit_sign_in(page, "manager@example.com")
    page.wait_for_load_state()
    db = Database(server.env["INBOX_DATABASE_URL"])
    with db.reading() as session:
        manager = session.exec(select(Agent).where(Agent.email == "manager@example.com")).one()
    confirm_second_factor(db, manager.id or 0)  # the two-factor sign-in is tested elsewhere
    db.dispose()

    page.goto(f"{server.base_url}/tickets")
    page.click("header.top a[href='/reports']")
    page.wait_for_selector("h1 >> text=SLA report")
    assert page.locator("figure.chart svg").count() == 3
    assert page.locator("figure.chart svg script").count() == 0
    # The demo's one survey answer: Sam gave 5 of 5.
    assert "1 answer, average 5" in page.locator("#satisfaction").inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "reports.png"), full_page=True)

    # The demo's tickets were all opened just now: the backlog's first bar holds them all.
    unresolved = int(page.locator("#backlog table a").first.inner_text())
    assert unresolved > 0
    page.locator("#backlog svg a").first.click()
    page.wait_for_selector("h1 >> text=Tickets behind the report")
    rows = page.locator("table.report-drilldown tbody tr")
    assert rows.count() == unresolved
    first = rows.first.locator("a").inner_text()
    rows.first.locator("a").click()
    page.wait_for_selector("p.reference")
    assert first in page.url
    page.close()
