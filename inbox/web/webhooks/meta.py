"""``GET|POST /webhooks/meta``: the one webhook of the Meta app, for Messenger, Instagram and
WhatsApp channels (INTERFACES.md).

``GET`` answers Meta's verification handshake: the challenge, as plain text, when
``hub.verify_token`` is one of the channels' verify tokens (compared in constant time).

``POST`` reads the raw body and checks ``X-Hub-Signature-256`` over it with the app secret of
each Meta channel (in constant time) before anything parses it: without a signature that holds
for some channel it answers 403 and stores nothing. Then each ``entry`` goes to the channel
whose account it names (a Page id, an Instagram account id, a WhatsApp phone number id) among
the channels that signature holds for; its items are stored raw, unique on the platform's id
(a redelivery stores nothing), and the answer goes back at once. Filing happens afterwards,
in the filing job the commit queues.
"""

from __future__ import annotations

import hmac
import threading
import time
from dataclasses import dataclass, field
from typing import Annotated, Any

import anyio
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from sqlmodel import Session

from connectors.meta import MetaWebhook
from connectors.meta.webhook import SIGNATURE_HEADER, signature_holds
from inbox.actions.inbound.store import store_inbound
from inbox.actions.social_channels import META_KINDS
from inbox.db import Database
from inbox.queries.social import enabled_channels_of, meta_channels_fingerprint
from inbox.settings import Settings
from inbox.signing import SecretBox
from inbox.web.auth import PUBLIC

OPEN = {**PUBLIC, "exclude_from_csrf": True}
WEBHOOK = MetaWebhook()
FRESH_AT_MOST_EVERY = 1.0


@dataclass(frozen=True)
class _MetaChannel:
    channel_id: int
    account_id: str
    app_secret: str = field(repr=False)
    verify_token: str = field(repr=False)


class _Channels:
    """The Meta channels with their opened secrets, read again only when the set of enabled
    Meta channels changed (``meta_channels_fingerprint``, one small query) or a signature
    holds for none of them (a secret replaced): a flood of events does not read and decrypt
    every channel once per event."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[str, bytes, tuple[object, ...]] | None = None
        self._channels: list[_MetaChannel] = []
        self._read_at = float("-inf")

    def of(
        self, session: Session, settings: Settings, *, fresh: bool = False
    ) -> list[_MetaChannel]:
        key = (
            settings.database_url,
            settings.secret_key,
            meta_channels_fingerprint(session, META_KINDS),
        )
        with self._lock:
            # A fresh read at most once a second: refused posts cannot make every request
            # read and decrypt every channel.
            recent = time.monotonic() - self._read_at < FRESH_AT_MOST_EVERY
            if key == self._key and (not fresh or recent):
                return self._channels
        rows = [
            (c.id or 0, c.config, c.secrets_encrypted)
            for c in enabled_channels_of(session, META_KINDS)
        ]
        box = SecretBox(settings.secret_key)
        channels = []
        for channel_id, config, sealed in rows:
            opened = box.open(sealed)
            channels.append(
                _MetaChannel(
                    channel_id,
                    str(config.get("account_id", "")),
                    str(opened.get("app_secret", "")),
                    str(opened.get("verify_token", "")),
                )
            )
        with self._lock:
            self._channels, self._key, self._read_at = channels, key, time.monotonic()
        return channels


CHANNELS = _Channels()


class MetaWebhookPages(Controller):
    path = "/webhooks"
    include_in_schema = False

    @get("/meta", opt=OPEN, sync_to_thread=True, media_type=MediaType.TEXT)
    def verify(
        self,
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        mode: Annotated[str, QueryParameter(name="hub.mode")] = "",
        verify_token: Annotated[str, QueryParameter(name="hub.verify_token")] = "",
        challenge: Annotated[str, QueryParameter(name="hub.challenge")] = "",
    ) -> Response[str]:
        if mode == "subscribe" and verify_token and _known_verify_token(db, settings, verify_token):
            return Response(challenge, media_type=MediaType.TEXT)
        return Response("forbidden", status_code=403, media_type=MediaType.TEXT)

    @post("/meta", opt=OPEN, status_code=200, media_type=MediaType.TEXT)
    async def receive(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> Response[str]:
        body = await request.body()
        header = request.headers.get(SIGNATURE_HEADER, "")
        accepted = await anyio.to_thread.run_sync(accept, db, settings, header, body)
        if accepted is None:
            return Response("forbidden", status_code=403, media_type=MediaType.TEXT)
        return Response("ok", media_type=MediaType.TEXT)


def accept(db: Database, settings: Settings, signature: str, body: bytes) -> int | None:
    """Stores what a signed body carries for the channels its signature holds for; None when
    it holds for none. Returns how many items were new."""
    if not signature:
        return None
    with db.unit_of_work() as session:  # commits only what is stored, after the check
        signed_for = _signed_for(CHANNELS.of(session, settings), signature, body)
        if not signed_for:  # a secret replaced since the channels were read: read them again
            signed_for = _signed_for(CHANNELS.of(session, settings, fresh=True), signature, body)
        if not signed_for:
            return None
        by_channel: dict[int, list[Any]] = {}
        for routed in WEBHOOK.route(body):
            channel_id = signed_for.get(routed.account_id)
            if channel_id is not None:
                by_channel.setdefault(channel_id, []).append(routed.item)
        return sum(
            len(store_inbound(session, channel_id, items))
            for channel_id, items in by_channel.items()
        )


def _signed_for(channels: list[_MetaChannel], signature: str, body: bytes) -> dict[str, int]:
    """Account id -> channel id, of the channels whose app secret the signature holds for."""
    return {
        c.account_id: c.channel_id
        for c in channels
        if signature_holds(c.app_secret, signature, body)
    }


def _known_verify_token(db: Database, settings: Settings, offered: str) -> bool:
    with db.reading() as session:
        channels = CHANNELS.of(session, settings, fresh=True)
    found = False
    for channel in channels:  # every one compared, in constant time each
        expected = channel.verify_token.encode()
        found |= bool(expected) and hmac.compare_digest(expected, offered.encode())
    return found
