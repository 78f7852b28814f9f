"""Internal notes that @mention agents, and the notifications they cause.

``@handle`` names an agent by the part of their address before the ``@`` (``@alex``), by
their whole address (``@alex@example.com``) or by their name without spaces (``@AlexAgent``),
in any case. A mention notifies the agent in the app and by mail, but only an active agent who
may see the ticket: anyone else named is reported back and told nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import update
from sqlmodel import Session, col, select

from inbox.actions.automatic_mail import queue_agent_mail
from inbox.actions.chat.files import attach_files
from inbox.actions.replies import authors_key
from inbox.actions.reply_files import check_file_count
from inbox.actions.tickets import add_note, can_see_ticket
from inbox.errors import Conflict
from inbox.models import Agent, Message, Notification, Ticket, utcnow
from inbox.queries.workspace import handle_of
from inbox.rules.chat_files import ChatFile
from inbox.settings import Settings

MENTION = re.compile(
    r"(?<![\w.+@-])@([a-z0-9][a-z0-9._+-]*(?:@[a-z0-9-]+(?:\.[a-z0-9-]+)+)?)", re.I
)
MAX_MENTIONS = 20
EXCERPT_CHARS = 300


def mentioned_handles(text: str) -> list[str]:
    """Handles in order of first appearance, without duplicates."""
    seen: list[str] = []
    for match in MENTION.finditer(text):
        handle = match.group(1).rstrip("._-").lower()
        if handle and handle not in seen:
            seen.append(handle)
    return seen[:MAX_MENTIONS]


def _agents_by_handle(session: Session, handles: list[str]) -> dict[str, Agent]:
    """Each handle that names exactly one active agent."""
    if not handles:
        return {}
    agents = session.exec(select(Agent).where(col(Agent.is_active))).all()
    found: dict[str, Agent] = {}
    for handle in handles:
        matches = [
            a
            for a in agents
            if handle in (a.email.lower(), handle_of(a), "".join(a.name.split()).lower())
        ]
        if len(matches) == 1:
            found[handle] = matches[0]
    return found


@dataclass
class NoteResult:
    message: Message
    notified: list[Agent] = field(default_factory=list)
    # Handles of agents who cannot see the ticket, or that name nobody.
    not_notified: list[str] = field(default_factory=list)


def add_note_with_mentions(
    session: Session,
    settings: Settings,
    ticket: Ticket,
    *,
    actor: Agent,
    body: str,
    files: Sequence[ChatFile] = (),
    idempotency_key: str | None = None,
) -> NoteResult:
    """An internal note, with ``files`` (checked and stored) as its attachments; each agent it
    mentions who may see the ticket is notified. The files stay with the agents: a note is
    never mailed or pushed to the customer, nor are they in the mention's mail.
    ``idempotency_key`` names the note for its author: the same key again (a second click, a
    resubmitted form) answers with the note already added, notifying no one again, and names
    no other note (``Conflict``)."""
    key = authors_key("note", actor, idempotency_key)
    if key is not None:
        earlier = session.exec(select(Message).where(Message.external_id == key)).first()
        if earlier is not None:
            if earlier.ticket_id != ticket.id or earlier.body_text != body.strip():
                raise Conflict("that idempotency key belongs to another note")
            return NoteResult(earlier)
    check_file_count(len(files))
    message = add_note(session, ticket, actor=actor, body=body, key=key)
    attach_files(session, message.id or 0, files)
    result = NoteResult(message)
    handles = mentioned_handles(message.body_text)
    agents = _agents_by_handle(session, handles)
    for handle in handles:
        agent = agents.get(handle)
        if agent is None or not can_see_ticket(session, agent, ticket):
            result.not_notified.append(handle)
            continue
        if agent.id == actor.id or agent.id in {a.id for a in result.notified}:
            continue
        _notify_mention(session, settings, agent=agent, actor=actor, ticket=ticket, note=message)
        result.notified.append(agent)
    return result


def _notify_mention(
    session: Session,
    settings: Settings,
    *,
    agent: Agent,
    actor: Agent,
    ticket: Ticket,
    note: Message,
) -> None:
    excerpt = " ".join(note.body_text.split())[:EXCERPT_CHARS]
    session.add(
        Notification(
            agent_id=agent.id or 0,
            kind="mention",
            ticket_id=ticket.id,
            message_id=note.id,
            actor_label=actor.name[:200],
            text=excerpt,
        )
    )
    link = f"{settings.base_url.rstrip('/')}/tickets/{ticket.reference}#message-{note.id}"
    queue_agent_mail(
        session,
        settings,
        agent=agent,
        kind="mention",
        key=f"mention:{note.id}:{agent.id}",
        subject=f"{actor.name} mentioned you on {ticket.reference}",
        body=(
            f"Hello {agent.name},\n\n"
            f"{actor.name} mentioned you in an internal note on {ticket.reference} "
            f"({ticket.subject or 'no subject'}):\n\n"
            f"{excerpt}\n\n"
            f"Open the ticket: {link}\n"
        ),
    )


def mark_notification_read(session: Session, *, agent: Agent, notification_id: int) -> None:
    """Only the agent's own notifications; anyone else's is left alone, silently."""
    session.execute(
        update(Notification)
        .where(
            col(Notification.id) == notification_id,
            col(Notification.agent_id) == agent.id,
            col(Notification.read_at).is_(None),
        )
        .values(read_at=utcnow())
    )


def mark_all_notifications_read(session: Session, *, agent: Agent) -> None:
    session.execute(
        update(Notification)
        .where(col(Notification.agent_id) == agent.id, col(Notification.read_at).is_(None))
        .values(read_at=utcnow())
    )
