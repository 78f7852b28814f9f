"""Automatic mail that is no message on a ticket, queued through the outbox: to agents
themselves (sign-in codes, password-reset links, mentions, SLA alerts) and to a customer's
contact on file (one-time codes, unlock notices; an agent never sees a one-time code).

It leaves from an email channel, the desk's own address: there is no separate system mailer
to configure. Without an email channel nothing can be sent.

Each mail has a key: queued again under the same key, it is not sent twice. Mail that carries
a secret says until when it works (``secret_expires_at``): it waits in the
outbox encrypted, and its bytes are wiped once sent or expired (``inbox.actions.outbox``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from inbox.actions.outbox import queue_outbound
from inbox.mail.compose import OutboundMail, build_message, one_line
from inbox.models import Agent, Channel, Outbox, Ticket, utcnow
from inbox.models.kinds import ChannelKind
from inbox.settings import Settings
from inbox.signing import OutboxSeal, new_message_id


def sending_channel(session: Session, *, paused_too: bool = False) -> Channel | None:
    """The first enabled email channel; with ``paused_too``, else any email channel."""
    query = select(Channel).where(Channel.kind == ChannelKind.EMAIL)
    if paused_too:
        query = query.order_by(col(Channel.enabled).desc(), col(Channel.id))
    else:
        query = query.where(col(Channel.enabled).is_(True)).order_by(col(Channel.id))
    return session.exec(query).first()


def can_mail_agents(session: Session) -> bool:
    return sending_channel(session) is not None


def queue_agent_mail(
    session: Session,
    settings: Settings,
    *,
    agent: Agent,
    kind: str,
    key: str,
    subject: str,
    body: str,
    secret_expires_at: datetime | None = None,
) -> bool:
    """Queue one automatic mail to an agent; False when no channel can send it."""
    channel = sending_channel(session)
    if channel is None:
        return False
    _queue(
        session,
        settings,
        channel,
        _Mail(agent.email, agent.name, kind, key, subject, body),
        ticket_id=None,
        secret_expires_at=secret_expires_at,
    )
    return True


def queue_contact_mail(
    session: Session,
    settings: Settings,
    *,
    to_address: str,
    to_name: str,
    kind: str,
    key: str,
    subject: str,
    body: str,
    ticket: Ticket | None = None,
    secret_expires_at: datetime | None = None,
) -> bool:
    """Queue one automatic mail to a customer's contact; False when no email channel can
    send it. It leaves from the ticket's email channel when there is one, else from any:
    a security notice is worth a try even through a channel an administrator paused (a
    failed delivery shows in the outbox)."""
    channel = None
    if ticket is not None and ticket.channel_id is not None:
        channel = session.get(Channel, ticket.channel_id)
    if channel is None or channel.kind != ChannelKind.EMAIL:
        channel = sending_channel(session, paused_too=True)
    if channel is None:
        return False
    _queue(
        session,
        settings,
        channel,
        _Mail(to_address, to_name, kind, key, subject, body),
        ticket_id=ticket.id if ticket else None,
        secret_expires_at=secret_expires_at,
    )
    return True


@dataclass(frozen=True)
class _Mail:
    to_address: str
    to_name: str
    kind: str
    key: str
    subject: str
    body: str


def _queue(
    session: Session,
    settings: Settings,
    channel: Channel,
    mail: _Mail,
    *,
    ticket_id: int | None,
    secret_expires_at: datetime | None,
) -> None:
    if session.exec(select(Outbox.id).where(Outbox.key == mail.key)).first() is not None:
        return  # queued once already, under the same key
    domain = channel.address.partition("@")[2] or "localhost"
    payload = build_message(
        OutboundMail(
            from_name=channel.name,
            from_address=channel.address,
            to_name=one_line(mail.to_name),
            to_address=mail.to_address,
            reply_to=channel.address,
            subject=mail.subject,
            body_text=mail.body,
            message_id=new_message_id(settings.secret_key, domain, None),
            date=utcnow(),
            auto_submitted="auto-generated",
        )
    )
    if secret_expires_at is not None:
        payload = OutboxSeal(settings.secret_key).seal(payload)
    queue_outbound(
        session,
        key=mail.key,
        kind=mail.kind,
        channel_id=channel.id,
        ticket_id=ticket_id,
        message_id=None,
        sender=channel.address,
        recipients=[mail.to_address],
        payload=payload,
        secret_expires_at=secret_expires_at,
    )
