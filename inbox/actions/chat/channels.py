"""Adding a live-chat channel: the sites it serves, its public widget key, and its identity
secret, sealed like every channel secret."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlmodel import Session, col, select

from inbox.actions.audit import record_audit
from inbox.errors import Conflict, InvalidInput, NotFound
from inbox.models import BusinessCalendar, Channel, Team
from inbox.models.kinds import ChannelKind
from inbox.rules.chat_routing import (
    MAX_MESSAGE_CHARS,
    MIN_OFFER_SECONDS,
    RoutingSettings,
    routing_settings,
)
from inbox.signing import SecretBox

# Per-channel limits and timings, in the channel's config; an administrator may tune them.
DEFAULT_LIMITS = {
    "burst": 10,  # messages a visitor may send at once
    "per_minute": 30,  # and then one every two seconds
    "idle_seconds": 30 * 60,  # a socket with no frame for this long is closed
    "heartbeat_seconds": 25,
}


@dataclass(frozen=True)
class ChatChannel:
    channel: Channel
    widget_key: str
    identity_secret: str


def _origin(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"an origin is http(s)://host[:port], not {url!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise InvalidInput(f"an origin has no path, query or user: {url!r}")
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname.lower()}{port}"


def add_chat_channel(
    session: Session,
    box: SecretBox,
    *,
    name: str,
    origins: list[str],
    actor_label: str = "cli",
) -> ChatChannel:
    """A chat channel for the sites at ``origins``; its identity secret is sealed."""
    name = name.strip()
    if not name:
        raise InvalidInput("a channel needs a name")
    cleaned = list(dict.fromkeys(_origin(o) for o in origins))
    if not cleaned:
        raise InvalidInput("a chat channel needs at least one --origin")
    if session.exec(select(Channel).where(Channel.name == name)).first():
        raise Conflict("a channel with that name exists")
    widget_key = "w" + secrets.token_urlsafe(18)
    identity_secret = secrets.token_urlsafe(32)
    channel = Channel(
        kind=ChannelKind.CHAT,
        name=name,
        config={"widget_key": widget_key, "origins": cleaned, **DEFAULT_LIMITS},
        secrets_encrypted=box.seal({"identity_secret": identity_secret}),
        health="ok",
    )
    session.add(channel)
    session.flush()
    record_audit(
        session,
        "channel.add",
        actor_label=actor_label,
        target_type="channel",
        target_id=channel.id or 0,
        detail={"kind": ChannelKind.CHAT.value, "name": name, "origins": cleaned},
    )
    return ChatChannel(channel, widget_key, identity_secret)


def chat_channel_by_key(session: Session, widget_key: str) -> Channel | None:
    """The enabled chat channel of a widget key (read on every connection: a channel added
    a moment ago serves at once, without a restart)."""
    if not widget_key:
        return None
    for channel in session.exec(
        select(Channel).where(Channel.kind == ChannelKind.CHAT, col(Channel.enabled).is_(True))
    ):
        if secrets.compare_digest(str(channel.config.get("widget_key", "")), widget_key):
            return channel
    return None


def configure_chat_routing(
    session: Session,
    name: str,
    *,
    team: str | None = None,
    clear_team: bool = False,
    calendar: str | None = None,
    always_open: bool = False,
    queue_cap: int | None = None,
    offer_seconds: int | None = None,
    away_message: str | None = None,
    busy_message: str | None = None,
    actor_label: str = "cli",
) -> RoutingSettings:
    """Change how a chat channel routes: its queue's team (or every agent: ``clear_team``),
    the business calendar chats are answered in (or always: ``always_open``), the queue's
    cap, how long an offer waits for its agent, and what visitors read while the desk is
    away or busy. The channel's routing settings afterwards."""
    channel = session.exec(
        select(Channel).where(Channel.name == name.strip(), Channel.kind == ChannelKind.CHAT)
    ).first()
    if channel is None:
        raise NotFound(f"no chat channel named {name!r}")
    changes: dict[str, object] = {}
    if clear_team:
        changes["team_id"] = None
    elif team:
        found = session.exec(select(Team).where(Team.name == team)).first()
        if found is None:
            raise InvalidInput(f"no team named {team!r}")
        changes["team_id"] = found.id
    if always_open:
        changes["calendar_id"] = None
    elif calendar:
        row = session.exec(
            select(BusinessCalendar).where(BusinessCalendar.name == calendar)
        ).first()
        if row is None:
            raise InvalidInput(f"no business calendar named {calendar!r}")
        changes["calendar_id"] = row.id
    if queue_cap is not None:
        if not 1 <= queue_cap <= 1000:
            raise InvalidInput("a queue cap is 1 to 1000")
        changes["queue_cap"] = queue_cap
    if offer_seconds is not None:
        if not MIN_OFFER_SECONDS <= offer_seconds <= 600:
            raise InvalidInput(f"an offer waits {MIN_OFFER_SECONDS} to 600 seconds")
        changes["offer_seconds"] = offer_seconds
    for key, text in (("away_message", away_message), ("busy_message", busy_message)):
        if text is not None:
            text = " ".join(text.split())
            if not text or len(text) > MAX_MESSAGE_CHARS:
                raise InvalidInput(f"a message is 1 to {MAX_MESSAGE_CHARS} characters")
            changes[key] = text
    if changes:
        channel.config = {**channel.config, **changes}
        session.add(channel)
        record_audit(
            session,
            "channel.chat_routing",
            actor_label=actor_label,
            target_type="channel",
            target_id=channel.id or 0,
            detail=changes,
        )
    return routing_settings(channel.config)
