"""The chat console in Chromium: with nobody available the widget offers to leave a message;
an agent sets themselves available, a visitor waits in the queue, the chat is offered to the
agent, who takes it in the console's panes, and the visitor hears who is with them. The
console passes the accessibility check and fits a phone. A visitor confirms the address they
typed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import select

from inbox.models import Channel, ChatVisitor, utcnow
from inbox.rules.chat import proof_token
from inbox.settings import load_settings
from tests.support.accessibility import assert_accessible
from tests.support.browsing import SHOTS
from tests.support.chat_shop import Shop, agent_page, visitor_page
from tests.support.processes import Deployment
from tests.support.served import create_agent, desk_database

OFFER_WAIT_MS = 20_000  # the console re-reads its lists every 5 s


def shoot_both(page: Any, name: str, *, full_page: bool = False) -> None:
    """The page as it is, at the desktop width it has and at a phone's."""
    size = page.viewport_size
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SHOTS / f"{name}-phone.png"), full_page=full_page)
    page.set_viewport_size(size)


def test_a_chat_waits_in_the_queue_is_offered_to_the_available_agent_and_taken(
    browser: Any, server: Deployment, shop: Shop
) -> None:
    create_agent(server, "alex@example.test", "Alex Agent")
    SHOTS.mkdir(parents=True, exist_ok=True)

    # Nobody is available: the widget says so before the visitor writes.
    visitor = visitor_page(browser, shop)
    visitor.locator("button.launcher").click()
    notice = visitor.locator("form.prechat p.notice")
    notice.wait_for()
    assert "We are away just now" in notice.inner_text()
    assert visitor.locator("form.prechat button[type=submit]").inner_text() == "Leave a message"
    shoot_both(visitor, "chat-away")

    agent = agent_page(browser, server, "/chats")
    assert "You are offline" in agent.locator("p.chat-presence").inner_text()
    assert_accessible(agent, "the chat console, empty")
    agent.select_option("#chat-status", "available")
    agent.click("form.chat-availability button[type=submit]")
    agent.locator("p.chat-presence", has_text="You are offered new chats").wait_for()

    visitor.reload()
    visitor.locator("button.launcher").click()
    start = visitor.locator("form.prechat button[type=submit]", has_text="Start chat")
    start.wait_for()
    assert visitor.locator("form.prechat p.notice").is_hidden()
    visitor.fill("#inbox-chat-name", "Maria Lopez")
    visitor.fill("#inbox-chat-topic", "I am locked out of my account")
    start.click()
    visitor.locator("p.status", has_text="You are number 1 in the queue.").wait_for()
    shoot_both(visitor, "chat-queue")

    offered = agent.locator("li.chat-row.offered", has_text="Maria Lopez")
    offered.wait_for(timeout=OFFER_WAIT_MS)
    # The tab counts what waits for the agent.
    agent.wait_for_function("document.title.startsWith('(1) Chats')")
    assert "I am locked out of my account" in offered.inner_text()
    agent.screenshot(path=str(SHOTS / "chat-console-offer.png"), full_page=True)
    assert_accessible(agent, "the chat console with an offer")
    offered.locator("button", has_text="Take chat").click()
    # Taken, the chat opens in the right pane, the console still beside it.
    agent.wait_for_url("**/tickets/*")
    pane = agent.locator("#ticket-pane")
    assert "with Alex Agent" in pane.locator("dd.fact-chat").inner_text()
    agent.locator("#chat-console li.chat-row.is-open", has_text="Maria Lopez").wait_for()
    assert agent.locator("#view-counts li.view.current", has_text="Chat console").is_visible()
    agent.screenshot(path=str(SHOTS / "chat-console-open.png"))
    assert_accessible(agent, "the chat console with a chat open")
    agent.set_viewport_size({"width": 390, "height": 844})
    back = pane.locator("a.pane-back")
    assert back.inner_text().strip() == "All chats"  # a phone shows the chat alone
    agent.screenshot(path=str(SHOTS / "chat-console-open-phone.png"))
    agent.set_viewport_size({"width": 1440, "height": 900})
    agent.reload()  # the chat's own address opens it as a page
    shoot_both(agent, "chat-ticket", full_page=True)

    visitor.locator("p.status", has_text="Alex Agent is with you now.").wait_for()
    visitor.locator("li.message.system", has_text="Alex Agent joined the chat.").wait_for()

    # A draft survives going to the console and back.
    reference = agent.locator("article.ticket").get_attribute("data-reference")
    agent.check("#tab-reply")
    agent.fill("#reply-body", "Hello Maria, I am looking at your account now.")
    agent.goto(f"{server.base_url}/chats")
    agent.goto(f"{server.base_url}/tickets/{reference}")
    agent.check("#tab-reply")
    assert agent.input_value("#reply-body") == "Hello Maria, I am looking at your account now."
    agent.click("form.composer.reply button[type=submit]")
    visitor.locator("li.message.agent", has_text="looking at your account").wait_for()
    agent.reload()
    agent.check("#tab-reply")
    assert agent.input_value("#reply-body") == ""  # sent: the draft is gone

    agent.goto(f"{server.base_url}/chats")
    mine = agent.locator("section[aria-labelledby=mine-heading] li.chat-row")
    assert "Maria Lopez" in mine.inner_text()
    agent.screenshot(path=str(SHOTS / "chat-console.png"), full_page=True)
    agent.set_viewport_size({"width": 390, "height": 844})
    agent.screenshot(path=str(SHOTS / "chat-console-phone.png"), full_page=True)
    width = agent.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the console scrolls sideways on a phone ({width}px)"
    # On a phone a chat opened from the console shows alone, with the way back to it.
    mine.locator("a.chat-who").click()
    agent.locator("#ticket-pane article.ticket").wait_for()
    assert agent.url.endswith(f"/tickets/{reference}")
    assert agent.locator("#chat-console").is_hidden()
    agent.locator("#ticket-pane a.pane-back", has_text="All chats").click()
    agent.wait_for_url("**/chats")

    mine.locator("button", has_text="End chat").click()
    agent.locator("text=You have no open chat.").wait_for()
    visitor.locator("button", has_text="Start a new chat").wait_for()
    # Asked for a score once it ended: the ticket's satisfaction survey.
    shoot_both(visitor, "chat-ended")
    visitor.locator("fieldset.rating button[data-score='5']").click()
    visitor.locator("p.status", has_text="Thank you for your score.").wait_for()
    assert visitor.locator("fieldset.rating").is_hidden()
    visitor.screenshot(path=str(SHOTS / "chat-rated.png"))


