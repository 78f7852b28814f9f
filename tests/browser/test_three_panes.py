"""The inbox's three panes in a real browser: triage from the list with the ticket in the
right pane, the docked composer, a live update while a ticket is open there, the phone
layout, and every keyboard shortcut."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest

from tests.support.browsing import SHOTS, open_inbox_signed_in
from tests.support.processes import Deployment
from tests.support.served import api_token

WATCH_SOCKETS = """
window.openSockets = 0;
document.addEventListener("htmx:wsOpen", function () { window.openSockets += 1; });
"""


def _row(page: Any, subject: str) -> Any:
    return page.locator("tr.ticket-row", has_text=subject)


def _open_in_pane(page: Any, subject: str) -> str:
    """Clicks a row's subject; waits for its ticket in the right pane; returns its reference."""
    reference = str(_row(page, subject).get_attribute("id")).removeprefix("ticket-row-")
    _row(page, subject).locator("td.subject a").click()
    page.wait_for_selector(f"#ticket-pane #ticket[data-reference={reference}]")
    page.wait_for_url(f"**/tickets/{reference}")
    return reference


@pytest.mark.server(demo=True)
def test_triage_reply_and_note_from_the_right_pane_without_leaving_the_list(
    browser: Any, server: Deployment
) -> None:
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.on("dialog", lambda dialog: dialog.accept())
    open_inbox_signed_in(page, server.base_url)
    assert page.locator("#ticket-pane .empty-state").inner_text().startswith("No ticket open")
    page.evaluate("window.sameDocument = true")
    assert _row(page, "Locked out").locator(".unread-mark").count() == 1  # not opened yet
    listed = page.locator("tr.ticket-row").count()

    reference = _open_in_pane(page, "Locked out after three wrong passwords")
    assert page.locator("tr.ticket-row").count() == listed  # the list stays
    assert "is-open" in str(_row(page, "Locked out").get_attribute("class"))
    assert _row(page, "Locked out").locator(".unread-mark").count() == 0  # read now
    assert page.title().startswith(reference)

    # Triage: status and priority from the context sidebar, in the pane.
    pane = page.locator("#ticket-pane")
    pane.locator("#ticket-status").select_option("open")
    pane.locator("select[name=priority]").select_option("urgent")
    pane.locator("#ticket-properties button").click()
    pane.locator("dd.fact-priority", has_text="urgent").wait_for()
    _row(page, "Locked out").locator("td.priority", has_text="urgent").wait_for()  # live row

    # Reply and note from the composer docked under the conversation.
    assert pane.locator("#reply-body").is_visible() and pane.locator("#note-body").is_hidden()
    pane.locator("#reply-body").fill("I have unlocked your account.")
    pane.locator("form.composer.reply button").click()
    pane.locator("li.dir-outbound", has_text="I have unlocked your account.").wait_for()
    pane.locator("label[for=tab-note]").click()
    assert pane.locator("#reply-body").is_hidden()
    pane.locator("#note-body").fill("Unlocked after a call-back on the number on file.")
    pane.locator("form.composer.note button").click()
    pane.locator("li.kind-internal_note", has_text="call-back on the number").wait_for()
    pane.locator("label[for=tab-call]").click()
    assert pane.locator("form.composer.call").is_visible()
    assert page.evaluate("window.sameDocument") is True  # all of it without a page load

    # Another row swaps the pane; the address names the ticket shown.
    other = _open_in_pane(page, "Called about a late payment fee")
    assert other != reference
    assert page.locator("#ticket-pane #ticket").count() == 1
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "inbox-three-panes.png"))

    # Back restores the list with the first ticket; the address, reloaded, is a full page.
    page.go_back()
    page.wait_for_url(f"**/tickets/{reference}")
    page.reload()
    page.wait_for_selector("#ticket p.reference")
    assert page.locator("#ticket-pane").count() == 0
    assert page.locator("li.kind-internal_note", has_text="call-back").count() == 1
    page.close()


