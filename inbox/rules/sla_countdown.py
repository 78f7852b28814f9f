"""How far a ticket's SLA due time is, as the inbox reads it: "due in 1h 12m", "overdue 5m".

Pure code. The server writes this text into every inbox row, so the list reads right without
JavaScript; ``inbox/web/static/countdown.js`` does the same arithmetic in the browser every
second. The due time is an instant (business hours went into computing it), so the
countdown is wall-clock time to that instant, like the "Breaching soon" view's window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

# The status categories in which SLA clocks run; waiting ones pause them, resolving stops them.
RUNNING_CATEGORIES = ("new", "open")


@dataclass(frozen=True)
class Countdown:
    due_at: datetime
    text: str
    state: str  # ok, soon (within the breaching-soon window), overdue
    soon_seconds: int


def span_text(seconds: int) -> str:
    """``2d 3h``, ``1h 12m``, ``25m``, and with seconds under ten minutes: ``4m 05s``."""
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes >= 10:
        return f"{minutes}m"
    return f"{minutes}m {secs:02d}s"


def countdown(due_at: datetime, now: datetime, *, soon: timedelta) -> Countdown:
    left = int((due_at - now).total_seconds() // 1)
    if left < 0:
        text, state = f"overdue {span_text(-left)}", "overdue"
    else:
        text = f"due in {span_text(left)}"
        state = "soon" if left <= soon.total_seconds() else "ok"
    return Countdown(due_at, text, state, int(soon.total_seconds()))


def running_due_at(status_category: str, sla_due_at: datetime | None) -> datetime | None:
    """The due time of the nearest running clock, or None while every clock is paused or
    stopped (the ticket waits or is resolved, even before its recompute ran)."""
    return sla_due_at if status_category in RUNNING_CATEGORIES else None
