"""Chats with a past, for the chat report's tests: each written to the tables as live chat
leaves them (a visitor, a ticket opened by its first message, the conversation with its queue
and agent, the agent's first chat answer) at the moments its story gives, and the ticket's
SLA clocks computed under the policy that matches it (on a fresh desk, the default one)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from inbox.actions.customers import resolve_customer
from inbox.actions.sla.clocks import recompute_sla
from inbox.actions.tickets import open_ticket
from inbox.models import ChatConversation, ChatVisitor, Message, utcnow
from inbox.models.kinds import ChannelKind, Direction, IdentityKind, MessageKind


@dataclass(frozen=True)
class PastChat:
    """A chat's story. Without ``queued`` it was left as a message (desk away or busy)."""

    subject: str
    queued: datetime | None
    team_id: int | None = None  # the queue's team
    agent_id: int | None = None  # who took it
    taken: datetime | None = None
    answered: datetime | None = None  # the agent's first chat message
    ended: datetime | None = None
    started: datetime | None = None  # when the first message came; ``queued`` by default


def add_past_chat(session: Session, channel_id: int, chat: PastChat, prefix: str = "HD") -> str:
    """The chat, on a ticket of its own; the ticket's reference."""
    started = chat.started or chat.queued
    assert started is not None
    visitor = ChatVisitor(channel_id=channel_id, name=chat.subject, created_at=started)
    session.add(visitor)
    session.flush()
    customer, identity = resolve_customer(
        session,
        kind=IdentityKind.CHAT_VISITOR,
        value=f"visitor:{channel_id}:{visitor.id}",
        name=chat.subject,
    )
    ticket = open_ticket(
        session,
        prefix=prefix,
        subject=chat.subject,
        customer_id=customer.id or 0,
        contact_identity_id=identity.id,
        channel_id=channel_id,
        channel_kind=ChannelKind.CHAT,
    )
    ticket.created_at = ticket.updated_at = started
    ticket.assignee_id = chat.agent_id
    session.add(ticket)
    said = {
        "ticket_id": ticket.id or 0,
        "kind": MessageKind.CHAT,
        "channel_id": channel_id,
        "channel_kind": ChannelKind.CHAT,
    }
    session.add(
        Message(
            **said,
            direction=Direction.INBOUND,
            author_identity_id=identity.id,
            author_label=chat.subject,
            body_text=chat.subject,
            display_text=chat.subject,
            created_at=started,
        )
    )
    if chat.answered is not None:
        session.add(
            Message(
                **said,
                direction=Direction.OUTBOUND,
                author_agent_id=chat.agent_id,
                body_text="Hello, I am looking into it.",
                display_text="Hello, I am looking into it.",
                verification="agent",
                created_at=chat.answered,
            )
        )
    routing = "message" if chat.queued is None else "taken" if chat.taken else "queued"
    session.add(
        ChatConversation(
            channel_id=channel_id,
            visitor_id=visitor.id or 0,
            ticket_id=ticket.id or 0,
            state="ended" if chat.ended else "open",
            created_at=started,
            last_activity_at=chat.ended or chat.answered or started,
            ended_at=chat.ended,
            routing=routing,
            team_id=chat.team_id,
            queued_at=chat.queued,
            agent_id=chat.agent_id,
            taken_at=chat.taken,
        )
    )
    session.flush()
    recompute_sla(session, ticket.id or 0, utcnow())
    return ticket.reference
