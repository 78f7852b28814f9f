"""Files an agent attaches to a reply or an internal note, pure: which channels' replies carry
them, what the composer says about them, and the signed token that keeps a reply's files while
the agent looks again (a reply refused as written before the customer's newest message).

Which files, how large and how many are the customer portal's rules (``inbox.rules.portal``):
the desk takes from its agents what it takes from its customers. A reply's files go out as
mail attachments on email (and on tickets answered by email: phone, none) and as the chat's
signed links on live chat; the social platforms' senders send text alone, so a reply there
takes no files, and says why.
"""

from __future__ import annotations

from dataclasses import dataclass

from inbox.rules.chat_files import ChatFile, file_from_json
from inbox.rules.portal import ALLOWED_DESCRIPTION, MAX_FILE_BYTES, MAX_FILES
from inbox.signing import open_claims, sign_claims

# Channel kinds whose replies carry files; "" is a ticket of no channel, answered by email.
FILE_REPLY_KINDS = frozenset({"email", "chat", "phone", ""})
NOT_ON_THIS_CHANNEL = "Files cannot be sent on this channel yet"
# What the file input offers; the bytes decide all the same.
ACCEPT = "image/png,image/jpeg,image/gif,image/webp,application/pdf,.png,.jpg,.jpeg,.gif,.webp,.pdf"
HELD_PURPOSE = "reply-file"
# A held file waits while the agent reads the new message and sends anyway.
HELD_SECONDS = 24 * 3600
MAX_HELD_TOKEN_CHARS = 1024


def reply_takes_files(channel_kind: str) -> bool:
    return channel_kind in FILE_REPLY_KINDS


@dataclass(frozen=True)
class ComposerFiles:
    """What the composer's file inputs say: whether the reply tab offers one on this ticket,
    and the limits in words."""

    on_reply: bool
    max_files: int = MAX_FILES
    max_bytes: int = MAX_FILE_BYTES
    kinds: str = ALLOWED_DESCRIPTION
    accept: str = ACCEPT
    not_on_channel: str = NOT_ON_THIS_CHANNEL

    @property
    def limits(self) -> str:
        megabytes = self.max_bytes // (1024 * 1024)
        return f"Up to {self.max_files} files of at most {megabytes} MB each: {self.kinds}."


def composer_files(channel_kind: str) -> ComposerFiles:
    return ComposerFiles(on_reply=reply_takes_files(channel_kind))


def held_token(secret: bytes, agent_id: int, file: ChatFile, expires: int) -> str:
    """A stored file of an agent's reply that was not sent, for the form that sends it."""
    return sign_claims(secret, HELD_PURPOSE, {"g": agent_id, "e": expires, **file.as_json()})


def held_file(secret: bytes, token: str, agent_id: int, now: int) -> ChatFile | None:
    """The file a held token names, when this desk signed it for this agent and it has not
    expired; None otherwise (forged, changed, another agent's, too old)."""
    if len(token) > MAX_HELD_TOKEN_CHARS:
        return None
    claims = open_claims(secret, HELD_PURPOSE, token)
    if claims is None or claims.get("g") != agent_id:
        return None
    expires = claims.get("e")
    if not isinstance(expires, int) or expires < now:
        return None
    return file_from_json(claims)
