"""Reports in the JSON API: the SLA report as JSON, or its rows as CSV."""

from __future__ import annotations

from typing import Any

from litestar import Controller, MediaType, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromQuery

from inbox.db import Database
from inbox.errors import InvalidInput
from inbox.models import Agent, utcnow
from inbox.queries.reports.sla import ClockRow, ReportRange, SlaReport, export_rows, sla_report
from inbox.queries.tickets import viewer_for
from inbox.settings import Settings
from inbox.web.api.openapi import ERROR_RESPONSES
from inbox.web.api.serializers import iso
from inbox.web.reports import (
    REPORT_PARAMETERS,
    csv_response,
    managers_only,
    range_params,
    row_json,
)


def report_json(report: SlaReport, rows: list[ClockRow], base_url: str) -> dict[str, Any]:
    rng = report.range
    return {
        **range_params(rng),
        "group_by": report.group,
        "compliance": [
            {
                "target": c.target,
                "group": c.group_label,
                "key": c.group_key,
                "met": c.met,
                "breached": c.breached,
                "open": c.open,
                "percent": c.percent,
            }
            for c in report.compliance
        ],
        "totals": [
            {
                "target": c.target,
                "met": c.met,
                "breached": c.breached,
                "open": c.open,
                "percent": c.percent,
            }
            for c in report.totals
        ],
        "times": [
            {
                "target": t.target,
                "count": t.count,
                "business_minutes": {"median": t.business_median, "p90": t.business_p90},
                "calendar_minutes": {"median": t.calendar_median, "p90": t.calendar_p90},
            }
            for t in report.times
        ],
        "breaches": [
            {
                "reference": b.reference,
                "target": b.target,
                "policy": b.policy,
                "breached_at": iso(b.breached_at),
                "url": f"{base_url}/tickets/{b.reference}",
            }
            for b in report.breaches
        ],
        "backlog": [{"bucket": b.label, "count": b.count} for b in report.backlog],
        "volume": [
            {"date": day.isoformat(), "channel": name, "count": count}
            for cid, name in report.volume.channels
            for day, count in zip(report.volume.days, report.volume.series(cid), strict=True)
        ],
        "satisfaction": {
            "answers": report.satisfaction.answers,
            "average": report.satisfaction.average,
        },
        "rows": [row_json(row) for row in rows],
    }


class ReportApi(Controller):
    path = "/api/v1/reports"
    tags = ["reports"]
    guards = [managers_only]
    dependencies = REPORT_PARAMETERS

    @get("/sla", sync_to_thread=True, responses=ERROR_RESPONSES)
    def sla(
        self,
        request: Request[Agent, Any, Any],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        report_range: NamedDependency[ReportRange],
        grouping: NamedDependency[str],
        format: FromQuery[str] = "json",
    ) -> Response[Any]:
        """The SLA report for ``from``..``to`` (dates, inclusive) in ``tz``, grouped by
        ``group_by`` (policy, channel, team, agent, priority), with one row per ticket and
        target; ``format=csv`` gives those rows as CSV."""
        if format not in ("json", "csv"):
            raise InvalidInput("format must be json or csv")
        with db.reading() as session:
            viewer = viewer_for(session, request.user)
            rows = export_rows(session, viewer, report_range)
            if format == "csv":
                return csv_response(rows, report_range)
            report = sla_report(session, viewer, report_range, grouping, utcnow())
        return Response(report_json(report, rows, settings.base_url), media_type=MediaType.JSON)
