"""After a direct message is filed: the calls to its platform that filing does not make (it
makes none): the sender's name from Messenger's or Instagram's profile API, WhatsApp media
through the Graph API's media endpoint, and the files of a Telegram update that came by
webhook (``getFile``). Best effort: a refusal leaves the message as filed, with a line on the
ticket for a file not fetched."""

from __future__ import annotations

import logging

import dramatiq

import connectors
from connectors.base import MediaSource, SenderProfiles
from connectors.errors import ConnectorError, TransientConnectorError
from inbox.actions.social_details import FetchedMedia, attach_social_media, name_social_sender
from inbox.models import Channel, InboundItem, Message
from inbox.parsing.items import PendingRaw
from inbox.parsing.readers import read_pending
from inbox.parsing.social import SocialArrival
from workers.broker import ensure_broker
from workers.runtime import get_runtime

ensure_broker()
log = logging.getLogger(__name__)
# The Graph API's own limit for WhatsApp media is 100 MB (documents).
MAX_MEDIA_BYTES = 100 * 1024 * 1024
MEDIA_SECONDS = 120.0


@dramatiq.actor(queue_name="inbound", max_retries=3, min_backoff=5_000, time_limit=300_000)
def complete_social_message(message_id: int) -> None:
    rt = get_runtime()
    with rt.db.reading() as session:
        message = session.get(Message, message_id)
        channel = (
            session.get(Channel, message.channel_id) if message and message.channel_id else None
        )
        row = (
            session.get(InboundItem, message.inbound_item_id)
            if message and message.inbound_item_id
            else None
        )
        if message is None or channel is None or row is None:
            return
        pending = PendingRaw(row.id or 0, channel.kind, row.raw, row.size, row.truncated)
        config = rt.box.open(channel.secrets_encrypted)
    item = read_pending(pending)
    connector = connectors.get(channel.kind)
    if not isinstance(item, SocialArrival):
        return
    name = ""
    if not item.media and isinstance(connector, SenderProfiles):
        try:
            name = connector.profile(config, item.sender_id)
        except TransientConnectorError:
            raise  # tried again by the broker
        except ConnectorError as exc:
            log.info("no profile for message %s: %s", message_id, exc)
    if name:
        with rt.db.unit_of_work() as session:
            name_social_sender(session, message_id, name)
    files = fetch_files(connector, config, item) if isinstance(connector, MediaSource) else []
    if files:
        with rt.db.unit_of_work() as session:
            attach_social_media(session, rt.blobs, message_id, files)


def fetch_files(
    source: MediaSource, config: dict[str, str], item: SocialArrival
) -> list[FetchedMedia]:
    """The message's files from the platform; one refused is listed with the reason, a
    transient failure raises (the broker tries the message again)."""
    files = []
    for media in item.media:
        try:
            data, content_type = source.media(
                config, media.media_id, max_bytes=MAX_MEDIA_BYTES, seconds=MEDIA_SECONDS
            )
        except TransientConnectorError:
            raise
        except ConnectorError as exc:
            files.append(FetchedMedia(media.name, media.content_type, None, str(exc)))
        else:
            files.append(FetchedMedia(media.name, (content_type or media.content_type)[:255], data))
    return files
