"""Agents' replies on the social platforms, queued through the outbox like mail.

The reply is a message with ``delivery`` queued and an outbox row whose payload is the part
of the platform's send request the desk decides (JSON): the text, and on Messenger and
Instagram the ``messaging_type`` (RESPONSE inside 24 hours, MESSAGE_TAG with the HUMAN_AGENT
tag up to 7 days), on WhatsApp a text inside 24 hours or the channel's approved template
after. The connector adds the recipient and sends it (``workers.actors``). A reply the
platform would refuse for its window is not queued at all: ``Conflict`` says why, as the
composer did before the agent wrote (``inbox.queries.social.social_reply_window``).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from inbox.actions.email_out import MAX_REPLY_CHARS, _earlier_reply, _reply_key
from inbox.actions.outbox import queue_outbound
from inbox.actions.tickets import check_reply_not_stale, set_status, touch_ticket
from inbox.errors import Conflict, InvalidInput
from inbox.events import MessageAdded, record
from inbox.models import Agent, Channel, Message, Ticket, utcnow
from inbox.models.kinds import Direction, MessageKind
from inbox.queries.social import conversation_of, social_reply_window
from inbox.rules.masking import mask_sensitive
from inbox.rules.social_window import ReplyWindow
from inbox.settings import Settings


def reply_on_social(
    session: Session,
    settings: Settings,
    *,
    ticket: Ticket,
    author: Agent,
    body: str,
    status_after: str | None = None,
    seen_message_id: int | None = None,
    idempotency_key: str | None = None,
) -> Message:
    """The ``REPLIERS`` entry of every social kind; keeps ``reply_by_email``'s promises."""
    body = body.strip()
    key = _reply_key(author, idempotency_key)
    if key is not None:
        earlier = _earlier_reply(session, key, ticket=ticket, body=body)
        if earlier is not None:
            return earlier
    check_reply_not_stale(session, ticket, seen_message_id)
    if not body:
        raise InvalidInput("a reply needs text")
    if len(body) > MAX_REPLY_CHARS:
        raise InvalidInput("a reply may have at most 100,000 characters")
    channel = session.get(Channel, ticket.channel_id) if ticket.channel_id else None
    conversation = conversation_of(session, ticket)
    window = social_reply_window(session, ticket, channel)
    if channel is None or conversation is None or window is None:
        raise Conflict("this ticket has no conversation to answer on its platform")
    if not window.open:
        raise Conflict(window.note)
    text = mask_sensitive(body).text
    try:
        with session.begin_nested():
            message = Message(
                ticket_id=ticket.id or 0,
                kind=MessageKind.SOCIAL,
                direction=Direction.OUTBOUND,
                channel_id=channel.id,
                channel_kind=channel.kind,
                author_agent_id=author.id,
                author_label=author.name,
                body_text=text,
                display_text=text,
                delivery="queued",
                created_at=utcnow(),
            )
            session.add(message)
            session.flush()
            queue_outbound(
                session,
                key=key or f"social:{message.id}",
                kind="reply",
                channel_id=channel.id,
                ticket_id=ticket.id,
                message_id=message.id,
                sender=channel.name,
                recipients=[conversation.recipient],
                payload=json.dumps(_request(channel, window, text)).encode(),
            )
    except IntegrityError:
        raced = _earlier_reply(session, key, ticket=ticket, body=body) if key else None
        if raced is None:
            raise
        return raced
    record(session, MessageAdded(ticket.id or 0, message.id or 0))
    ticket.first_response_at = ticket.first_response_at or message.created_at
    if status_after:
        set_status(session, ticket, status_after)
    elif ticket.status_category == "new":
        set_status(session, ticket, "open")
    touch_ticket(session, ticket)
    return message


def _request(channel: Channel, window: ReplyWindow, text: str) -> dict[str, Any]:
    """What the platform's send request says besides the recipient."""
    if channel.kind in ("messenger", "instagram"):
        if window.mode == "human_agent":
            return {
                "messaging_type": "MESSAGE_TAG",
                "tag": "HUMAN_AGENT",
                "message": {"text": text},
            }
        return {"messaging_type": "RESPONSE", "message": {"text": text}}
    if channel.kind == "whatsapp":
        if window.mode == "template":
            template = channel.config["template"]
            return {
                "type": "template",
                "template": {
                    "name": template["name"],
                    "language": {"code": template.get("language", "en")},
                    "components": [
                        {"type": "body", "parameters": [{"type": "text", "text": text}]}
                    ],
                },
            }
        return {"type": "text", "text": {"preview_url": False, "body": text}}
    return {"text": text}
