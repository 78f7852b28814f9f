"""What every report reads the same way, page, download or API: who may read reports, and
the range (``from``, ``to``, ``tz``) and grouping (``group_by``) of the address, parsed once,
as the dependencies ``report_range`` and ``grouping``."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from litestar.connection import ASGIConnection
from litestar.di import NamedDependency, Provide
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromQuery, QueryParameter

from inbox.db import Database
from inbox.errors import PermissionDenied
from inbox.models import utcnow
from inbox.queries.reports.sla import ReportRange, check_group, desk_timezone, parse_range

FromDate = Annotated[str | None, QueryParameter(name="from")]
ToDate = Annotated[str | None, QueryParameter(name="to")]


def managers_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Reports are for managers (their teams' tickets) and administrators (every ticket)."""
    if connection.user.role not in ("manager", "admin"):
        raise PermissionDenied("reports are for managers and administrators")


def parse_report_range(
    db: NamedDependency[Database],
    start: FromDate = None,
    end: ToDate = None,
    tz: FromQuery[str | None] = None,
) -> ReportRange:
    """``from`` to ``to``, dates both included, in the zone ``tz``; by default the last days
    up to today, in the desk's zone."""
    with db.reading() as session:
        return parse_range(start, end, tz, default_tz=desk_timezone(session), now=utcnow())


def parse_grouping(group_by: FromQuery[str | None] = None) -> str:
    """What the report's figures are grouped by: policy unless ``group_by`` says otherwise."""
    return check_group(group_by)


# A report handler takes ``report_range: ReportRange`` and, if it groups, ``grouping: str``.
REPORT_PARAMETERS = {
    "report_range": Provide(parse_report_range, sync_to_thread=True),
    "grouping": Provide(parse_grouping, sync_to_thread=False),
}


def report_link(path: str, **params: object) -> str:
    """A report address with these parameters; empty ones are left out."""
    query = urlencode({k: str(v) for k, v in params.items() if v is not None and v != ""})
    return path + (f"?{query}" if query else "")


def range_params(rng: ReportRange) -> dict[str, str]:
    return {"from": rng.start.isoformat(), "to": rng.end.isoformat(), "tz": rng.tz.key}