@pytest.mark.server(demo=True)
def test_a_live_update_reaches_the_ticket_open_in_the_right_pane(
    browser: Any, server: Deployment
) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.add_init_script(WATCH_SOCKETS)
    page = context.new_page()
    open_inbox_signed_in(page, server.base_url)
    page.wait_for_function("() => window.openSockets === 1")  # the list's
    listed = page.locator("tr.ticket-row").count()
    reference = _open_in_pane(page, "Purchase I don't recognise")
    page.wait_for_function("() => window.openSockets === 2")  # and the ticket's

    token = api_token(server, "agent@example.com")
    request = urllib.request.Request(
        f"{server.base_url}/api/v1/tickets/{reference}/notes",
        data=json.dumps({"body": "The merchant confirmed the refund."}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request) as answer:
        assert answer.status == 201
    page.locator("#ticket-pane li.msg", has_text="The merchant confirmed the refund.").wait_for()
    assert page.locator("#ticket-pane li.msg", has_text="merchant confirmed").count() == 1
    assert page.locator("tr.ticket-row").count() == listed  # the list is still there
    context.close()


@pytest.mark.server(demo=True)
def test_a_phone_shows_one_pane_at_a_time(browser: Any, server: Deployment) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    open_inbox_signed_in(page, server.base_url)
    assert page.locator("#inbox-list").is_visible()
    assert page.locator("#ticket-pane").is_hidden()  # nothing open: the list alone
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width  # nothing wider than the screen

    reference = _open_in_pane(page, "Forgot my password")
    assert page.locator("#inbox-list").is_hidden()  # the ticket alone
    assert page.locator("#ticket-pane h1").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "phone-ticket.png"))
    page.locator("#ticket-pane a.pane-back").click()
    page.wait_for_url("**/tickets")
    assert page.locator("#inbox-list").is_visible()
    # The ticket's own page on a phone: the conversation first, the sidebar under it.
    page.goto(f"{server.base_url}/tickets/{reference}")
    conversation = page.locator("#ticket .conversation").bounding_box()
    context = page.locator("#ticket .context").bounding_box()
    assert conversation and context and context["y"] > conversation["y"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.close()


@pytest.mark.server(demo=True)
def test_every_keyboard_shortcut(browser: Any, server: Deployment) -> None:
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    open_inbox_signed_in(page, server.base_url)
    page.goto(f"{server.base_url}/tickets?q=password")  # two of the demo's email tickets
    rows = page.locator("tr.ticket-row")
    assert rows.count() == 2

    # j and k move through the list; the right pane follows.
    page.keyboard.press("j")
    first = str(rows.nth(0).get_attribute("id")).removeprefix("ticket-row-")
    page.wait_for_selector(f"#ticket-pane #ticket[data-reference={first}]")
    page.keyboard.press("j")
    second = str(rows.nth(1).get_attribute("id")).removeprefix("ticket-row-")
    page.wait_for_selector(f"#ticket-pane #ticket[data-reference={second}]")
    page.wait_for_url(f"**/tickets/{second}")
    page.keyboard.press("k")
    page.wait_for_selector(f"#ticket-pane #ticket[data-reference={first}]")
    assert page.locator("tr.ticket-row.kb-current").get_attribute("id") == f"ticket-row-{first}"
    outline = page.evaluate(
        "getComputedStyle(document.querySelector('tr.kb-current')).outlineStyle"
    )
    assert outline == "solid"  # the chosen row is visibly marked

    # r and n focus the reply and the note, each on its own tab; Escape leaves the field.
    page.keyboard.press("r")
    assert page.evaluate("document.activeElement.id") == "reply-body"
    page.keyboard.press("Escape")
    page.keyboard.press("n")
    assert page.evaluate("document.activeElement.id") == "note-body"
    assert page.locator("#note-body").is_visible()
    page.keyboard.type("?j")  # typed into the note: no shortcut fires
    assert page.locator("#shortcut-help").is_hidden()
    assert page.locator("tr.ticket-row.kb-current").get_attribute("id") == f"ticket-row-{first}"
    page.keyboard.press("Escape")

    # s the status, m the macro; a assigns to me.
    page.keyboard.press("s")
    assert page.evaluate("document.activeElement.id") == "ticket-status"
    page.keyboard.press("Escape")
    page.keyboard.press("m")
    assert page.evaluate("document.activeElement.id") == "macro-select"
    page.keyboard.press("Escape")
    page.locator("#ticket-assignee").select_option(label="unassigned")
    page.locator("#ticket-properties button").click()
    page.wait_for_selector("dd.fact-assignee >> text=unassigned")
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("a")
    page.wait_for_selector("dd.fact-assignee >> text=Alex Agent")

    # ? shows the help, Escape hides it.
    page.keyboard.press("?")
    page.locator("#shortcut-help").wait_for(state="visible")
    page.keyboard.press("Escape")
    page.locator("#shortcut-help").wait_for(state="hidden")

    # o and Enter open the chosen row in the pane; g i goes back to the inbox.
    page.keyboard.press("j")
    page.keyboard.press("o")
    page.wait_for_selector(f"#ticket-pane #ticket[data-reference={second}]")
    page.keyboard.press("k")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#ticket-pane #ticket[data-reference={first}]")
    page.goto(f"{server.base_url}/tickets/{first}")
    page.keyboard.press("g")
    page.keyboard.press("i")
    page.wait_for_url("**/tickets")
    page.close()