def test_a_visitor_confirms_their_address_from_the_mailed_link(
    browser: Any, server: Deployment, shop: Shop
) -> None:
    with desk_database(server) as session:
        channel = session.exec(select(Channel).where(Channel.kind == "chat")).first()
        assert channel is not None
        visitor = ChatVisitor(
            channel_id=channel.id or 0, name="Maria Lopez", claimed_email="maria@example.org"
        )
        session.add(visitor)
        session.flush()
        expires = int((utcnow() + timedelta(days=7)).timestamp())
        token = proof_token(
            load_settings(server.env).secret_key, visitor.id or 0, visitor.claimed_email, expires
        )
        visitor_id = visitor.id
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width, height, name in ((1280, 800, "chat-confirm"), (390, 844, "chat-confirm-phone")):
        page = browser.new_context(viewport={"width": width, "height": height}).new_page()
        page.goto(f"{server.base_url}/chat/confirm?token={token}")
        page.locator("button", has_text="Confirm this address").wait_for()
        assert_accessible(page, "the address confirmation page")
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    page.click("button[type=submit]")
    page.locator("text=is confirmed").wait_for()
    page.screenshot(path=str(SHOTS / "chat-confirm-done.png"), full_page=True)
    with desk_database(server) as session:
        proven = session.get(ChatVisitor, visitor_id)
        assert proven is not None and proven.email_proven_at is not None
