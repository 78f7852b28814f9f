"""The customer portal updates live in Chromium against a real ``inbox serve``: a customer
has their request open (and the list of requests in another tab) while the agent writes an
internal note, replies and solves it on the ticket's page; the reply and the new status show
without a reload, the note never."""

from __future__ import annotations

from typing import Any

from tests.support.browsing import SHOTS, SIZES, WATCH_SOCKET, shoot, signed_in_page
from tests.support.portal import MARIA, open_tickets, portal_cookie, write_in
from tests.support.processes import Deployment
from tests.support.served import create_agent


def customer_context(browser: Any, server: Deployment, cookie: str) -> Any:
    """A browser signed in to the portal (the cookie of a followed sign-in link)."""
    name, value = cookie.split("=", 1)
    context = browser.new_context(viewport=SIZES["desktop"])
    context.add_cookies([{"name": name, "value": value, "url": server.base_url}])
    context.add_init_script(WATCH_SOCKET)
    return context


def live_page(context: Any, server: Deployment, path: str) -> Any:
    """A page whose live socket is open; ``page.htmx_errors`` collects what htmx reports."""
    page = context.new_page()
    page.htmx_errors = []
    page.on(
        "console",
        lambda m: (
            page.htmx_errors.append(m.text) if m.type == "error" and "htmx" in m.text else None
        ),
    )
    page.goto(f"{server.base_url}{path}")
    page.wait_for_function("() => window.liveOpen === true")
    page.evaluate("window.sameDocument = true")
    return page


def test_the_agents_reply_and_status_appear_on_the_customers_open_portal_pages(
    browser: Any, server: Deployment
) -> None:
    refs = open_tickets(server)
    later = write_in(server, f"Maria Lopez <{MARIA}>", "New address")
    create_agent(server, "alice@example.test", "Alice Agent")
    cookie = portal_cookie(server, MARIA)
    customer = customer_context(browser, server, cookie)
    ticket = live_page(customer, server, f"/portal/tickets/{refs['maria']}")
    listing = live_page(customer, server, "/portal/tickets")
    rows = listing.locator(".portal-tickets li")
    assert [rows.nth(n).get_attribute("id") for n in (0, 1)] == [
        f"portal-ticket-{later}",
        f"portal-ticket-{refs['maria']}",
    ]
    assert ticket.locator("#portal-status").inner_text() == "Received"

    agent = signed_in_page(browser, server, "alice@example.test", f"/tickets/{refs['maria']}")
    agent.click("label[for=tab-note]")
    agent.fill("#note-body", "Customer is a VIP, unblock fast.")
    agent.click("form.note button")
    agent.locator("li.kind-internal_note", has_text="VIP").wait_for()
    agent.click("label[for=tab-reply]")
    agent.fill("#reply-body", "Your card works again. Sorry for the trouble!")
    agent.click("form.composer:not(.note) button")
    agent.locator("li.dir-outbound", has_text="Your card works again").wait_for()

    reply = ticket.locator("#portal-messages li.msg", has_text="Your card works again")
    reply.wait_for()
    assert reply.locator(".author").inner_text() == "Alice Agent"
    assert ticket.locator("#portal-messages", has_text="VIP").count() == 0
    assert ticket.locator("#portal-messages li.msg").count() == 3  # her mail, the receipt, this
    assert ticket.locator("#portal-messages li.msg").last.inner_text().endswith("trouble!")

    agent.select_option("#ticket-status", "resolved")
    agent.click("#ticket-properties button[type=submit]")
    ticket.locator("#portal-status", has_text="Solved").wait_for()
    row = listing.locator(f"#portal-ticket-{refs['maria']}")
    row.locator(".portal-status", has_text="Solved").wait_for()
    assert rows.count() == 2  # the row moved to the top, not copied there
    assert [rows.nth(n).get_attribute("id") for n in (0, 1)] == [
        f"portal-ticket-{refs['maria']}",
        f"portal-ticket-{later}",
    ]
    for page in (ticket, listing):
        assert page.evaluate("window.sameDocument") is True  # live, no reload
        assert page.htmx_errors == []

    shoot(ticket, "live-ticket")
    shoot(listing, "live-tickets")
    agent.screenshot(path=str(SHOTS / "portal-live-agent.png"), full_page=True)
    agent.context.close()
    customer.close()
