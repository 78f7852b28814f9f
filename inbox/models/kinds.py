"""The closed sets of names the tables store: what kind of channel, message, identity or link
a row is, and which way a message went. ``StrEnum``s, so each is stored as its plain value
and compares equal to it."""

from __future__ import annotations

from enum import StrEnum


class ChannelKind(StrEnum):
    EMAIL = "email"
    CHAT = "chat"
    PHONE = "phone"
    TELEGRAM = "telegram"
    MESSENGER = "messenger"
    INSTAGRAM = "instagram"
    WHATSAPP = "whatsapp"
    X = "x"


class MessageKind(StrEnum):
    EMAIL = "email"
    CHAT = "chat"
    SOCIAL = "social"
    CALL_NOTE = "call_note"
    INTERNAL_NOTE = "internal_note"
    SYSTEM = "system"
    PORTAL = "portal"  # written by a signed-in customer on the portal (``/portal``)


# Messages the customer sees and writes, which move the SLA clocks.
PUBLIC_MESSAGE_KINDS = frozenset(
    {MessageKind.EMAIL, MessageKind.CHAT, MessageKind.SOCIAL, MessageKind.PORTAL}
)


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"
    INTERNAL = "internal"


class IdentityKind(StrEnum):
    """How a customer reaches us: an address, a number, or a platform's id of them."""

    EMAIL = "email"
    PHONE = "phone"
    CHAT_VISITOR = "chat_visitor"
    TELEGRAM_ID = "telegram_id"
    MESSENGER_PSID = "messenger_psid"
    INSTAGRAM_ID = "instagram_id"
    WHATSAPP_NUMBER = "whatsapp_number"
    X_USER_ID = "x_user_id"


class LinkKind(StrEnum):
    """How two tickets relate."""

    POSSIBLE_FOLLOWUP = "possible_followup"  # a weak match, for an agent to confirm
    FOLLOWUP = "followup"  # written after the other was resolved long ago
    MERGED = "merged"  # this ticket was merged into the other
    SPLIT_FROM = "split_from"  # this ticket was split out of the other
