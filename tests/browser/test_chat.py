"""Live chat in Chromium: a visitor on a shop's page, served from another origin, chats with an
agent who answers from the ticket page; the visitor reloads mid-chat and keeps the
conversation; the help centre suggests articles while the topic is typed; the widget works at
a phone's width."""

from __future__ import annotations

from typing import Any

import httpx
from sqlmodel import select

from inbox.db import Database
from inbox.models import HelpVisit
from tests.support.browsing import SHOTS
from tests.support.chat_shop import (
    OPEN_SHADOW_ROOTS,
    Shop,
    agent_page,
    start_chat,
    visitor_page,
)
from tests.support.help_centre import write_article
from tests.support.processes import Deployment
from tests.support.served import api_token, create_agent


def test_a_visitor_on_another_site_chats_with_an_agent_and_keeps_the_chat_across_a_reload(
    browser: Any, server: Deployment, shop: Shop
) -> None:
    create_agent(server, "alex@example.test", "Alex Agent")
    visitor = visitor_page(browser, shop)
    launcher = visitor.locator("button.launcher")
    assert launcher.is_visible()  # the shop's hostile styles do not reach inside the widget
    launcher.click()
    visitor.fill("#inbox-chat-name", "Maria Lopez")
    visitor.fill("#inbox-chat-email", "maria@example.org")
    visitor.fill("#inbox-chat-topic", "My card payment failed twice")
    visitor.click("form.prechat button[type=submit]")
    reference_line = visitor.locator("p.reference")
    reference_line.wait_for()
    reference = reference_line.inner_text().removeprefix("Your reference is ").strip()
    visitor.locator("li.message.system", has_text=reference).wait_for()
    SHOTS.mkdir(parents=True, exist_ok=True)
    visitor.screenshot(path=str(SHOTS / "chat-visitor.png"))

    agent = agent_page(browser, server, f"/tickets/{reference}")
    entry = agent.locator("li.msg.kind-chat.dir-inbound", has_text="My card payment failed twice")
    entry.wait_for()
    assert entry.locator(".icon-message-circle").count() == 1
    agent.check("#tab-reply")
    agent.fill("#reply-body", "Sorry about that! Which card was it?")
    agent.click("form.composer.reply button[type=submit]")

    answer = visitor.locator("li.message.agent", has_text="Which card was it?")
    answer.wait_for()
    assert "Alex Agent" in answer.inner_text()

    visitor.reload()
    visitor.locator("button.launcher").click()
    visitor.locator("li.message.agent", has_text="Which card was it?").wait_for()
    assert visitor.locator("li.message.visitor", has_text="failed twice").count() == 1
    assert reference in visitor.locator("p.reference").inner_text()
    visitor.fill("#inbox-chat-input", "The one ending in 1111")
    visitor.keyboard.press("Enter")
    agent.locator("li.msg.kind-chat", has_text="The one ending in 1111").wait_for()
    visitor.locator("li.message.visitor:not(.unsent)", has_text="ending in 1111").wait_for()
    agent.screenshot(path=str(SHOTS / "chat-agent.png"), full_page=True)
    visitor.screenshot(path=str(SHOTS / "chat-visitor-after-reload.png"))


def test_a_visitor_finds_an_article_from_the_pre_chat_form_and_the_desk_counts_the_visit(
    browser: Any, server: Deployment, shop: Shop
) -> None:
    create_agent(server, "writer@example.test", "Wendy Writer", role="manager")
    db = Database(server.env["INBOX_DATABASE_URL"])
    write_article(
        db,
        "Resetting your password",
        "Choose **Forgot password** on the sign-in page; the link we mail works for an hour.",
        author="writer@example.test",
    )
    visitor = visitor_page(browser, shop)
    visitor.locator("button.launcher").click()
    visitor.fill("#inbox-chat-topic", "I forgot my password again")
    link = visitor.locator("ul.suggestions a", has_text="Resetting your password")
    link.wait_for()
    SHOTS.mkdir(parents=True, exist_ok=True)
    visitor.screenshot(path=str(SHOTS / "chat-suggestions.png"))
    with visitor.context.expect_page() as opened:
        link.click()
    article = opened.value
    article.locator("h1", has_text="Resetting your password").wait_for()
    assert "the link we mail works for an hour" in article.content()
    # The visitor read it and left: a visit with its article and no ticket, for the report.
    with db.reading() as session:
        visits = session.exec(select(HelpVisit.article_id, HelpVisit.ticket_id)).all()
    db.dispose()
    assert len(visits) == 1 and visits[0][0] is not None and visits[0][1] is None


def test_the_widget_fits_a_phone_and_is_usable_from_the_keyboard(
    browser: Any, server: Deployment, shop: Shop
) -> None:
    visitor = visitor_page(browser, shop, width=390, height=844)
    visitor.keyboard.press("Tab")  # the launcher is the first thing to reach
    visitor.keyboard.press("Enter")
    visitor.locator("#inbox-chat-name").wait_for()
    visitor.keyboard.type("Ana")
    visitor.keyboard.press("Tab")
    visitor.keyboard.type("ana@example.org")
    visitor.keyboard.press("Tab")
    visitor.keyboard.type("Where is my refund?")
    visitor.keyboard.press("Tab")
    visitor.keyboard.press("Enter")
    visitor.locator("p.reference").wait_for()
    box = visitor.locator("#inbox-chat-input").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert box["y"] + box["height"] <= 844
    assert visitor.locator("div.messages").get_attribute("aria-live") == "polite"
    SHOTS.mkdir(parents=True, exist_ok=True)
    visitor.screenshot(path=str(SHOTS / "chat-phone.png"))
    visitor.keyboard.press("Escape")
    assert visitor.locator("section.panel").is_hidden()


