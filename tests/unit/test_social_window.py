"""The platforms' reply windows and the order of delivery states (pure rules)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from inbox.rules.social_window import delivery_moves_forward, reply_window

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("kind", ["telegram", "x"])
def test_telegram_and_x_have_no_window(kind: str) -> None:
    assert reply_window(kind, NOW - timedelta(days=90), NOW).mode == "text"


@pytest.mark.parametrize(
    ("hours", "mode"),
    [(0, "text"), (23.9, "text"), (24, "human_agent"), (167.9, "human_agent"), (168, "closed")],
)
def test_messenger_answers_for_24_hours_then_with_the_human_agent_tag_up_to_7_days(
    hours: float, mode: str
) -> None:
    window = reply_window("messenger", NOW - timedelta(hours=hours), NOW)
    assert window.mode == mode
    if mode == "closed":
        assert window.note == (
            "The 7-day window to answer on Messenger closed 2026-03-02 12:00 UTC: "
            "no reply can be sent until the customer writes again."
        )


def test_whatsapp_after_24_hours_sends_only_its_template_or_nothing() -> None:
    last = NOW - timedelta(hours=25)
    assert reply_window("whatsapp", last, NOW, template="account_update").mode == "template"
    closed = reply_window("whatsapp", last, NOW)
    assert not closed.open and "no approved template" in closed.note
    assert reply_window("whatsapp", NOW - timedelta(hours=2), NOW).mode == "text"


def test_a_conversation_the_customer_never_opened_takes_no_reply() -> None:
    assert not reply_window("instagram", None, NOW).open


@pytest.mark.parametrize(
    ("current", "new", "moves"),
    [
        ("queued", "sent", True),
        ("sent", "delivered", True),
        ("delivered", "read", True),
        ("read", "delivered", False),
        ("read", "sent", False),
        ("delivered", "sent", False),
        ("sent", "failed", True),
        ("queued", "failed", True),
        ("delivered", "failed", False),
        ("read", "failed", False),
        ("failed", "delivered", True),
        ("sent", "deleted", False),
    ],
)
def test_delivery_only_moves_forward(current: str, new: str, moves: bool) -> None:
    assert delivery_moves_forward(current, new) is moves
