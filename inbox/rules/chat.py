"""Live chat's pure rules: the frames a visitor may send (``read_frame``), the visitor's signed
token, the site's signed identity, and the token bucket that limits a visitor's pace.

The protocol is INTERFACES.md's ("Live chat: the visitor's websocket protocol") and
docs/chat-protocol.md's; nothing here touches a socket or the database.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from inbox.rules.chat_files import MAX_ATTACHMENTS, MAX_TOKEN_CHARS

MAX_FRAME_BYTES = 8 * 1024
MAX_TEXT_CHARS = 4000
MAX_CLIENT_ID = 64
MAX_NAME_CHARS = 200
MAX_EMAIL_CHARS = 320
MAX_IDENTITY_ID = 200
VISITOR_FRAMES = ("hello", "message", "typing", "resume", "end", "ping")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# The key a widget makes for one visit of its pre-chat form: it goes on the links of the
# articles the form suggests and in ``hello`` (``help_visit`` joins the two).
VISIT_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")


class FrameError(ValueError):
    """A frame the desk answers with an ``error`` frame: ``code`` names what was wrong."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class Identity:
    """The site's signed-in user, as the site vouches for them."""

    id: str
    hash: str
    email: str = ""
    name: str = ""


@dataclass(frozen=True)
class Hello:
    token: str | None
    name: str = ""
    email: str = ""
    identity: Identity | None = None
    visit: str = ""


@dataclass(frozen=True)
class Say:
    client_id: str
    text: str
    # Upload tokens of the visitor's files (``POST /chat/files``), checked when it is taken.
    attachments: tuple[str, ...] = ()


@dataclass(frozen=True)
class Typing:
    active: bool


@dataclass(frozen=True)
class Resume:
    since: int


@dataclass(frozen=True)
class End:
    pass


@dataclass(frozen=True)
class Ping:
    pass


@dataclass(frozen=True)
class Rate:
    """The visitor's satisfaction score for their chat, 1 to 5, and what they add."""

    score: int
    comment: str = ""


@dataclass(frozen=True)
class Transcript:
    """The visitor asks for their chat's transcript by mail."""


Frame = Hello | Say | Typing | Resume | End | Ping | Rate | Transcript
MAX_COMMENT_CHARS = 2000


def _text(body: dict[str, Any], key: str, limit: int, *, required: bool = False) -> str:
    value = body.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise FrameError("invalid", f"{key} must be a string")
    if len(value) > limit:
        raise FrameError("invalid", f"{key} may have at most {limit} characters")
    return value.strip()


def _identity(value: Any) -> Identity | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise FrameError("invalid", "identity must be an object")
    ident = _text(value, "id", MAX_IDENTITY_ID, required=True)
    digest = _text(value, "hash", 128, required=True)
    if not ident:
        raise FrameError("invalid", "identity.id must not be empty")
    return Identity(
        id=ident,
        hash=digest.lower(),
        email=_text(value, "email", MAX_EMAIL_CHARS).lower(),
        name=_text(value, "name", MAX_NAME_CHARS),
    )


