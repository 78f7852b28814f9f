"""Manager reports: the SLA report page with its charts, its ticket drill-down, the CSV
download, and ``GET /api/v1/reports/sla`` (JSON or CSV) for bearer tokens.

Managers see their teams' tickets, administrators every ticket; agents get 403. The charts
are SVG drawn here by pygal, without JavaScript; every bar links to the tickets it counts.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

import pygal  # type: ignore[import-untyped]
from litestar import Controller, MediaType, Request, Response, get
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromQuery, QueryParameter
from litestar.response import Redirect, Template
from markupsafe import Markup
from pygal.etree import etree  # type: ignore[import-untyped]
from pygal.style import Style  # type: ignore[import-untyped]

from inbox.db import Database
from inbox.errors import InvalidInput, PermissionDenied
from inbox.models import Agent, utcnow
from inbox.models.sla import SLA_TARGETS
from inbox.queries.reports.sla import (
    BACKLOG_BUCKETS,
    DRILL_OUTCOMES,
    GROUPS,
    ClockRow,
    Drilldown,
    ReportRange,
    SlaReport,
    check_group,
    desk_timezone,
    drilldown,
    export_rows,
    parse_range,
    sla_report,
)
from inbox.queries.sla import TARGET_LABELS
from inbox.queries.tickets import viewer_for
from inbox.settings import Settings
from inbox.web.auth import Credentials, browser_session_only

ReportRequest = Request[Agent, Credentials, Any]
FromDate = Annotated[str | None, QueryParameter(name="from")]
ToDate = Annotated[str | None, QueryParameter(name="to")]
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
CHART_STYLE = Style(
    background="white",
    plot_background="white",
    colors=("#2f8a4c", "#b3261e", "#8a94a6", "#2f5bd3", "#c77c02", "#6b3fa0"),
    font_family="system-ui, sans-serif",
)


def managers_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Reports are for managers (their teams' tickets) and administrators (every ticket)."""
    if connection.user.role not in ("manager", "admin"):
        raise PermissionDenied("reports are for managers and administrators")


def report_link(path: str, **params: object) -> str:
    """A report address with these parameters; empty ones are left out."""
    query = urlencode({k: str(v) for k, v in params.items() if v is not None and v != ""})
    return path + (f"?{query}" if query else "")


def _range_params(rng: ReportRange) -> dict[str, str]:
    return {"from": rng.start.isoformat(), "to": rng.end.isoformat(), "tz": rng.tz.key}


def drill_link(rng: ReportRange, **params: object) -> str:
    return report_link("/reports/tickets", **_range_params(rng), **params)


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


