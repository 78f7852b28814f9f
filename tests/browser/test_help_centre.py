"""The help centre in Chromium: a manager writes an article with the live preview, publishes
it, and a visitor finds it by searching, without script; the pages pass the accessibility
check; the report counts a chat visit the article answered."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from sqlmodel import select, update

from inbox.db import Database
from inbox.models import Agent, HelpVisit, utcnow
from tests.support.accessibility import assert_accessible
from tests.support.browsing import SHOTS, submit_sign_in
from tests.support.desk import confirm_second_factor
from tests.support.processes import Deployment
from tests.support.served import load_demo_desk


def test_a_manager_publishes_an_article_and_a_visitor_finds_it_in_search(
    browser: Any, server: Deployment
) -> None:
    load_demo_desk(server)
    page = browser.new_page()
    page.goto(f"{server.base_url}/login")
    submit_sign_in(page, "manager@example.com")
    page.wait_for_load_state()
    db = Database(server.env["INBOX_DATABASE_URL"])
    with db.reading() as session:
        manager = session.exec(select(Agent).where(Agent.email == "manager@example.com")).one()
    confirm_second_factor(db, manager.id or 0)  # the two-factor sign-in is tested elsewhere
    db.dispose()

    page.goto(f"{server.base_url}/admin/macros")  # a manager's way into administration
    page.click("nav.subnav a[href='/admin/help']")
    page.wait_for_selector("h1 >> text=Help-centre articles")
    page.click("text=New article")
    page.fill("input[name=title]", "Card declined abroad")
    page.fill("input[name=category]", "Payments")
    page.locator("#body-markdown").press_sequentially("Turn on **travel mode** in the app.")
    # The live preview renders the Markdown as the public page will.
    page.wait_for_selector("#help-preview strong >> text=travel mode")
    assert_accessible(page)
    page.click("button[value=publish]")
    page.wait_for_selector("text=Saved.")
    assert page.locator(".badge.status-published").count() == 1

    visitor = browser.new_page(java_script_enabled=False)  # readers need no script
    visitor.goto(f"{server.base_url}/help")
    visitor.fill("#help-q", "declined trav")
    visitor.click(".help-search button")
    visitor.wait_for_selector("h1 >> text=Results for")
    visitor.click("text=Card declined abroad")
    visitor.wait_for_selector("article h1 >> text=Card declined abroad")
    assert visitor.locator(".help-body strong").inner_text() == "travel mode"
    article_url = visitor.url
    visitor.click("button[value=yes]")
    visitor.wait_for_selector("text=Thank you for your answer.")
    visitor.close()
    # The accessibility check runs script in the page: on a page that allows it.
    for path in ("/help", article_url.removeprefix(server.base_url), "/help/search?q=card"):
        page.goto(f"{server.base_url}{path}")
        assert_accessible(page, path)

    # A chat visitor opened it from the widget's suggestions an hour ago and never wrote.
    assert httpx.get(f"{article_url}?visit={'k' * 22}").status_code == 200
    with db.unit_of_work() as session:
        session.execute(update(HelpVisit).values(opened_at=utcnow() - timedelta(hours=2)))
    db.dispose()
    page.goto(f"{server.base_url}/admin/help/report")
    answered = page.locator(".help-deflection").inner_text()
    assert answered.startswith("1 of 1 chat visitor who opened an article")
    assert_accessible(page, "/admin/help/report")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "help-report.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SHOTS / "help-report-phone.png"), full_page=True)
    page.close()
