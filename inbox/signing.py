"""Signatures and encryption keyed by the instance secret.

- Reply tokens put the ticket in the Reply-To address, signed, so a reply is
  matched to its ticket without trusting the subject or the sender.
- Message-IDs of our own mail are signed, so a reply's In-Reply-To can be
  trusted and our own mail coming back is recognised.
- Channel secrets (mail passwords, API tokens) are encrypted at rest.
- Outbound mail that carries a secret (a one-time code, a password-reset link) is encrypted
  while it waits in the outbox.
- Survey links carry a signed survey id, so a customer answers without signing in.
- Small signed documents (``sign_claims``): a chat visitor's uploaded file and the link to a
  chat attachment, each bound to its visitor and an expiry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def _mac(secret: bytes, purpose: str, value: str, length: int) -> str:
    digest = hmac.new(secret, f"{purpose}:{value}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode().lower().rstrip("=")[:length]


def reply_token(secret: bytes, ticket_id: int) -> str:
    """``t<id>.<mac>``: short enough for the local part of an address."""
    return f"t{ticket_id}.{_mac(secret, 'reply', str(ticket_id), 16)}"


def verify_reply_token(secret: bytes, token: str) -> int | None:
    token = token.strip().lower()
    if not token.startswith("t") or "." not in token:
        return None
    id_part, mac = token[1:].split(".", 1)
    if not id_part.isdigit() or len(id_part) > 18:
        return None
    expected = _mac(secret, "reply", id_part, 16)
    return int(id_part) if hmac.compare_digest(expected, mac) else None


def survey_token(secret: bytes, survey_id: int) -> str:
    """``s<id>.<mac>``: the satisfaction survey link opens one survey, with no sign-in."""
    return f"s{survey_id}.{_mac(secret, 'survey', str(survey_id), 24)}"


def verify_survey_token(secret: bytes, token: str) -> int | None:
    token = token.strip().lower()
    if not token.startswith("s") or "." not in token:
        return None
    id_part, mac = token[1:].split(".", 1)
    if not id_part.isdigit() or len(id_part) > 18:
        return None
    expected = _mac(secret, "survey", id_part, 24)
    return int(id_part) if hmac.compare_digest(expected, mac) else None


def reply_address(secret: bytes, address: str, ticket_id: int) -> str:
    """``support+t42.abcd@example.com`` for ``support@example.com``."""
    local, _, domain = address.partition("@")
    return f"{local}+{reply_token(secret, ticket_id)}@{domain}"


def token_from_address(secret: bytes, address: str) -> int | None:
    local = address.partition("@")[0]
    if "+" not in local:
        return None
    return verify_reply_token(secret, local.rsplit("+", 1)[1])


def new_message_id(secret: bytes, domain: str, ticket_id: int | None) -> str:
    """A signed Message-ID (without angle brackets) for one outbound mail."""
    nonce = secrets.token_hex(8)
    ticket = str(ticket_id) if ticket_id is not None else "0"
    local = f"{ticket}.{nonce}"
    return f"{local}.{_mac(secret, 'msgid', local, 12)}@{domain}"


def verify_message_id(secret: bytes, message_id: str) -> int | None:
    """The ticket id carried by one of our own Message-IDs, or None if it is not ours.

    Returns 0 for our mail that belongs to no ticket.
    """
    local = message_id.strip().strip("<>").partition("@")[0]
    parts = local.split(".")
    if len(parts) != 3 or not parts[0].isdigit():
        return None
    expected = _mac(secret, "msgid", f"{parts[0]}.{parts[1]}", 12)
    return int(parts[0]) if hmac.compare_digest(expected, parts[2].lower()) else None


def sign_claims(secret: bytes, purpose: str, claims: dict[str, Any]) -> str:
    """``<claims>.<mac>``: a small JSON document (base64url) that only this desk could have
    written, for ``purpose`` alone; URL-safe. The claims are readable, not secret."""
    body = json.dumps(claims, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    encoded = base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")
    return f"{encoded}.{_mac(secret, purpose, encoded, 32)}"


def open_claims(secret: bytes, purpose: str, token: str) -> dict[str, Any] | None:
    """The claims of a token ``sign_claims`` made for ``purpose``; None for anything else
    (another purpose, another desk, a changed character)."""
    encoded, dot, mac = token.strip().rpartition(".")
    if not dot or not encoded or len(token) > 4096 or not token.isascii():
        return None
    if not hmac.compare_digest(_mac(secret, purpose, encoded, 32), mac):
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    except ValueError:
        return None
    return claims if isinstance(claims, dict) else None


def hash_token(token: str) -> str:
    """Stored form of session and API tokens: a leaked table grants nothing."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


class SecretBox:
    """Encrypts small JSON documents of secrets with a key derived from the instance secret."""

    def __init__(self, secret: bytes) -> None:
        key = hashlib.sha256(b"inbox-secret-box:" + secret).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def seal(self, values: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(values).encode()).decode()

    def open(self, sealed: str) -> dict[str, Any]:
        if not sealed:
            return {}
        try:
            opened: dict[str, Any] = json.loads(self._fernet.decrypt(sealed.encode()))
        except InvalidToken as exc:
            raise ValueError("channel secrets cannot be decrypted with this secret key") from exc
        return opened


class OutboxSeal:
    """Encrypts the bytes of a mail that carries a secret while it waits in the outbox.

    The key is derived from the instance secret with HKDF, for this purpose alone, so it is
    neither the channel secrets' key nor anything a signature reveals. Fernet authenticates
    what it encrypts: a payload changed in the table does not open.
    """

    def __init__(self, secret: bytes) -> None:
        key = HKDF(algorithm=SHA256(), length=32, salt=None, info=b"inbox outbox seal").derive(
            secret
        )
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def seal(self, payload: bytes) -> bytes:
        return self._fernet.encrypt(payload)

    def open(self, sealed: bytes) -> bytes:
        try:
            return self._fernet.decrypt(sealed)
        except InvalidToken as exc:
            raise ValueError("this mail cannot be decrypted with this secret key") from exc
