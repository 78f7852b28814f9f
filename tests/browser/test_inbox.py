"""Triage from the inbox: filter, select several tickets, assign them and change their status."""

from __future__ import annotations

from typing import Any

from tests.support.browsing import SHOTS, open_inbox_signed_in
from tests.support.processes import Deployment
from tests.support.served import load_demo_desk


def test_agent_filters_selects_and_bulk_assigns_and_sets_status(
    browser: Any, server: Deployment
) -> None:
    load_demo_desk(server)
    page = browser.new_page()
    open_inbox_signed_in(page, server.base_url)
    assert page.locator("tr.ticket-row").count() >= 5  # the demo's stories, and its chats
    waiting = page.locator("li[data-view=waiting] .count")
    waiting_before = int(waiting.inner_text())

    page.select_option("select[name=status]", "open")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**status=open**")  # the filter is in the address, to bookmark or share
    page.wait_for_selector("tr.ticket-row:not(.status-new)")
    open_before = page.locator("tr.ticket-row").count()
    statuses = set(page.locator("tr.ticket-row td.status").all_inner_texts())
    assert statuses == {"open"}
    subjects = ["Called about a late payment fee", "Purchase I don't recognise"]
    assert set(subjects) <= set(page.locator("tr.ticket-row td.subject a").all_inner_texts())

    for subject in subjects:
        page.locator("tr.ticket-row", has_text=subject).locator("input[type=checkbox]").check()
    page.select_option("select[name=set_assignee]", "manager@example.com")
    page.select_option("select[name=set_status]", "waiting on customer")
    page.click("form.bulk button[type=submit]")
    page.wait_for_selector("p.notice >> text=Changed 2 tickets.")
    # The list keeps its filter: both tickets left "open", so they are no longer shown.
    assert page.locator("tr.ticket-row").count() == open_before - 2
    page.wait_for_function(
        "n => document.querySelector('li[data-view=waiting] .count').textContent === String(n)",
        arg=waiting_before + 2,
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "inbox.png"), full_page=True)

    page.click("li[data-view=waiting] a")
    page.wait_for_url("**/tickets?view=waiting")
    assert page.locator("tr.ticket-row").count() == waiting_before + 2
    # The rows show the assignee's initials, with the address as their title.
    for subject in subjects:
        row = page.locator("tr.ticket-row", has_text=subject)
        assert row.locator("td.assignee abbr").get_attribute("title") == "manager@example.com"

    page.click("tr.ticket-row a >> text=Purchase I don't recognise")
    page.wait_for_selector("p.reference")
    assert "waiting on customer" in page.content()  # the change is on the ticket's history
    page.close()


def test_enter_in_the_merge_into_field_merges_rather_than_applying_the_other_changes(
    browser: Any, server: Deployment
) -> None:
    load_demo_desk(server)
    page = browser.new_page()
    open_inbox_signed_in(page, server.base_url)
    rows = page.locator("tr.ticket-row")
    assert rows.count() >= 3
    target, *sources = [
        str(rows.nth(i).get_attribute("id")).removeprefix("ticket-row-") for i in range(3)
    ]
    target_status = page.locator(f"#ticket-row-{target} td.status").inner_text()
    for reference in sources:
        page.check(f"input[name=ticket][value='{reference}']")
    # A change is also chosen in the bar: Enter in the merge field must not apply it.
    page.select_option("select[name=set_status]", "waiting on customer")
    page.fill("input[name=into]", str(target).lower())
    page.press("input[name=into]", "Enter")

    page.wait_for_selector(f"p.notice >> text=Merged 2 tickets into {target}.")
    assert page.locator("p.error").count() == 0
    # The merged tickets are closed; the target keeps its status.
    for reference in sources:
        assert page.locator(f"#ticket-row-{reference} td.status").inner_text() == "closed"
    assert page.locator(f"#ticket-row-{target} td.status").inner_text() == target_status

    page.goto(f"{server.base_url}/tickets/{sources[0]}")
    assert f"/tickets/{target}" in page.content()  # the "merged into" link
    page.close()
