"""The customer portal in Chromium against a real ``inbox serve``: a customer signs in from
the link the desk mailed (received by a real SMTP server), replies with a screenshot, and
the agent who has the ticket open sees the reply arrive without reloading."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus

from tests.support.browsing import SHOTS, SIZES, shoot, signed_in_page
from tests.support.dovecot import DovecotServer
from tests.support.fixtures import MailboxUser
from tests.support.live import open_live
from tests.support.processes import Deployment, wait_for
from tests.support.served import api_token, customer_mail, setup_desk, wait_for_ticket
from tests.support.smtp_peer import SmtpPeer


def mailed_link(smtp_peer: SmtpPeer) -> str:
    """The portal sign-in link in the mail the desk sent to Maria."""

    def link() -> str | None:
        for received in smtp_peer.received:
            body = received.message.get_body(("plain",))
            found = re.search(
                r"(http\S+/portal/sign-in\?token=\S+)", body.get_content() if body else ""
            )
            if found:
                return found.group(1)
        return None

    return wait_for(link, timeout=60, what="the portal sign-in mail")


def test_customer_signs_in_from_mailed_link_replies_with_screenshot_and_agent_sees_it_live(
    browser: Any,
    server: Deployment,
    dovecot: DovecotServer,
    mailbox_user: MailboxUser,
    smtp_peer: SmtpPeer,
    tmp_path: Path,
) -> None:
    setup_desk(server, mailbox_user, smtp_peer)
    token = api_token(server, "agent@example.test")
    raw = customer_mail("Card payment declined", "My card was declined at the checkout.")
    dovecot.append(mailbox_user.user, mailbox_user.password, raw.as_bytes())
    reference = wait_for_ticket(server, token, "Card payment declined")
    agent = signed_in_page(browser, server, "agent@example.test", f"/tickets/{reference}")
    agent.evaluate("window.sameDocument = true")

    customer = browser.new_context(viewport=SIZES["desktop"]).new_page()
    customer.goto(f"{server.base_url}/portal")
    shoot(customer, "sign-in")
    customer.fill("input[name=email]", "maria@example.org")
    customer.click("button[type=submit]")
    customer.locator("p.notice", has_text="Check your mail").wait_for()

    link = mailed_link(smtp_peer)
    assert link.startswith(server.base_url)
    customer.goto(link)
    customer.click("text=Continue to my requests")
    customer.wait_for_url("**/portal/tickets")
    customer.locator(".portal-tickets a", has_text="Card payment declined").wait_for()
    shoot(customer, "tickets")
    portal_cookies = "; ".join(f"{c['name']}={c['value']}" for c in customer.context.cookies())
    with pytest.raises(InvalidStatus):  # the portal session opens no agent's live socket
        open_live(server.base_url, server, cookies=portal_cookies).recv(10)

    customer.click(".portal-tickets a >> text=Card payment declined")
    customer.wait_for_url(f"**/portal/tickets/{reference}")
    screenshot = tmp_path / "declined.png"
    customer.screenshot(path=str(screenshot))  # what the customer sees, as a screenshot
    customer.fill("#portal-body", "Here is what the checkout shows.")
    customer.set_input_files("#portal-files", str(screenshot))
    customer.click("form.portal-reply button[type=submit]")
    customer.locator("li.msg", has_text="Here is what the checkout shows.").wait_for()
    customer.locator("li.msg a", has_text="declined.png").wait_for()
    shoot(customer, "ticket")

    reply = agent.locator("#timeline li.msg", has_text="Here is what the checkout shows.")
    reply.wait_for()
    assert reply.locator(".attachments a", has_text="declined.png").count() == 1
    assert agent.evaluate("window.sameDocument") is True  # it came live, no reload
    agent.screenshot(path=str(SHOTS / "portal-reply-seen-by-agent.png"), full_page=True)

    customer.goto(f"{server.base_url}/portal/new")
    shoot(customer, "new")
    customer.goto(f"{server.base_url}/tickets/{reference}")  # an agent page: not for her
    assert "/login" in customer.url
    agent.context.close()
    customer.context.close()
