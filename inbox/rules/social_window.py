"""When and how an agent may answer on each social platform.

- Messenger and Instagram: a standard message (``messaging_type`` RESPONSE) within 24 hours
  of the customer's last message; with the HUMAN_AGENT tag up to 7 days; after that nothing.
- WhatsApp: free text within 24 hours; after that only an approved template.
- Telegram and X: no window.

Delivery states only move forward: queued, sent, delivered, read. ``failed`` replaces queued
or sent, never a message the platform already delivered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

STANDARD_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
_RANK = {None: -1, "queued": 0, "sent": 1, "failed": 2, "delivered": 3, "read": 4}


@dataclass(frozen=True)
class ReplyWindow:
    """``mode``: ``text`` (no window or inside it), ``human_agent`` (Messenger's tag),
    ``template`` (WhatsApp after 24 hours), or ``closed``; ``closes_at`` when the current
    mode ends, if it does; ``note`` what the composer tells the agent."""

    mode: str
    closes_at: datetime | None = None
    note: str = ""

    @property
    def open(self) -> bool:
        return self.mode != "closed"


def reply_window(
    kind: str, last_inbound_at: datetime | None, now: datetime, *, template: str = ""
) -> ReplyWindow:
    """``template``: the name of the WhatsApp channel's approved template, if it has one."""
    if kind not in ("messenger", "instagram", "whatsapp"):
        return ReplyWindow("text")
    platform = {"messenger": "Messenger", "instagram": "Instagram", "whatsapp": "WhatsApp"}[kind]
    if last_inbound_at is None:
        return ReplyWindow("closed", note=f"The customer has not written on {platform} yet.")
    standard_end = last_inbound_at + STANDARD_WINDOW
    if now < standard_end:
        return ReplyWindow(
            "text", standard_end, f"{platform} takes replies until {_when(standard_end)}."
        )
    if kind == "whatsapp":
        if template:
            return ReplyWindow(
                "template",
                note=f"The 24-hour window closed {_when(standard_end)}: the reply goes out as "
                f"the approved template “{template}”, with your text as its parameter.",
            )
        return ReplyWindow(
            "closed",
            note=f"The 24-hour window closed {_when(standard_end)} and the channel has no "
            "approved template: WhatsApp takes no reply until the customer writes again.",
        )
    human_end = last_inbound_at + HUMAN_AGENT_WINDOW
    if now < human_end:
        return ReplyWindow(
            "human_agent",
            human_end,
            f"Past 24 hours: the reply goes out with the HUMAN_AGENT tag, possible until "
            f"{_when(human_end)}.",
        )
    return ReplyWindow(
        "closed",
        note=f"The 7-day window to answer on {platform} closed {_when(human_end)}: "
        "no reply can be sent until the customer writes again.",
    )


def delivery_moves_forward(current: str | None, new: str) -> bool:
    """Whether a reported state replaces the one the message has (statuses arrive in any
    order; a late ``sent`` never undoes ``read``)."""
    if new not in _RANK:
        return False
    if new == "failed":
        return current in (None, "queued", "sent")
    return _RANK[new] > _RANK.get(current, -1)


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"
