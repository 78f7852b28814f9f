"""A visitor's message, from the socket to its ticket: masked, stored raw
(``store_inbound``: the visitor and client id are its remote key, so a resend is stored
once), then filed at once on the inbound pipeline's own path (``process_inbound_item`` and
``FILINGS["chat"]``), so that the socket's ack carries the message's number and the ticket's
reference. An item whose filing fails stays pending: the pipeline's job files it later,
and the visitor's resend finds it."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, select

from inbox.actions.chat.files import files_of_message
from inbox.actions.chat.filing import entry_of_client_id
from inbox.actions.help import note_visit_wrote
from inbox.actions.inbound.filing import process_inbound_item, record_processing_failure
from inbox.actions.inbound.items import savepoint
from inbox.actions.inbound.store import store_inbound
from inbox.blobs import BlobStore
from inbox.models import ChatVisitor, InboundItem, Ticket
from inbox.rules.masking import mask_sensitive
from inbox.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RawChat:
    remote_key: str
    raw: bytes
    size: int
    truncated: bool = False


@dataclass(frozen=True)
class ChatAck:
    client_id: str
    seq: int
    reference: str
    masked: tuple[str, ...] = ()


def take_visitor_message(
    session: Session,
    settings: Settings,
    blobs: BlobStore,
    *,
    visitor: ChatVisitor,
    client_id: str,
    text: str,
    visit: str = "",
    attachments: Sequence[str] = (),
) -> ChatAck | None:
    """The ack of the visitor's message, stored and filed; the same ack for a resend. None
    when filing failed this time (the item is kept, and filed later). ``visit``: the key of
    the widget's visit (``hello.visit``), which wrote after all if it opened an article.
    ``attachments``: the upload tokens of the visitor's files (``inbox.actions.chat.files``),
    checked before the message is stored (``FileRefused``), not again for a resend."""
    masked = mask_sensitive(text)
    remote_key = f"{visitor.id}:{client_id}"
    row = _stored(session, visitor.channel_id, remote_key)
    if row is None:
        files = files_of_message(
            blobs, settings.secret_key, visitor.id or 0, attachments, int(time.time())
        )
        body: dict[str, object] = {
            "visitor_id": visitor.id,
            "client_id": client_id,
            "text": masked.text,
            "masked": list(masked.found),
        }
        if files:
            body["attachments"] = [f.as_json() for f in files]
        raw = json.dumps(body, ensure_ascii=False).encode()
        stored = store_inbound(session, visitor.channel_id, [RawChat(remote_key, raw, len(raw))])
        # Nothing stored: the same message, resent on another tab, was stored meanwhile.
        row = None if stored else _stored(session, visitor.channel_id, remote_key)
        item_id, pending = (row.id or 0, row.state == "pending") if row else (stored[0], True)
    else:
        item_id, pending = row.id or 0, row.state == "pending"
    if pending:
        try:
            with savepoint(session):
                process_inbound_item(session, settings, blobs, item_id)
        except Exception as exc:
            log.warning("chat message %s not filed yet", item_id, exc_info=True)
            record_processing_failure(session, item_id, f"{type(exc).__name__}: {exc}")
            return None
    found = entry_of_client_id(session, visitor.id or 0, client_id)
    if found is None:
        return None
    entry, conversation = found
    ticket = session.get(Ticket, conversation.ticket_id)
    if visit and ticket is not None:
        note_visit_wrote(session, visit, ticket.id or 0)
    return ChatAck(client_id, entry.seq, ticket.reference if ticket else "", masked.found)


def _stored(session: Session, channel_id: int, remote_key: str) -> InboundItem | None:
    return session.exec(
        select(InboundItem).where(
            InboundItem.channel_id == channel_id, InboundItem.remote_key == remote_key
        )
    ).first()
