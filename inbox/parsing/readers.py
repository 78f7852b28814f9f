"""Each channel kind's reader of its stored items."""

from __future__ import annotations

from collections.abc import Callable

from inbox.mail.inbound import read_mail
from inbox.parsing.chat import read_chat
from inbox.parsing.items import Arrival, PendingRaw, Unread
from inbox.parsing.social import read_messenger, read_telegram, read_whatsapp, read_x

# Keyed by the channel kind's value (``inbox.models.kinds.ChannelKind``), which is not imported
# here: it would bring the models into every parser process.
READERS: dict[str, Callable[[PendingRaw], Arrival]] = {
    "email": read_mail,
    "chat": read_chat,
    "telegram": read_telegram,
    "messenger": read_messenger,
    "instagram": read_messenger,
    "whatsapp": read_whatsapp,
    "x": read_x,
}


def read_pending(pending: PendingRaw) -> Arrival:
    """Pure: no database, so it can run in another process. Never raises."""
    reader = READERS.get(pending.kind)
    if reader is None:
        return Unread(pending.item_id, LookupError(f"no reader for {pending.kind!r} items"))
    try:
        return reader(pending)
    except Exception as exc:  # a reader's bug: retried, then quarantined like any crash
        return Unread(pending.item_id, exc)
