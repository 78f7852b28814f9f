"""The agent workspace in a real browser: a macro, a mention, a merge and its undo, shortcuts."""

from __future__ import annotations

from typing import Any

from tests.support.browsing import SHOTS, open_inbox_signed_in
from tests.support.processes import Deployment
from tests.support.served import load_demo_desk


def _reference_of(page: Any, subject: str) -> str:
    row = page.locator("tr.ticket-row", has_text=subject)
    return str(row.get_attribute("id")).removeprefix("ticket-row-")


def test_agent_applies_a_macro_mentions_merges_and_undoes_with_shortcuts(
    browser: Any, server: Deployment
) -> None:
    load_demo_desk(server)
    page = browser.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # "Merge …? You can undo this."
    open_inbox_signed_in(page, server.base_url)
    maria = _reference_of(page, "Locked out after three wrong passwords")

    # j moves through the inbox list, o opens the chosen ticket.
    page.keyboard.press("j")
    page.keyboard.press("j")
    chosen = page.locator("tr.ticket-row.kb-current")
    assert chosen.count() == 1
    assert chosen.get_attribute("id") == page.locator("tr.ticket-row >> nth=1").get_attribute("id")
    reference = str(chosen.get_attribute("id")).removeprefix("ticket-row-")
    page.keyboard.press("o")
    page.wait_for_url(f"**/tickets/{reference}")
    page.goto(f"{server.base_url}/tickets?q=purchase")
    page.click("tr.ticket-row a >> nth=1")
    page.wait_for_selector("p.reference")
    tom = page.locator("#ticket").get_attribute("data-reference")
    assert tom

    # A macro: its text goes into the reply box, its changes onto the ticket and its timeline.
    page.fill("#reply-body", "Hi Tom,")
    page.select_option(
        "#macro-select", label="Ask for the last payment amount (changes the ticket)"
    )
    page.click("form.macro-picker button")
    page.wait_for_selector("dd.fact-status >> text=waiting on customer")
    draft = page.input_value("#reply-body")
    assert draft.startswith("Hi Tom,\n\nHello Tom Becker,")
    assert tom in draft and draft.endswith("Alex Agent")
    assert page.locator("li.kind-system", has_text="macro applied").count() == 1
    assert page.locator("dd.fact-tags", has_text="identity-check").count() == 1

    # A mention in a note notifies the manager.
    page.click("label[for=tab-note]")  # the composer's "Internal note" tab
    page.fill("#note-body", "@manager can you confirm the merchant refund?")
    page.click("form.note button")
    page.wait_for_selector("p.notice >> text=Notified Max Manager.")

    # Merge into Maria's ticket, then undo it.
    page.fill("#merge-into", maria)
    page.click("form.merge button")
    undo = page.locator("form.unmerge button")
    undo.wait_for()
    assert page.locator("dd.fact-status").inner_text() == "closed"
    assert page.locator("p.link-merged a").inner_text() == maria
    assert page.locator("li.kind-system", has_text=f"merged into {maria}").count() == 1
    undo.click()
    page.wait_for_selector("form.merge")
    assert page.locator("form.unmerge").count() == 0
    assert page.locator("dd.fact-status").inner_text() == "waiting on customer"
    assert page.locator("li.msg", has_text="There is a purchase of 249.00 EUR").count() == 1

    # "?" opens the help, but not while typing; Escape closes it.
    page.click("label[for=tab-note]")
    page.click("#note-body")
    page.keyboard.type("?")
    assert page.locator("#shortcut-help").is_hidden()
    page.keyboard.press("Escape")
    page.keyboard.press("?")
    page.locator("#shortcut-help").wait_for(state="visible")
    assert "Assign the ticket to me" in page.locator("#shortcut-help").inner_text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "ticket_workspace.png"), full_page=True)
    page.keyboard.press("Escape")
    page.locator("#shortcut-help").wait_for(state="hidden")

    # r jumps to the reply box, s to the status; a assigns the ticket to me.
    page.keyboard.press("r")
    assert page.evaluate("document.activeElement.id") == "reply-body"
    page.keyboard.press("Escape")
    page.keyboard.press("s")
    assert page.evaluate("document.activeElement.id") == "ticket-status"
    page.select_option("#ticket-assignee", label="unassigned")
    page.click("#ticket-properties button")
    page.wait_for_selector("dd.fact-assignee >> text=unassigned")
    page.keyboard.press("a")
    page.wait_for_selector("dd.fact-assignee >> text=Alex Agent")
    page.close()
