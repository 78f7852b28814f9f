"""An agent answers a Telegram customer and a WhatsApp customer from the composer of a running
``inbox serve``, against local servers speaking the Bot API and the Graph API, and sees the
delivery ticks arrive."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlmodel import select

from inbox.db import Database
from inbox.models import Ticket
from tests.support.browsing import SHOTS, open_inbox_signed_in
from tests.support.processes import Deployment, run_cli, wait_for
from tests.support.served import load_demo_desk
from tests.support.social_platforms import (
    FakeGraph,
    FakeTelegram,
    signed_webhook,
    whatsapp_message,
    whatsapp_status,
)

BOT_TOKEN = "777:bot-token"
GRAPH_TOKEN = "wa-token"
SECRET = "wa-app-secret"
PHONE_ID = "106540352242922"


@pytest.fixture
def platforms() -> Iterator[tuple[FakeTelegram, FakeGraph]]:
    with FakeTelegram(token=BOT_TOKEN) as telegram, FakeGraph(token=GRAPH_TOKEN) as graph:
        yield telegram, graph


def _ticket(db: Database, kind: str) -> str | None:
    with db.reading() as session:
        ticket = session.exec(
            select(Ticket).where(Ticket.channel_kind == kind, Ticket.subject.startswith("Where"))  # type: ignore[attr-defined]
        ).first()
        return ticket.reference if ticket else None


def _answer(page: Any, base_url: str, reference: str, text: str) -> None:
    page.goto(f"{base_url}/tickets/{reference}")
    page.fill("#reply-body", text)
    page.click("form.composer.reply button[type=submit]")
    page.wait_for_selector(f"li.dir-outbound:has-text('{text}')")


def _ticks(page: Any, text: str, state: str) -> None:
    """The delivery of the reply reaches ``state``: pushed live, or seen on the next load."""

    def shown() -> bool:
        found = page.locator(f"li.dir-outbound:has-text('{text}') .delivery-{state}").count()
        if not found:
            page.reload()
        return bool(found)

    wait_for(shown, timeout=30, what=f"delivery {state}", every=0.5)


@pytest.mark.slow
def test_an_agent_answers_telegram_and_whatsapp_customers_and_sees_the_delivery_ticks(
    browser: Any, server: Deployment, platforms: tuple[FakeTelegram, FakeGraph]
) -> None:
    telegram, graph = platforms
    load_demo_desk(server)
    run_cli(server.env, "channel", "add-telegram", "--name", "Bot", "--token", "-",
            "--api-url", telegram.url, stdin=f"{BOT_TOKEN}\n")  # fmt: skip
    run_cli(server.env, "channel", "add-whatsapp", "--name", "WA", "--phone-number-id", PHONE_ID,
            "--token", "-", "--app-secret", "-", "--verify-token", "-", "--graph-url", graph.url,
            stdin=f"{GRAPH_TOKEN}\n{SECRET}\nverify\n")  # fmt: skip
    db = Database(server.env["INBOX_DATABASE_URL"])

    telegram.customer_writes(chat_id=5151, text="Where is my refund?", first_name="Lena")
    raw, headers = signed_webhook(
        whatsapp_message(PHONE_ID, "447700900555", "wamid.IN9", "Where did my payment go?"),
        SECRET,
    )
    assert (
        httpx.post(f"{server.base_url}/webhooks/meta", content=raw, headers=headers).status_code
        == 200
    )
    telegram_ref = wait_for(lambda: _ticket(db, "telegram"), timeout=30, what="Telegram ticket")
    whatsapp_ref = wait_for(lambda: _ticket(db, "whatsapp"), timeout=30, what="WhatsApp ticket")

    page = browser.new_page(viewport={"width": 1440, "height": 900})
    open_inbox_signed_in(page, server.base_url)

    _answer(page, server.base_url, telegram_ref, "Your refund left today, Lena.")
    _ticks(page, "Your refund left today", "sent")
    wait_for(lambda: telegram.sent("sendMessage"), timeout=10, what="sendMessage")
    assert telegram.sent("sendMessage")[0]["text"] == "Your refund left today, Lena."

    _answer(page, server.base_url, whatsapp_ref, "It arrives tomorrow.")
    _ticks(page, "It arrives tomorrow", "sent")
    for status in ("read", "delivered"):  # out of order, as Meta may send them
        raw, headers = signed_webhook(whatsapp_status(PHONE_ID, "wamid.OUT1", status), SECRET)
        httpx.post(f"{server.base_url}/webhooks/meta", content=raw, headers=headers)
    _ticks(page, "It arrives tomorrow", "read")

    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "social-whatsapp-desktop.png"))
    phone = browser.new_page(viewport={"width": 390, "height": 844})
    open_inbox_signed_in(phone, server.base_url)
    phone.goto(f"{server.base_url}/tickets/{whatsapp_ref}")
    phone.click("summary:has-text('Same person as another customer?')")
    phone.screenshot(path=str(SHOTS / "social-whatsapp-phone.png"), full_page=True)
    instagram = _demo_ticket(db, "instagram")
    page.goto(f"{server.base_url}/tickets/{instagram}")
    assert "The 7-day window to answer on Instagram closed" in page.inner_text("#composer")
    page.screenshot(path=str(SHOTS / "social-window-closed-desktop.png"))


def _demo_ticket(db: Database, kind: str) -> str:
    with db.reading() as session:
        return session.exec(select(Ticket.reference).where(Ticket.channel_kind == kind)).one()