def _attachments(value: Any) -> tuple[str, ...]:
    """A message's upload tokens, each once, in order."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(
        isinstance(t, str) and 0 < len(t) <= MAX_TOKEN_CHARS for t in value
    ):
        raise FrameError("invalid", "attachments must be a list of upload tokens")
    tokens = tuple(dict.fromkeys(value))
    if len(tokens) > MAX_ATTACHMENTS:
        raise FrameError("invalid", f"a message may carry at most {MAX_ATTACHMENTS} files")
    return tokens


def read_frame(data: str | bytes) -> Frame:
    """One visitor frame, checked; ``FrameError`` says what was wrong with it."""
    try:
        body = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise FrameError("bad_json", "a frame is one JSON object") from None
    if not isinstance(body, dict):
        raise FrameError("bad_json", "a frame is one JSON object")
    kind = body.get("type")
    if kind == "hello":
        token = body.get("token")
        if token is not None and not isinstance(token, str):
            raise FrameError("invalid", "token must be a string or null")
        email = _text(body, "email", MAX_EMAIL_CHARS).lower()
        if email and not _EMAIL.match(email):
            raise FrameError("invalid", "that email address does not look right")
        visit = _text(body, "visit", 64)
        if visit and not VISIT_KEY.fullmatch(visit):
            raise FrameError("invalid", "visit must be 16 to 64 letters, digits, - or _")
        return Hello(
            token=token or None,
            name=_text(body, "name", MAX_NAME_CHARS),
            email=email,
            identity=_identity(body.get("identity")),
            visit=visit,
        )
    if kind == "message":
        client_id = body.get("client_id")
        if not isinstance(client_id, str) or not 1 <= len(client_id) <= MAX_CLIENT_ID:
            raise FrameError("invalid", "client_id must be a string of 1 to 64 characters")
        attachments = _attachments(body.get("attachments"))
        text = _text(body, "text", MAX_TEXT_CHARS, required=not attachments)
        if not text and not attachments:
            raise FrameError("invalid", "a message needs text")
        return Say(client_id, text, attachments)
    if kind == "typing":
        active = body.get("active")
        if not isinstance(active, bool):
            raise FrameError("invalid", "active must be true or false")
        return Typing(active)
    if kind == "resume":
        since = body.get("since")
        if not isinstance(since, int) or isinstance(since, bool) or since < 0:
            raise FrameError("invalid", "since must be a whole number, 0 or more")
        return Resume(since)
    if kind == "end":
        return End()
    if kind == "rate":
        score = body.get("score")
        if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
            raise FrameError("invalid", "score must be a whole number from 1 to 5")
        return Rate(score, _text(body, "comment", MAX_COMMENT_CHARS))
    if kind == "transcript":
        return Transcript()
    if kind == "ping":
        return Ping()
    raise FrameError("unknown_type", f"no frame of type {str(kind)[:40]!r} in this protocol")


# -- tokens and identities ---------------------------------------------------------------------


def _mac(secret: bytes, value: str) -> str:
    return hmac.new(secret, f"chat-visitor:{value}".encode(), hashlib.sha256).hexdigest()[:32]


def visitor_token(secret: bytes, visitor_id: int) -> str:
    """``v<id>.<mac>``: the visitor comes back with it, on any tab, after any reload."""
    return f"v{visitor_id}.{_mac(secret, str(visitor_id))}"


def visitor_from_token(secret: bytes, token: str) -> int | None:
    if not token.startswith("v") or "." not in token:
        return None
    id_part, mac = token[1:].split(".", 1)
    if not id_part.isdigit() or len(id_part) > 18:
        return None
    return int(id_part) if hmac.compare_digest(_mac(secret, id_part), mac) else None


def proof_token(secret: bytes, visitor_id: int, email: str, expires: int) -> str:
    """``p<id>.<expires>.<mac>``: the confirmation link of the address a visitor typed, good
    until ``expires`` (epoch seconds) and for that address only."""
    mac = _mac(secret, f"proof:{visitor_id}:{expires}:{email.strip().lower()}")
    return f"p{visitor_id}.{expires}.{mac}"


def proof_visitor(token: str) -> tuple[int, int] | None:
    """The visitor id and expiry a confirmation token names (not yet checked)."""
    parts = token[1:].split(".") if token.startswith("p") else []
    if len(parts) != 3 or not all(p.isdigit() and len(p) <= 18 for p in parts[:2]):
        return None
    return int(parts[0]), int(parts[1])


def proof_holds(secret: bytes, token: str, email: str, now: int) -> bool:
    """Whether ``token`` confirms ``email`` for its visitor, and has not expired."""
    named = proof_visitor(token)
    if named is None or not email or named[1] < now:
        return False
    return hmac.compare_digest(proof_token(secret, named[0], email, named[1]), token)


def identity_hash(identity_secret: str, identity_id: str) -> str:
    """What a site computes on its server for its signed-in user: hex HMAC-SHA256 of the id,
    keyed with the channel's identity secret as printed (its UTF-8 bytes)."""
    return hmac.new(identity_secret.encode(), identity_id.encode(), hashlib.sha256).hexdigest()


def identity_proven(identity_secret: str, identity: Identity) -> bool:
    return hmac.compare_digest(identity_hash(identity_secret, identity.id), identity.hash)


# -- pace --------------------------------------------------------------------------------------


@dataclass
class TokenBucket:
    """Bursts of ``burst`` pass at once; after that one more every ``1 / rate`` seconds."""

    burst: float
    rate: float
    tokens: float = -1.0
    at: float = 0.0

    def take(self, now: float) -> bool:
        if self.tokens < 0:
            self.tokens, self.at = self.burst, now
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


def origin_key(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port of an origin, the scheme's default port written out."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    try:
        port = parts.port or {"http": 80, "https": 443}.get(scheme)
    except ValueError:
        return ("", "", None)
    return (scheme, (parts.hostname or "").lower(), port)


def origin_listed(origin: str | None, origins: list[str]) -> bool:
    if not origin or origin == "null":
        return False
    key = origin_key(origin)
    return bool(key[0] and key[1]) and any(origin_key(o) == key for o in origins)