def report_json(report: SlaReport, rows: list[ClockRow], base_url: str) -> dict[str, Any]:
    rng = report.range
    return {
        **_range_params(rng),
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
                "breached_at": _stamp(b.breached_at),
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


def _chart(kind: Any, title: str, **options: Any) -> Any:
    return kind(
        title=title,
        js=[],  # readable without JavaScript: plain SVG, links as <a> elements
        disable_xml_declaration=True,
        style=CHART_STYLE,
        width=720,
        height=300,
        legend_at_bottom=True,
        print_values=False,
        **options,
    )


def _svg(chart: Any) -> Markup:
    """The chart as inline SVG, without the configuration script pygal always adds."""
    root = chart.render_tree()
    for parent in list(root.iter()):
        for child in list(parent):
            if str(child.tag).rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    # pygal escapes every text it draws; the tree is serialised as XML.
    return Markup(etree.tostring(root, encoding="unicode"))  # noqa: S704


def _bar(value: int, href: str, label: str) -> dict[str, Any]:
    return {"value": value, "label": label, "xlink": {"href": href, "target": "_top"}}


def compliance_chart(report: SlaReport) -> Markup:
    chart = _chart(pygal.StackedBar, "SLA clocks per target")
    totals = {t.target: t for t in report.totals}
    targets = [t for t in SLA_TARGETS if t in totals]
    chart.x_labels = [TARGET_LABELS[t] for t in targets]
    for outcome in ("met", "breached", "open"):
        chart.add(
            outcome.capitalize(),
            [
                _bar(
                    getattr(totals[t], outcome),
                    drill_link(report.range, target=t, outcome=outcome),
                    f"{TARGET_LABELS[t]}: {outcome}",
                )
                for t in targets
            ],
        )
    return _svg(chart)


def backlog_chart(report: SlaReport) -> Markup:
    chart = _chart(pygal.Bar, "Unresolved tickets by age", show_legend=False)
    chart.x_labels = [label for label, _, _ in BACKLOG_BUCKETS]
    chart.add(
        "Tickets",
        [_bar(b.count, drill_link(report.range, backlog=b.index), b.label) for b in report.backlog],
    )
    return _svg(chart)


def volume_chart(report: SlaReport) -> Markup:
    volume = report.volume
    chart = _chart(pygal.StackedBar, "New tickets per channel per day", x_label_rotation=45)
    chart.x_labels = [day.strftime("%d %b") for day in volume.days]
    chart.show_minor_x_labels = False
    chart.x_labels_major_every = max(1, len(volume.days) // 15)
    for cid, name in volume.channels:
        chart.add(
            name,
            [
                _bar(
                    n,
                    drill_link(report.range, day=day.isoformat(), channel=cid or "none"),
                    f"{name}, {day.isoformat()}",
                )
                for day, n in zip(volume.days, volume.series(cid), strict=True)
            ],
        )
    return _svg(chart)


def _date(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput("day must be a date, YYYY-MM-DD") from exc


class _Reporting:
    """What the page, the CSV download and the API share: the range, read once."""

    @staticmethod
    def range_of(db: Database, start: str | None, end: str | None, tz: str | None) -> ReportRange:
        with db.reading() as session:
            return parse_range(start, end, tz, default_tz=desk_timezone(session), now=utcnow())


class ReportPages(Controller):
    path = "/reports"
    guards = [browser_session_only, managers_only]
    include_in_schema = False

    @get("/sla", sync_to_thread=False)
    def sla(self, request: ReportRequest) -> Redirect:
        """The address INTERFACES.md names: the same report."""
        query = request.url.query
        return Redirect("/reports" + (f"?{query}" if query else ""), status_code=302)

    @get("/", sync_to_thread=True)
    def report(
        self,
        request: ReportRequest,
        db: NamedDependency[Database],
        start: FromDate = None,
        end: ToDate = None,
        tz: FromQuery[str | None] = None,
        group_by: FromQuery[str | None] = None,
    ) -> Template:
        group = check_group(group_by)
        rng = _Reporting.range_of(db, start, end, tz)
        now = utcnow()
        with db.reading() as session:
            report = sla_report(session, viewer_for(session, request.user), rng, group, now)
        context = {
            "agent": request.user,
            "report": report,
            "groups": GROUPS,
            "labels": TARGET_LABELS,
            "drill": lambda **params: drill_link(rng, **params),
            "csv_url": report_link("/reports/sla.csv", **_range_params(rng)),
            "charts": {
                "compliance": compliance_chart(report),
                "backlog": backlog_chart(report),
                "volume": volume_chart(report),
            },
        }
        return Template("pages/reports.html", context=context)

    @get("/sla.csv", sync_to_thread=True)
    def download(
        self,
        request: ReportRequest,
        db: NamedDependency[Database],
        start: FromDate = None,
        end: ToDate = None,
        tz: FromQuery[str | None] = None,
    ) -> Response[str]:
        rng = _Reporting.range_of(db, start, end, tz)
        with db.reading() as session:
            rows = export_rows(session, viewer_for(session, request.user), rng)
        return csv_response(rows, rng)

    @get("/tickets", sync_to_thread=True)
    def tickets(
        self,
        request: ReportRequest,
        db: NamedDependency[Database],
        start: FromDate = None,
        end: ToDate = None,
        tz: FromQuery[str | None] = None,
        target: FromQuery[str | None] = None,
        outcome: FromQuery[str | None] = None,
        group: FromQuery[str | None] = None,
        key: FromQuery[str | None] = None,
        day: FromQuery[str | None] = None,
        channel: FromQuery[str | None] = None,
        backlog: FromQuery[int | None] = None,
        score: FromQuery[int | None] = None,
    ) -> Template:
        """The tickets behind one figure of the report."""
        if target is not None and target not in SLA_TARGETS:
            raise InvalidInput("unknown target")
        if outcome is not None and outcome not in DRILL_OUTCOMES:
            raise InvalidInput("outcome must be met, breached, open or stopped")
        rng = _Reporting.range_of(db, start, end, tz)
        what = Drilldown(target, outcome, group, key, _date(day), channel, backlog, score)
        with db.reading() as session:
            rows = drilldown(session, viewer_for(session, request.user), rng, what, utcnow())
        return Template(
            "pages/reports.html",
            context={
                "drilldown": True,
                "agent": request.user,
                "rows": rows,
                "range": rng,
                "what": what,
                "labels": TARGET_LABELS,
                "back": report_link("/reports", **_range_params(rng)),
            },
        )


class ReportApi(Controller):
    path = "/api/v1/reports"
    tags = ["reports"]
    guards = [managers_only]

    @get("/sla", sync_to_thread=True)
    def sla(
        self,
        request: Request[Agent, Any, Any],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        start: FromDate = None,
        end: ToDate = None,
        tz: FromQuery[str | None] = None,
        group_by: FromQuery[str | None] = None,
        format: FromQuery[str] = "json",
    ) -> Response[Any]:
        """The SLA report for ``from``..``to`` (dates, inclusive) in ``tz``, grouped by
        ``group_by`` (policy, channel, team, agent, priority), with one row per ticket and
        target; ``format=csv`` gives those rows as CSV."""
        if format not in ("json", "csv"):
            raise InvalidInput("format must be json or csv")
        group = check_group(group_by)
        rng = _Reporting.range_of(db, start, end, tz)
        with db.reading() as session:
            viewer = viewer_for(session, request.user)
            rows = export_rows(session, viewer, rng)
            if format == "csv":
                return csv_response(rows, rng)
            report = sla_report(session, viewer, rng, group, utcnow())
        return Response(report_json(report, rows, settings.base_url), media_type=MediaType.JSON)
