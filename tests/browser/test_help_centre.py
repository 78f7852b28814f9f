"""The help centre in Chromium: a manager writes an article with the live preview, publishes
it, and a visitor finds it by searching, without script; the pages pass the accessibility
check."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from inbox.db import Database
from inbox.models import Agent
from tests.support.accessibility import assert_accessible
from tests.support.browsing import submit_sign_in
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
    page.close()
