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
from collections.abc import Mapping
from typing import Annotated, Any

import anyio
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from connectors.meta import MetaWebhook
from connectors.meta.webhook import SIGNATURE_HEADER, signature_holds
from inbox.actions.inbound.store import store_inbound
from inbox.actions.social_channels import META_KINDS
from inbox.db import Database
from inbox.queries.social import enabled_channels_of
from inbox.settings import Settings
from inbox.signing import SecretBox
from inbox.web.auth import PUBLIC

OPEN = {**PUBLIC, "exclude_from_csrf": True}
WEBHOOK = MetaWebhook()


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
    box = SecretBox(settings.secret_key)
    with db.reading() as session:
        channels = [
            (c.id or 0, str(c.config.get("account_id", "")), box.open(c.secrets_encrypted))
            for c in enabled_channels_of(session, META_KINDS)
        ]
    signed_for = {
        account: channel_id
        for channel_id, account, secrets in channels
        if signature_holds(str(secrets.get("app_secret", "")), signature, body)
    }
    if not signed_for:
        return None
    by_channel: dict[int, list[Any]] = {}
    for routed in WEBHOOK.route(body):
        channel_id = signed_for.get(routed.account_id)
        if channel_id is not None:
            by_channel.setdefault(channel_id, []).append(routed.item)
    stored = 0
    if by_channel:
        with db.unit_of_work() as session:
            for channel_id, items in by_channel.items():
                stored += len(store_inbound(session, channel_id, items))
    return stored


def _known_verify_token(db: Database, settings: Settings, offered: str) -> bool:
    box = SecretBox(settings.secret_key)
    with db.reading() as session:
        secrets: list[Mapping[str, Any]] = [
            box.open(c.secrets_encrypted) for c in enabled_channels_of(session, META_KINDS)
        ]
    found = False
    for values in secrets:  # every one compared, in constant time each
        expected = str(values.get("verify_token", ""))
        found |= bool(expected) and hmac.compare_digest(expected.encode(), offered.encode())
    return found
