"""The rows of a report as a download: one row per ticket and SLA target, as JSON or as CSV
that a spreadsheet opens as text, never as formulas; and one row per chat (``chats_csv``)."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from litestar import Response

from inbox.queries.reports.chat import ChatExportRow
from inbox.queries.reports.sla import ClockRow, ReportRange

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = (
    "reference",
    "subject",
    "target",
    "policy",
    "state",
    "started_at",
    "due_at",
    "met_at",
    "breached_at",
    "business_minutes_used",
    "channel",
    "team",
    "assignee",
    "priority",
)


def neutralise(value: object) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _stamp(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def row_json(row: ClockRow) -> dict[str, Any]:
    return {
        "reference": row.reference,
        "subject": row.subject,
        "target": row.target,
        "policy": row.policy,
        "state": row.state,
        "started_at": _stamp(row.started_at),
        "due_at": _stamp(row.due_at),
        "met_at": _stamp(row.met_at),
        "breached_at": _stamp(row.breached_at),
        "business_minutes_used": row.business_minutes_used,
        "channel": row.channel,
        "team": row.team,
        "assignee": row.assignee,
        "priority": row.priority,
    }


def rows_csv(rows: list[ClockRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        values = row_json(row)
        writer.writerow([neutralise(values[name]) for name in CSV_COLUMNS])
    return out.getvalue()


def csv_response(rows: list[ClockRow], rng: ReportRange) -> Response[str]:
    name = f"sla-{rng.start.isoformat()}-{rng.end.isoformat()}.csv"
    return Response(
        rows_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


CHAT_CSV_COLUMNS = (
    "reference",
    "channel",
    "team",
    "agent",
    "routing",
    "state",
    "started_at",
    "queued_at",
    "taken_at",
    "ended_at",
    "queue_seconds",
    "first_response_at",
    "first_response_seconds",
    "missed",
    "policy",
    "chat_target_minutes",
    "chat_target",
)


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}".rstrip("0").rstrip(".")


def chat_row_values(row: ChatExportRow) -> dict[str, Any]:
    chat = row.chat
    return {
        "reference": chat.reference,
        "channel": row.channel,
        "team": row.team,
        "agent": row.agent,
        "routing": chat.routing,
        "state": chat.state,
        "started_at": _stamp(chat.created_at),
        "queued_at": _stamp(chat.queued_at),
        "taken_at": _stamp(chat.taken_at),
        "ended_at": _stamp(chat.ended_at),
        "queue_seconds": _seconds(chat.queue_seconds),
        "first_response_at": _stamp(chat.first_response_at),
        "first_response_seconds": _seconds(chat.response_seconds),
        "missed": "yes" if chat.missed else "no",
        "policy": chat.policy if chat.target_minutes is not None else "",
        "chat_target_minutes": chat.target_minutes,
        "chat_target": row.target or "",
    }


def chats_csv_response(rows: list[ChatExportRow], rng: ReportRange) -> Response[str]:
    """One row per chat of the report, oldest first: what its chat figures are counted from."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CHAT_CSV_COLUMNS)
    for row in rows:
        values = chat_row_values(row)
        writer.writerow([neutralise(values[name]) for name in CHAT_CSV_COLUMNS])
    name = f"chats-{rng.start.isoformat()}-{rng.end.isoformat()}.csv"
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
