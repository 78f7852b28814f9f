"""The SLA report for managers: the page with its charts and its chat section, the tickets
behind each figure, and the CSV downloads. Managers see their teams' tickets and chats,
administrators every one; agents get 403."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from inbox.db import Database
from inbox.errors import InvalidInput
from inbox.models import Agent, utcnow
from inbox.models.sla import SLA_TARGETS
from inbox.queries.reports.chat import (
    ChatDrilldown,
    chat_drilldown,
    chat_export_rows,
    chat_report,
)
from inbox.queries.reports.sla import (
    DRILL_OUTCOMES,
    GROUPS,
    Drilldown,
    ReportRange,
    drilldown,
    export_rows,
    sla_report,
)
from inbox.queries.sla import TARGET_LABELS
from inbox.queries.tickets import viewer_for
from inbox.web.auth import Credentials, browser_session_only
from inbox.web.reports.charts import (
    backlog_chart,
    chart_stylesheet,
    chat_load_chart,
    compliance_chart,
    drill_link,
    volume_chart,
)
from inbox.web.reports.export import chats_csv_response, csv_response
from inbox.web.reports.parameters import (
    REPORT_PARAMETERS,
    managers_only,
    range_params,
    report_link,
)

ReportRequest = Request[Agent, Credentials, Any]


def _date(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput("day must be a date, YYYY-MM-DD") from exc


class ReportPages(Controller):
    path = "/reports"
    guards = [browser_session_only, managers_only]
    dependencies = REPORT_PARAMETERS
    include_in_schema = False

    @get("/sla", sync_to_thread=False)
    def sla(self, request: ReportRequest) -> Redirect:
        """The address INTERFACES.md names: the same report."""
        query = request.url.query
        return Redirect("/reports" + (f"?{query}" if query else ""), status_code=302)

    @get("/charts.css", sync_to_thread=False)
    def chart_styles(self) -> Response[str]:
        """The charts' stylesheet: inline styles would break the page's policy."""
        return Response(
            chart_stylesheet(),
            media_type="text/css; charset=utf-8",
            headers={"Cache-Control": "private, max-age=3600"},
        )

    @get("/", sync_to_thread=True)
    def report(
        self,
        request: ReportRequest,
        db: NamedDependency[Database],
        report_range: NamedDependency[ReportRange],
        grouping: NamedDependency[str],
    ) -> Template:
        now = utcnow()
        with db.reading() as session:
            viewer = viewer_for(session, request.user)
            report = sla_report(session, viewer, report_range, grouping, now)
            chats = chat_report(session, viewer, report_range, now)
        context = {
            "agent": request.user,
            "report": report,
            "chats": chats,
            "chats_csv_url": report_link("/reports/chats.csv", **range_params(report_range)),
            "groups": GROUPS,
            "labels": TARGET_LABELS,
            "drill": lambda **params: drill_link(report_range, **params),
            "csv_url": report_link("/reports/sla.csv", **range_params(report_range)),
            "charts": {
                "compliance": compliance_chart(report),
                "backlog": backlog_chart(report),
                "volume": volume_chart(report),
                # Drawn when agents had chats open: an empty chart says less than a line.
                "chat_load": chat_load_chart(chats) if chats.counts["load"] else None,
            },
        }
        return Template("pages/reports.html", context=context)

    @get("/sla.csv", sync_to_thread=True)
    def download(
        self,
        request: ReportRequest,
        db: NamedDependency[Database],
        report_range: NamedDependency[ReportRange],
    ) -> Response[str]:
        with db.reading() as session:
            rows = export_rows(session, viewer_for(session, request.user), report_range)
        return csv_response(rows, report_range)

    @get("/chats.csv", sync_to_thread=True)
    def chats_download(
        self,
        request: ReportRequest,
        db: NamedDependency[Database],
        report_range: NamedDependency[ReportRange],
    ) -> Response[str]:
        """One row per chat of the report: what the chat section counts."""
        with db.reading() as session:
            viewer = viewer_for(session, request.user)
            rows = chat_export_rows(session, viewer, report_range, utcnow())
        return chats_csv_response(rows, report_range)

    @get("/tickets", sync_to_thread=True)
    def tickets(
        self,
        request: ReportRequest,
        db: NamedDependency[Database],
        report_range: NamedDependency[ReportRange],
        target: FromQuery[str | None] = None,
        outcome: FromQuery[str | None] = None,
        group: FromQuery[str | None] = None,
        key: FromQuery[str | None] = None,
        day: FromQuery[str | None] = None,
        channel: FromQuery[str | None] = None,
        backlog: FromQuery[int | None] = None,
        score: FromQuery[int | None] = None,
        chat: FromQuery[str | None] = None,
        agent: FromQuery[str | None] = None,
        hour: FromQuery[int | None] = None,
    ) -> Template:
        """The tickets behind one figure of the report; with ``chat``, the chats behind one
        figure of the chat section (``agent`` and ``hour`` narrow it)."""
        if target is not None and target not in SLA_TARGETS:
            raise InvalidInput("unknown target")
        if outcome is not None and outcome not in DRILL_OUTCOMES:
            raise InvalidInput("outcome must be met, breached, open or stopped")
        what = Drilldown(target, outcome, group, key, _date(day), channel, backlog, score)
        chat_what = ChatDrilldown(chat, agent, hour) if chat is not None else None
        chat_label = None
        with db.reading() as session:
            viewer = viewer_for(session, request.user)
            if chat_what is not None:
                rows = chat_drilldown(session, viewer, report_range, chat_what, utcnow())
                chat_label = chat_what.label(session)
            else:
                rows = drilldown(session, viewer, report_range, what, utcnow())
        return Template(
            "pages/reports.html",
            context={
                "drilldown": True,
                "agent": request.user,
                "rows": rows,
                "range": report_range,
                "what": what,
                "chat_label": chat_label,
                "labels": TARGET_LABELS,
                "back": report_link("/reports", **range_params(report_range)),
            },
        )
