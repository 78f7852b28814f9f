"""JSON shapes of the HTTP API (INTERFACES.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from inbox.models import Attachment, InboundItem, Message, Ticket
from inbox.queries.ticket_page import TicketDetail
from inbox.queries.tickets import ListedTicket, TicketRow


def _iso(value: datetime | None) -> str | None:
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
        "created_at": _iso(t.created_at),
        "updated_at": _iso(t.updated_at),
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
        "created_at": _iso(message.created_at),
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


def quarantine_json(item: InboundItem, channel_name: str) -> dict[str, Any]:
    return {
        "id": item.id,
        "channel": channel_name,
        "received_at": _iso(item.received_at),
        "reason": item.reason,
        "size": item.size,
    }
