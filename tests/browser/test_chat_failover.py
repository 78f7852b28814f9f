"""Two ``inbox serve`` processes of one desk (PostgreSQL, realtime on Redis) behind a load
balancer: a visitor on one and an agent on the other chat in real time; when the visitor's
process stops, the widget reconnects through the balancer to the other one and resumes
without losing or repeating a message."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from inbox.actions.chat.channels import add_chat_channel
from tests.support.balancer import Balancer
from tests.support.chat_shop import Shop, agent_page, start_chat, visitor_page
from tests.support.processes import Deployment, free_port, web_process
from tests.support.served import api_token, create_agent, desk_box, desk_database

pytestmark = pytest.mark.skipif(
    os.environ.get("INBOX_TEST_BROKER", "") != "redis",
    reason="two web processes of one desk share their realtime hub on Redis",
)


def test_the_widget_moves_to_the_other_process_when_its_own_stops_and_loses_nothing(
    browser: Any, server: Deployment, tmp_path: Path
) -> None:
    create_agent(server, "alex@example.test", "Alex Agent")
    token = api_token(server, "alex@example.test")
    with (
        web_process(server.env, tmp_path / "serve2.log", own_origin=True) as second,
        Balancer([server.port, int(second.rsplit(":", 1)[1])]) as balancer,
    ):
        shop_port = free_port()
        with desk_database(server) as session:
            widget_key = add_chat_channel(
                session,
                desk_box(server),
                name="Shop chat",
                origins=[f"http://127.0.0.1:{shop_port}"],
            ).widget_key
        with Shop(balancer.base_url, widget_key, shop_port) as shop:
            visitor = visitor_page(browser, shop)
            reference = start_chat(visitor, "Someone bought shoes with my account", "Maria Lopez")
            assert balancer.chosen[-1] == server.port  # the visitor is on the first process

            # The agent, on the second process, sees the visitor write and answers.
            agent = agent_page(browser, server, f"/tickets/{reference}", base_url=second)
            visitor.fill("#inbox-chat-input", "It was last night")
            visitor.keyboard.press("Enter")
            agent.locator("#timeline", has_text="It was last night").wait_for()
            agent.check("#tab-reply")
            agent.fill("#reply-body", "I have blocked the card; tell me more.")
            agent.click("form.composer.reply button[type=submit]")
            visitor.locator("li.message.agent", has_text="blocked the card").wait_for()

            # The visitor's process stops; what they write meanwhile waits, then goes once.
            server.web.stop()
            visitor.fill("#inbox-chat-input", "It was 120 euros")
            visitor.keyboard.press("Enter")
            sent = visitor.locator("li.message.visitor:not(.unsent)", has_text="120 euros")
            sent.wait_for(timeout=40_000)
            assert balancer.chosen[-1] != server.port  # reconnected to the second process
            _reply(second, token, reference, "Refunded: 120 euros.")
            visitor.locator("li.message.agent", has_text="Refunded").wait_for()
            agent.locator("#timeline", has_text="It was 120 euros").wait_for()

            ticket = httpx.get(
                f"{second}/api/v1/tickets/{reference}",
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            ).json()
            inbound = [m["body_text"] for m in ticket["messages"] if m["direction"] == "inbound"]
            assert inbound == [
                "Someone bought shoes with my account",
                "It was last night",
                "It was 120 euros",
            ]
            for author, text in (
                ("visitor", "It was last night"),
                ("visitor", "It was 120 euros"),
                ("agent", "blocked the card"),
                ("agent", "Refunded"),
            ):
                assert visitor.locator(f"li.message.{author}", has_text=text).count() == 1, text


def _reply(address: str, token: str, reference: str, body: str) -> None:
    httpx.post(
        f"{address}/api/v1/tickets/{reference}/replies",
        json={"body": body},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ).raise_for_status()
