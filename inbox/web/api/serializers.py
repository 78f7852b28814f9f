"""Building the API's answers (``inbox.web.api.shapes``) from what the queries read."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec
from sqlmodel import Session

from inbox.db import Database
from inbox.models import Attachment, Ticket, utcnow
from inbox.models import Message as MessageRow
from inbox.models.kinds import Direction
from inbox.queries.health import DeskHealth as HealthReport
from inbox.queries.quarantine import SetAsideItem
from inbox.queries.sla import tickets_sla_json
from inbox.queries.ticket_page import TicketDetail, ticket_detail
from inbox.queries.tickets import ListedTicket, TicketRow
from inbox.settings import Settings
from inbox.web.api.shapes import (
    AttachmentInfo,
    ChannelHealth,
    Customer,
    CustomerName,
    DeadLetter,
    DeskHealth,
    FailedOutbound,
    HealthCheck,
    Identity,
    Link,
    Message,
    QuarantineItem,
    ServiceHealth,
    SlaClock,
    TicketSummary,
)
from inbox.web.api.shapes import Ticket as TicketShape


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def sla_clocks(
    session: Session, ticket_ids: Sequence[int], now: datetime
) -> dict[int, dict[str, SlaClock]]:
    """Each ticket's ``sla`` field: its clocks by target."""
    return msgspec.convert(
        tickets_sla_json(session, ticket_ids, now), dict[int, dict[str, SlaClock]]
    )


def _ticket_fields(
    t: Ticket | ListedTicket, channel_name: str | None, assignee: str | None
) -> dict[str, Any]:
    return {
        "reference": t.reference,
        "subject": t.subject,
        "status": t.status,
        "status_category": t.status_category,
        "priority": t.priority,
        "channel": channel_name or t.channel_kind,
        "channel_kind": t.channel_kind,
        "assignee": assignee,
        "created_at": iso(t.created_at),
        "updated_at": iso(t.updated_at),
    }


def ticket_summary(row: TicketRow, sla: dict[str, SlaClock]) -> TicketSummary:
    return TicketSummary(
        **_ticket_fields(row.ticket, row.channel_name, row.assignee_email),
        sla=sla,
        customer=CustomerName(name=row.customer_name),
    )


def message_fields(message: MessageRow, attachments: list[Attachment]) -> dict[str, Any]:
    """A message's fields, for ``Message`` and the answers that extend it."""
    fields: dict[str, Any] = {
        "id": message.id,
        "kind": message.kind,
        "direction": message.direction,
        "channel": message.channel_kind or None,
        "author": message.author_label,
        "subject": message.subject,
        "body_text": message.body_text,
        "display_text": message.display_text,
        "has_html": message.body_html is not None,
        "created_at": iso(message.created_at),
        "automatic": message.is_automatic,
        "attachments": [
            AttachmentInfo(
                id=a.id or 0, filename=a.filename, content_type=a.content_type, size=a.size
            )
            for a in attachments
        ],
    }
    if message.direction == Direction.INBOUND:
        fields["thread_reason"] = message.thread_reason
        fields["verification"] = api_verification(message.verification)
    if message.direction == Direction.OUTBOUND:
        fields["delivery"] = message.delivery
        if message.delivery_error:
            fields["delivery_error"] = message.delivery_error
    return fields


def api_verification(level: str) -> str:
    """The API says only whether the sender is proven: DMARC passed on a trusted server, a
    platform or a signed-in visitor vouched for them, or an agent checked them on a call."""
    return "verified" if level in {"authenticated", "agent"} else "unverified"


def message_shape(message: MessageRow, attachments: list[Attachment]) -> Message:
    return Message(**message_fields(message, attachments))


def ticket_full(detail: TicketDetail, sla: dict[str, SlaClock]) -> TicketShape:
    return TicketShape(
        **_ticket_fields(
            detail.ticket,
            detail.channel.name if detail.channel else None,
            detail.assignee.email if detail.assignee else None,
        ),
        sla=sla,
        customer=Customer(
            name=detail.customer.name,
            identities=[Identity(kind=i.kind, value=i.value) for i in detail.identities],
        ),
        team=detail.team.name if detail.team else None,
        tags=sorted(detail.tags),
        links=[
            Link(kind=link.kind, reference=reference, reason=link.reason)
            for link, reference in detail.links
        ],
        messages=[message_shape(m, detail.attachments.get(m.id or 0, [])) for m in detail.messages],
    )


def read_ticket(db: Database, settings: Settings, reference: str) -> TicketShape:
    """The API's answer about a ticket, read after the write that changed it committed."""
    with db.reading() as session:
        return full_ticket(session, reference, settings.reference_prefix)


def full_ticket(session: Session, reference: str, prefix: str) -> TicketShape:
    """A ticket with its customer, messages and SLA clocks, as the API shows it."""
    detail = ticket_detail(session, reference, prefix)
    ticket_id = detail.ticket.id or 0
    return ticket_full(detail, sla_clocks(session, [ticket_id], utcnow()).get(ticket_id, {}))


def quarantine_item(item: SetAsideItem) -> QuarantineItem:
    return QuarantineItem(
        id=item.id,
        channel=item.channel,
        received_at=iso(item.received_at),
        state=item.state,
        reason=item.reason,
        size=item.size,
        sender=item.sender,
        subject=item.subject,
    )


def desk_health_shape(health: HealthReport) -> DeskHealth:
    return DeskHealth(
        status=health.status,
        checked_at=iso(health.checked_at),
        checks=[
            HealthCheck(cause=c.cause, title=c.title, level=c.level, detail=c.detail)
            for c in health.checks
        ],
        channels=[
            ChannelHealth(
                name=c.name,
                kind=c.kind,
                address=c.address,
                enabled=c.enabled,
                health=c.health,
                detail=c.detail,
                last_polled_at=iso(c.last_polled_at),
                level=c.level,
            )
            for c in health.channels
        ],
        quarantined=health.quarantined,
        failed_outbound_count=health.failed_outbound_count,
        failed_outbound=[
            FailedOutbound(
                id=f.id,
                kind=f.kind,
                recipient=f.recipient,
                ticket=f.ticket_reference,
                attempts=f.attempts,
                last_error=f.last_error,
                created_at=iso(f.created_at),
            )
            for f in health.failed_outbound
        ],
        stuck_outbound=health.stuck_outbound,
        stuck_timers=health.stuck_timers,
        oldest_stuck_timer=iso(health.oldest_stuck_timer),
        dead_letter_count=health.dead_timer_count,
        dead_letters=[
            DeadLetter(
                id=d.id,
                kind=d.kind,
                ticket=d.ticket_reference,
                due_at=iso(d.due_at),
                attempts=d.attempts,
                last_error=d.last_error,
            )
            for d in health.dead_timers
        ],
        services=[
            ServiceHealth(name=s.name, level=s.level, detail=s.detail) for s in health.services
        ],
    )
