"""Mail to agents themselves (sign-in codes, password reset links), queued through the outbox.

It leaves from the first enabled email channel, the desk's own address: there is no
separate system mailer to configure. Without an email channel nothing can be sent.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from inbox.actions.outbox import queue_outbound
from inbox.mail.compose import OutboundMail, build_message
from inbox.models import Agent, Channel, utcnow
from inbox.settings import Settings
from inbox.signing import new_message_id


def sending_channel(session: Session) -> Channel | None:
    """The channel agent mail leaves from: the first enabled email channel."""
    return session.exec(
        select(Channel)
        .where(Channel.kind == "email", col(Channel.enabled).is_(True))
        .order_by(col(Channel.id))
    ).first()


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
) -> bool:
    """Queue one automatic mail to an agent; False when no channel can send it."""
    channel = sending_channel(session)
    if channel is None:
        return False
    domain = channel.address.partition("@")[2] or "localhost"
    payload = build_message(
        OutboundMail(
            from_name=channel.name,
            from_address=channel.address,
            to_name=agent.name,
            to_address=agent.email,
            reply_to=channel.address,
            subject=subject,
            body_text=body,
            message_id=new_message_id(settings.secret_key, domain, None),
            date=utcnow(),
            auto_submitted="auto-generated",
        )
    )
    queue_outbound(
        session,
        key=key,
        kind=kind,
        channel_id=channel.id,
        ticket_id=None,
        message_id=None,
        sender=channel.address,
        recipients=[agent.email],
        payload=payload,
    )
    return True
