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
in the filing job the commit queues. The request's only write is that insert, committed with
those of the posts that arrived alongside (``grouped_store``); the channels and their secrets
are read apart from it (``PushedChannels``).
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any

import anyio
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from connectors.meta import MetaWebhook
from connectors.meta.webhook import SIGNATURE_HEADER, signature_holds
from inbox.actions.social_channels import META_KINDS
from inbox.db import Database
from inbox.settings import Settings
from inbox.web.auth import PUBLIC
from inbox.web.webhooks.channels import PushedChannel, PushedChannels
from inbox.web.webhooks.grouped import grouped_store

OPEN = {**PUBLIC, "exclude_from_csrf": True}
WEBHOOK = MetaWebhook()
CHANNELS = PushedChannels(META_KINDS)


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
    it holds for none. Returns how many items were new. The channels and their secrets are
    read outside the write transaction (and mostly not at all: ``PushedChannels``); the
    transaction only inserts."""
    if not signature:
        return None
    signed_for = _signed_for(CHANNELS.of(db, settings), signature, body)
    if not signed_for:  # a secret replaced since the channels were read: read them again
        signed_for = _signed_for(CHANNELS.of(db, settings, recheck=True), signature, body)
    if not signed_for:
        return None
    routed = WEBHOOK.route(body)
    if any(r.account_id not in signed_for for r in routed):  # a channel added meanwhile?
        signed_for = _signed_for(CHANNELS.of(db, settings, recheck=True), signature, body)
    by_channel: dict[int, list[Any]] = {}
    for item in routed:
        channel_id = signed_for.get(item.account_id)
        if channel_id is not None:
            by_channel.setdefault(channel_id, []).append(item.item)
    if not by_channel:
        return 0
    return grouped_store(db).store(by_channel)  # committed, with the posts alongside


def _signed_for(channels: list[PushedChannel], signature: str, body: bytes) -> dict[str, int]:
    """Account id -> channel id, of the channels whose app secret the signature holds for."""
    return {
        str(c.config.get("account_id", "")): c.channel_id
        for c in channels
        if signature_holds(str(c.secrets.get("app_secret", "")), signature, body)
    }


def _known_verify_token(db: Database, settings: Settings, offered: str) -> bool:
    channels = CHANNELS.of(db, settings, recheck=True)
    found = False
    for channel in channels:  # every one compared, in constant time each
        expected = str(channel.secrets.get("verify_token", "")).encode()
        found |= bool(expected) and hmac.compare_digest(expected, offered.encode())
    return found
