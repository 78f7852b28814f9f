"""What an SLA report covers: a range of local days in a zone, a grouping, the viewer's
tickets created in that range, and the names its groups are shown by."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, select

from inbox.errors import InvalidInput
from inbox.models import Agent, BusinessCalendar, Channel, SlaClock, SlaPolicy, Team, Ticket
from inbox.queries.tickets import Viewer, scope_clause

GROUPS = ("policy", "channel", "team", "agent", "priority")
MAX_DAYS = 366
DEFAULT_DAYS = 30
NONE_KEY = "none"


@dataclass(frozen=True)
class ReportRange:
    """Whole local days ``start`` to ``end`` (both included) in ``tz``."""

    start: date
    end: date
    tz: ZoneInfo

    @property
    def starts_at(self) -> datetime:
        return local_midnight(self.start, self.tz)

    @property
    def ends_at(self) -> datetime:
        """The first instant after the range."""
        return local_midnight(self.end + timedelta(days=1), self.tz)

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)


def desk_timezone(session: Session) -> str:
    """The desk's zone: that of its first business calendar; UTC without one."""
    zone = session.exec(
        select(BusinessCalendar.timezone).order_by(col(BusinessCalendar.id)).limit(1)
    ).first()
    return zone or "UTC"


def parse_range(
    start: str | None, end: str | None, tz: str | None, *, default_tz: str, now: datetime
) -> ReportRange:
    """Validates the report's parameters: ISO dates, an IANA zone, at most a year."""
    zone_name = (tz or default_tz).strip()
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(f"unknown time zone {zone_name!r}") from exc
    today = now.astimezone(zone).date()
    try:
        last = date.fromisoformat(end) if end else today
        first = date.fromisoformat(start) if start else last - timedelta(days=DEFAULT_DAYS - 1)
    except ValueError as exc:
        raise InvalidInput("from and to must be dates, YYYY-MM-DD") from exc
    if first > last:
        raise InvalidInput("from must not come after to")
    if (last - first).days + 1 > MAX_DAYS:
        raise InvalidInput(f"a report covers at most {MAX_DAYS} days")
    return ReportRange(first, last, zone)


def check_group(group_by: str | None) -> str:
    group = group_by or "policy"
    if group not in GROUPS:
        raise InvalidInput(f"group_by must be one of {', '.join(GROUPS)}")
    return group


def group_column(group: str) -> Any:
    return {
        "policy": col(SlaClock.policy_id),
        "channel": col(Ticket.channel_id),
        "team": col(Ticket.team_id),
        "agent": col(Ticket.assignee_id),
        "priority": col(Ticket.priority),
    }[group]


def range_conditions(viewer: Viewer, rng: ReportRange) -> list[ColumnElement[bool]]:
    conditions = [
        col(Ticket.created_at) >= rng.starts_at,
        col(Ticket.created_at) < rng.ends_at,
    ]
    scope = scope_clause(viewer)
    if scope is not None:
        conditions.append(scope)
    return conditions


def group_labels(session: Session, group: str, keys: set[Any]) -> dict[Any, str]:
    ids = sorted(k for k in keys if isinstance(k, int))
    model_column: dict[str, tuple[Any, Any]] = {
        "policy": (SlaPolicy.id, SlaPolicy.name),
        "channel": (Channel.id, Channel.name),
        "team": (Team.id, Team.name),
        "agent": (Agent.id, Agent.email),
    }
    if group not in model_column or not ids:
        return {k: str(k) for k in keys if k is not None}
    key_col, name_col = model_column[group]
    return dict(session.exec(select(key_col, name_col).where(col(key_col).in_(ids))).all())
