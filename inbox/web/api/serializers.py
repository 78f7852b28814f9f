"""JSON shapes of the HTTP API (INTERFACES.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from inbox.db import Database
from inbox.models import Attachment, InboundItem, Message, Ticket, utcnow
from inbox.queries.sla import ticket_sla_json
from inbox.queries.ticket_page import TicketDetail, ticket_detail
from inbox.queries.tickets import ListedTicket, TicketRow
from inbox.settings import Settings


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _ticket_fields(
    t: Ticket | ListedTicket, channel_name: str | None, assignee: str | None, sla: dict[str, Any]
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
        # Per target: ``due_at``, ``state``, ``remaining_minutes`` (business minutes,
        # negative once breached); see ``inbox.queries.sla.tickets_sla_json``.
        "sla": sla,
    }


def ticket_summary(row: TicketRow, sla: dict[str, Any]) -> dict[str, Any]:
    return {
        **_ticket_fields(row.ticket, row.channel_name, row.assignee_email, sla),
        "customer": {"name": row.customer_name},
    }


def message_json(message: Message, attachments: list[Attachment]) -> dict[str, Any]:
    data: dict[str, Any] = {
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
            {"id": a.id, "filename": a.filename, "content_type": a.content_type, "size": a.size}
            for a in attachments
        ],
    }
    if message.direction == "inbound":
        data["thread_reason"] = message.thread_reason
        data["verification"] = message.verification
    if message.direction == "outbound":
        data["delivery"] = message.delivery
        if message.delivery_error:
            data["delivery_error"] = message.delivery_error
    return data


def ticket_full(detail: TicketDetail, sla: dict[str, Any]) -> dict[str, Any]:
    return {
        **_ticket_fields(
            detail.ticket,
            detail.channel.name if detail.channel else None,
            detail.assignee.email if detail.assignee else None,
            sla,
        ),
        "customer": {
            "name": detail.customer.name,
            "identities": [{"kind": i.kind, "value": i.value} for i in detail.identities],
        },
        "team": detail.team.name if detail.team else None,
        "tags": sorted(detail.tags),
        "links": [
            {"kind": link.kind, "reference": reference, "reason": link.reason}
            for link, reference in detail.links
        ],
        "messages": [
            message_json(m, detail.attachments.get(m.id or 0, [])) for m in detail.messages
        ],
    }


def ticket_json(db: Database, settings: Settings, reference: str) -> dict[str, Any]:
    """The API's answer about a ticket, read after the write that changed it committed."""
    with db.reading() as session:
        return full_ticket_json(session, reference, settings.reference_prefix)


def full_ticket_json(session: Session, reference: str, prefix: str) -> dict[str, Any]:
    """A ticket with its customer, messages and SLA clocks, as the API shows it."""
    detail = ticket_detail(session, reference, prefix)
    return ticket_full(detail, ticket_sla_json(session, detail.ticket.id or 0, utcnow()))


def quarantine_json(item: InboundItem, channel_name: str) -> dict[str, Any]:
    return {
        "id": item.id,
        "channel": channel_name,
        "received_at": iso(item.received_at),
        "reason": item.reason,
        "size": item.size,
    }
