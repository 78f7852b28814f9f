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

from sqlmodel import Session

from inbox.actions.outbox import queue_outbound
from inbox.errors import Conflict
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
    key: str | None,
) -> Message:
    """The replier of every social kind: a message in the customer's conversation, sent
    through the outbox while the platform's reply window allows it."""
    channel = session.get(Channel, ticket.channel_id) if ticket.channel_id else None
    conversation = conversation_of(session, ticket)
    window = social_reply_window(session, ticket, channel)
    if channel is None or conversation is None or window is None:
        raise Conflict("this ticket has no conversation to answer on its platform")
    if not window.open:
        raise Conflict(window.note)
    text = mask_sensitive(body).text
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
    record(session, MessageAdded(ticket.id or 0, message.id or 0))
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