def test_messages_not_acknowledged_before_a_reload_are_sent_again_and_stored_once(
    browser: Any, server: Deployment, shop: Shop
) -> None:
    create_agent(server, "alex@example.test", "Alex Agent")
    token = api_token(server, "alex@example.test")
    visitor = visitor_page(browser, shop)
    visitor.locator("button.launcher").click()
    visitor.fill("#inbox-chat-name", "Maria Lopez")
    visitor.fill("#inbox-chat-topic", "My transfer is stuck")
    visitor.click("form.prechat button[type=submit]")
    first = visitor.locator("li.message.visitor:not(.unsent)", has_text="transfer is stuck")
    first.wait_for()
    first_id = first.get_attribute("data-client-id")
    reference = visitor.locator("p.reference").inner_text().removeprefix("Your reference is ")
    # Everything the desk had to say has arrived (the widget keeps its state as it goes).
    visitor.locator("li.message.system", has_text=reference.strip()).wait_for()
    # As if the connection had dropped before these two were acknowledged: the first was
    # stored all the same, the second never reached the desk.
    visitor.evaluate(
        """([firstId]) => {
          const key = Object.keys(localStorage).find(k => k.startsWith("inbox-chat:"));
          const state = JSON.parse(localStorage.getItem(key));
          state.pending = [
            {client_id: firstId, text: "My transfer is stuck"},
            {client_id: "offline-1", text: "Written while the connection was down"},
          ];
          localStorage.setItem(key, JSON.stringify(state));
        }""",
        [first_id],
    )
    visitor.reload()
    visitor.locator("button.launcher").click()
    visitor.locator(
        "li.message.visitor:not(.unsent)", has_text="Written while the connection was down"
    ).wait_for()
    ticket = httpx.get(
        f"{server.base_url}/api/v1/tickets/{reference.strip()}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ).json()
    assert [m["body_text"] for m in ticket["messages"] if m["direction"] == "inbound"] == [
        "My transfer is stuck",
        "Written while the connection was down",
    ]
    assert visitor.locator("li.message.visitor", has_text="transfer is stuck").count() == 1


def test_the_demo_page_and_the_open_widget_pass_the_accessibility_check(
    browser: Any, server: Deployment, shop: Shop
) -> None:
    from tests.support.accessibility import assert_accessible

    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.add_init_script(OPEN_SHADOW_ROOTS)
    page = context.new_page()
    page.goto(f"{server.base_url}/chat/demo")
    page.locator("button.launcher").click()
    assert_accessible(page, "the chat widget's pre-chat form")
    page.fill("#inbox-chat-name", "Ana")
    page.fill("#inbox-chat-topic", "Where is my refund?")
    page.click("form.prechat button[type=submit]")
    page.locator("li.message.system").wait_for()
    assert_accessible(page, "the chat widget's conversation")


def test_the_server_restarts_mid_chat_and_the_widget_carries_on_without_loss_or_repeats(
    browser: Any, server: Deployment, shop: Shop
) -> None:
    create_agent(server, "alex@example.test", "Alex Agent")
    token = api_token(server, "alex@example.test")
    visitor = visitor_page(browser, shop)
    reference = start_chat(visitor, "My refund has not arrived", "Maria Lopez")

    server.web.stop()  # the desk restarts: every socket hears 1012, then nothing answers
    visitor.locator("p.status", has_text="Connection lost").wait_for()
    visitor.fill("#inbox-chat-input", "Written while you were away")
    visitor.keyboard.press("Enter")
    assert visitor.locator("li.message.visitor.unsent", has_text="while you were away").count() == 1
    server.web.start()
    server.wait_healthy()

    # Back: the unsent message goes, once, and the agent's answer arrives.
    visitor.locator("li.message.visitor:not(.unsent)", has_text="while you were away").wait_for(
        timeout=40_000
    )
    answer = httpx.post(
        f"{server.base_url}/api/v1/tickets/{reference}/replies",
        json={"body": "The refund left us yesterday."},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    visitor.locator("li.message.agent", has_text="left us yesterday").wait_for()
    ticket = httpx.get(
        f"{server.base_url}/api/v1/tickets/{reference}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ).json()
    inbound = [m["body_text"] for m in ticket["messages"] if m["direction"] == "inbound"]
    assert inbound == ["My refund has not arrived", "Written while you were away"]
    assert visitor.locator("li.message", has_text="while you were away").count() == 1
    assert visitor.locator("li.message.agent").count() == 1


def test_an_answer_while_the_panel_is_closed_shows_on_the_launchers_unread_badge(
    browser: Any, server: Deployment, shop: Shop
) -> None:
    create_agent(server, "alex@example.test", "Alex Agent")
    token = api_token(server, "alex@example.test")
    visitor = visitor_page(browser, shop)
    launcher = visitor.locator("button.launcher")
    reference = start_chat(visitor, "Is my instalment due today?")
    visitor.keyboard.press("Escape")  # the visitor goes back to the shop's page
    badge = launcher.locator(".badge")
    assert badge.is_hidden()
    for text in ("It is due on Friday.", "You can move it from the app."):
        httpx.post(
            f"{server.base_url}/api/v1/tickets/{reference}/replies",
            json={"body": text},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        ).raise_for_status()
    visitor.wait_for_function(
        "document.querySelector('[data-inbox-chat]').shadowRoot"
        ".querySelector('button.launcher .badge').textContent === '2'"
    )
    assert launcher.get_attribute("aria-label") == "Chat with us, 2 unread"
    visitor.screenshot(path=str(SHOTS / "chat-unread-badge.png"))
    launcher.click()
    visitor.locator("li.message.agent", has_text="move it from the app").wait_for()
    assert badge.is_hidden() and launcher.get_attribute("aria-label") == "Chat with us"
