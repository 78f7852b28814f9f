"""The countdown text of an inbox row; countdown.js does the same arithmetic in the browser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from inbox.rules.sla_countdown import countdown, running_due_at

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SOON = timedelta(hours=4)


@pytest.mark.parametrize(
    ("left", "text", "state"),
    [
        (timedelta(hours=1, minutes=12, seconds=30), "due in 1h 12m", "soon"),
        (timedelta(hours=4), "due in 4h 0m", "soon"),
        (timedelta(hours=4, seconds=1), "due in 4h 0m", "ok"),
        (timedelta(days=2, hours=3, minutes=59), "due in 2d 3h", "ok"),
        (timedelta(minutes=25, seconds=59), "due in 25m", "soon"),
        (timedelta(minutes=4, seconds=5), "due in 4m 05s", "soon"),
        (timedelta(0), "due in 0m 00s", "soon"),
        (-timedelta(milliseconds=1), "overdue 0m 01s", "overdue"),
        (-timedelta(minutes=5), "overdue 5m 00s", "overdue"),
        (-timedelta(minutes=12, seconds=40), "overdue 12m", "overdue"),
        (-timedelta(hours=26), "overdue 1d 2h", "overdue"),
    ],
)
def test_countdown_reads_as_a_person_says_it(left: timedelta, text: str, state: str) -> None:
    shown = countdown(NOW + left, NOW, soon=SOON)
    assert (shown.text, shown.state) == (text, state)
    assert shown.soon_seconds == 4 * 3600


def test_only_running_clocks_count_down() -> None:
    due = NOW + timedelta(hours=1)
    assert running_due_at("new", due) == due
    assert running_due_at("open", due) == due
    for paused_or_stopped in ("waiting_on_customer", "waiting_on_third_party", "resolved"):
        assert running_due_at(paused_or_stopped, due) is None
    assert running_due_at("open", None) is None
