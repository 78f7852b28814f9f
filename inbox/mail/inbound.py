"""A stored mail, parsed: the email channels' reader (``inbox.parsing.readers``).

Kept apart from the filing (``inbox.actions.inbound.filing``) so that a parser process imports only
the mail parser, and is ready in a fraction of the time the models would take.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from inbox.mail.parse import ParsedMail, UnparseableMail, parse_mail
from inbox.parsing.items import PendingRaw


@dataclass(frozen=True)
class InboundMail:
    """A pending mail, read and parsed (an ``Arrival``; a crash while reading is an ``Unread``)."""

    item_id: int
    size: int
    truncated: bool
    parsed: ParsedMail | None
    external_id: str = ""
    unparseable: str = ""
    error: None = None


def read_mail(pending: PendingRaw) -> InboundMail:
    """Pure: no database, so it can run in another process."""
    try:
        parsed = parse_mail(pending.raw, headers_only=pending.truncated, max_text_chars=1_000_000)
    except UnparseableMail as exc:
        return InboundMail(
            pending.item_id,
            pending.size,
            pending.truncated,
            None,
            unparseable=f"cannot be parsed: {exc}",
        )
    external_id = parsed.message_id or "sha256:" + hashlib.sha256(pending.raw).hexdigest()
    return InboundMail(pending.item_id, pending.size, pending.truncated, parsed, external_id)
