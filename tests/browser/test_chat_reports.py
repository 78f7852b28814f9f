"""The chat section of /reports as a manager reads it, on a phone and on a desk: accessible,
its load chart drawn without script, and its counts leading to the chats behind them."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import select

from inbox.db import Database
from inbox.models import Agent, Channel, SlaPolicy, Team, utcnow
from inbox.models.kinds import ChannelKind
from tests.support.accessibility import assert_accessible
from tests.support.browsing import SHOTS, submit_sign_in
from tests.support.chat_report_desk import PastChat, add_past_chat
from tests.support.desk import confirm_second_factor
from tests.support.processes import Deployment
from tests.support.served import desk_database, load_demo_desk

DAY = utcnow().date() - timedelta(days=1)


def at(hour: int, minute: int = 0) -> datetime:
    return datetime.combine(DAY, time(hour, minute), tzinfo=UTC)


def add_chats(server: Deployment) -> None:
    """Yesterday in the demo team's queue: Alex takes three chats, two of them at once, and
    the visitor of a fourth leaves before anybody takes it. The demo's own policies come
    before the default one: they get its chat target of 2 minutes too."""
    with desk_database(server) as session:
        session.execute(update(SlaPolicy).values(chat_target_minutes=2))
        channel_id = session.exec(select(Channel.id).where(Channel.kind == ChannelKind.CHAT)).one()
        team_id = session.exec(select(Team.id)).first()
        alex = session.exec(select(Agent.id).where(Agent.email == "agent@example.com")).one()
        chats = [
            PastChat("Card declined", at(9), team_id, alex, at(9, 1), at(9, 2), at(9, 40)),
            PastChat("Locked out", at(9, 10), team_id, alex, at(9, 11), at(9, 12), at(10, 20)),
            PastChat("Refund", at(14), team_id, alex, at(14, 3), at(14, 6), at(14, 30)),
            PastChat("Gone", at(15), team_id, ended=at(15, 4)),
        ]
        for chat in chats:
            add_past_chat(session, channel_id or 0, chat)


def test_manager_reads_the_chat_section_on_a_desk_and_a_phone(
    browser: Any, server: Deployment
) -> None:
    load_demo_desk(server)
    add_chats(server)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{server.base_url}/login")
    submit_sign_in(page, "manager@example.com")
    page.wait_for_load_state()
    db = Database(server.env["INBOX_DATABASE_URL"])
    with db.reading() as session:
        manager = session.exec(select(Agent).where(Agent.email == "manager@example.com")).one()
    confirm_second_factor(db, manager.id or 0)  # the two-factor sign-in is tested elsewhere
    db.dispose()

    page.goto(f"{server.base_url}/reports?from={DAY}&to={DAY}&tz=UTC")
    chats = page.locator("#chats")
    chats.wait_for()
    assert chats.locator("figure.chart svg").count() == 1
    assert chats.locator("figure.chart svg script").count() == 0
    assert "Alex Agent" in chats.locator("table.chat-agents").inner_text()
    # Answered after 2, 2 and 6 minutes; the fourth chat waited 4 minutes for nobody.
    assert chats.locator("table.chat-target td").all_inner_texts() == ["2", "2", "0", "50%"]
    assert_accessible(page, "the report with its chat section")
    SHOTS.mkdir(parents=True, exist_ok=True)
    chats.screenshot(path=str(SHOTS / "reports-chats-1280.png"))

    page.set_viewport_size({"width": 390, "height": 844})
    assert_accessible(page, "the report's chat section on a phone")
    chats.screenshot(path=str(SHOTS / "reports-chats-390.png"))
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone: {width} px"

    missed = chats.locator("table.chat-counts tr", has_text="Missed").locator("a")
    assert missed.inner_text() == "1"
    missed.click()
    page.wait_for_selector("h1 >> text=Tickets behind the report")
    rows = page.locator("table.report-drilldown tbody tr")
    assert rows.count() == 1 and "Gone" in rows.first.inner_text()
    page.close()
