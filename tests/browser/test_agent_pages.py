"""What an agent clicks: sign in, find a ticket, read it, write a note and a reply."""

from __future__ import annotations

from typing import Any

from tests.support.browsing import SHOTS, open_inbox_signed_in
from tests.support.processes import Deployment
from tests.support.served import load_demo_desk


def test_agent_signs_in_triages_and_answers(browser: Any, server: Deployment) -> None:
    load_demo_desk(server)
    page = browser.new_page()
    open_inbox_signed_in(page, server.base_url)
    assert page.locator("tr.ticket-row").count() >= 5  # the demo's stories, and its chats

    page.fill("input[name=q]", "purchase")
    page.wait_for_function("() => document.querySelectorAll('tr.ticket-row').length === 1")
    page.click("tr.ticket-row a >> nth=1")
    page.wait_for_selector("p.reference")
    assert page.locator("h1").inner_text() == "Purchase I don't recognise"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "ticket.png"), full_page=True)

    url_before = page.url
    page.click("label[for=tab-note]")  # the composer's "Internal note" tab
    page.fill("#note-body", "Checked with the merchant: <b>not</b> a fraud case.")
    page.click("form.note button")
    page.wait_for_selector("li.kind-internal_note >> text=Checked with the merchant")
    assert page.url == url_before  # htmx swapped the timeline in place
    note = page.locator("li.kind-internal_note").last.inner_text()
    assert "<b>not</b>" in note  # shown as text, never as markup

    page.goto(f"{server.base_url}/tickets?q=maria")
    page.click("tr.ticket-row a >> nth=1")
    page.wait_for_selector("p.reference")
    page.fill("#reply-body", "Your account is unlocked; please sign in again.")
    page.click("form.composer:not(.note) button")
    reply = page.locator("li.dir-outbound", has_text="Your account is unlocked")
    reply.wait_for()
    assert reply.locator(".delivery").inner_text().startswith(("queued", "sent", "failed"))
    page.close()
