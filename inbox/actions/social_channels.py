"""Adding social channels: Telegram, Messenger, Instagram, WhatsApp and X.

What a connector needs (tokens, app secrets, verify tokens, and the ids and base URLs beside
them) is sealed in ``secrets_encrypted``; ``config`` keeps only what may be shown: the
platform's account id (``account_id``, which routes the Meta webhook's entries), the base URL
and a WhatsApp channel's template. Secrets are never printed, logged or put in ``config``.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from inbox.actions.audit import record_audit
from inbox.errors import Conflict, InvalidInput
from inbox.models import Channel
from inbox.models.kinds import ChannelKind
from inbox.signing import SecretBox

SOCIAL_KINDS = (
    ChannelKind.TELEGRAM,
    ChannelKind.MESSENGER,
    ChannelKind.INSTAGRAM,
    ChannelKind.WHATSAPP,
    ChannelKind.X,
)
META_KINDS = (ChannelKind.MESSENGER, ChannelKind.INSTAGRAM, ChannelKind.WHATSAPP)


def add_social_channel(
    session: Session,
    box: SecretBox,
    *,
    kind: str,
    name: str,
    account_id: str = "",
    secrets: dict[str, str],
    settings: dict[str, Any] | None = None,
    poll_seconds: int = 60,
    actor_label: str = "cli",
) -> Channel:
    """``secrets`` holds the connector's secret values; ``settings`` its other values (base
    URLs, ids, a template), kept both sealed for the connector and plain for display."""
    name = name.strip()
    if kind not in SOCIAL_KINDS:
        raise InvalidInput(f"not a social channel kind: {kind}")
    if not name:
        raise InvalidInput("a channel needs a name")
    if not 5 <= poll_seconds <= 3600:
        raise InvalidInput("poll interval must be between 5 and 3600 seconds")
    missing = [key for key, value in secrets.items() if not value.strip()]
    if missing:
        raise InvalidInput(f"missing {', '.join(missing)}")
    if session.exec(select(Channel).where(Channel.name == name)).first():
        raise Conflict("a channel with that name exists")
    shown = {k: v for k, v in (settings or {}).items() if v not in (None, "")}
    if account_id:
        for other in session.exec(select(Channel).where(Channel.kind == kind)).all():
            if other.config.get("account_id") == account_id:
                raise Conflict(f"channel {other.name} already serves {kind} account {account_id}")
        shown["account_id"] = account_id
    channel = Channel(
        kind=kind,
        name=name,
        config=shown,
        secrets_encrypted=box.seal({**shown, **secrets}),
        poll_seconds=poll_seconds,
    )
    session.add(channel)
    session.flush()
    record_audit(
        session,
        "channel.add",
        actor_label=actor_label,
        target_type="channel",
        target_id=channel.id or 0,
        detail={"kind": kind, "name": name},
    )
    return channel
