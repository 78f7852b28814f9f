"""Reports in the JSON API: the SLA report as JSON, or its rows as CSV."""

from __future__ import annotations

from typing import Any

from litestar import Controller, MediaType, Request, Response, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromQuery

from inbox.db import Database
from inbox.errors import InvalidInput
from inbox.models import Agent, utcnow
from inbox.queries.reports.sla import ClockRow, ReportRange, SlaReport, export_rows, sla_report
from inbox.queries.tickets import viewer_for
from inbox.settings import Settings
from inbox.web.api import shapes
from inbox.web.api.openapi import ERROR_RESPONSES
from inbox.web.api.serializers import iso
from inbox.web.reports import (
    REPORT_PARAMETERS,
    csv_response,
    managers_only,
    row_json,
)


def report_shape(report: SlaReport, rows: list[ClockRow], base_url: str) -> shapes.SlaReport:
    rng = report.range
    return shapes.SlaReport(
        from_=rng.start.isoformat(),
        to=rng.end.isoformat(),
        tz=rng.tz.key,
        group_by=report.group,
        compliance=[
            shapes.GroupCompliance(
                target=c.target,
                group=c.group_label,
                key=c.group_key,
                met=c.met,
                breached=c.breached,
                open=c.open,
                percent=c.percent,
            )
            for c in report.compliance
        ],
        totals=[
            shapes.Compliance(
                target=c.target, met=c.met, breached=c.breached, open=c.open, percent=c.percent
            )
            for c in report.totals
        ],
        times=[
            shapes.TargetTimes(
                target=t.target,
                count=t.count,
                business_minutes=shapes.Minutes(median=t.business_median, p90=t.business_p90),
                calendar_minutes=shapes.Minutes(median=t.calendar_median, p90=t.calendar_p90),
            )
            for t in report.times
        ],
        breaches=[
            shapes.Breach(
                reference=b.reference,
                target=b.target,
                policy=b.policy,
                breached_at=iso(b.breached_at),
                url=f"{base_url}/tickets/{b.reference}",
            )
            for b in report.breaches
        ],
        backlog=[shapes.BacklogCount(bucket=b.label, count=b.count) for b in report.backlog],
        volume=[
            shapes.DailyVolume(date=day.isoformat(), channel=name, count=count)
            for cid, name in report.volume.channels
            for day, count in zip(report.volume.days, report.volume.series(cid), strict=True)
        ],
        satisfaction=shapes.Satisfaction(
            answers=report.satisfaction.answers, average=report.satisfaction.average
        ),
        rows=[shapes.ClockRow(**row_json(row)) for row in rows],
    )


# JSON or CSV as ``format`` asks: the schema describes the JSON.
REPORT_RESPONSES = {
    **ERROR_RESPONSES,
    200: ResponseSpec(
        data_container=shapes.SlaReport,
        description="The report; format=csv: its rows as CSV",
        generate_examples=False,
    ),
}


class ReportApi(Controller):
    path = "/api/v1/reports"
    tags = ["reports"]
    guards = [managers_only]
    dependencies = REPORT_PARAMETERS

    @get("/sla", sync_to_thread=True, responses=REPORT_RESPONSES)
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
        return Response(report_shape(report, rows, settings.base_url), media_type=MediaType.JSON)
