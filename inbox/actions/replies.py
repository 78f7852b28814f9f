"""An agent's reply to the customer, on the ticket's own channel.

Callers (the composer, the API, the unlock action, the demo) call ``reply_to_customer``; it
picks the replier of the ticket's channel kind from ``REPLIERS`` instead of branching on the
kind. Each replier owns its channel's wire: email's queues a mail through the outbox. A ticket
of a kind without a replier of its own (phone) or with no channel goes to email's, which
refuses it (``Conflict``) when the ticket has no email contact.
"""

from __future__ import annotations

from typing import Protocol

from sqlmodel import Session

from inbox.actions.chat.replies import reply_by_chat
from inbox.actions.email_out import reply_by_email
from inbox.actions.social_out import reply_on_social
from inbox.models import Agent, Channel, Message, Ticket
from inbox.models.kinds import ChannelKind
from inbox.settings import Settings


class Replier(Protocol):
    def __call__(
        self,
        session: Session,
        settings: Settings,
        *,
        ticket: Ticket,
        author: Agent,
        body: str,
        status_after: str | None = None,
        seen_message_id: int | None = None,
        idempotency_key: str | None = None,
    ) -> Message: ...


REPLIERS: dict[str, Replier] = {ChannelKind.EMAIL: reply_by_email, ChannelKind.CHAT: reply_by_chat}
REPLIERS.update(
    dict.fromkeys(
        (
            ChannelKind.TELEGRAM,
            ChannelKind.MESSENGER,
            ChannelKind.INSTAGRAM,
            ChannelKind.WHATSAPP,
            ChannelKind.X,
        ),
        reply_on_social,
    )
)


def reply_to_customer(
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
    """The reply, queued on the ticket's channel (``reply_by_email`` tells what the options
    mean: every replier keeps the same promises)."""
    channel = session.get(Channel, ticket.channel_id) if ticket.channel_id else None
    replier = REPLIERS.get(channel.kind, reply_by_email) if channel else reply_by_email
    return replier(
        session,
        settings,
        ticket=ticket,
        author=author,
        body=body,
        status_after=status_after,
        seen_message_id=seen_message_id,
        idempotency_key=idempotency_key,
    )
