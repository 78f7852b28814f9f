"""The inbox's counts without counting tickets: sums of the counts the triggers keep per
key (``inbox.models.counts``), and "Breaching soon", which depends on the clock, as one range
of an index of due times.

A view counts from the kept counts when it is a queue of unresolved work (All open, Mine,
Unassigned, Waiting on customer, Snoozed) narrowed by any of status, priority, channel,
assignee and team: everything a key tells apart. A view of every ticket, a tag or a search
is counted by ``count_tickets`` as before. Each answer equals ``count_tickets``' for the
same filters and viewer (``tests/integration/test_view_counts.py`` holds them to it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, text
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from inbox.models import Agent, Channel, Team, Ticket
from inbox.models.counts import ASSIGNED, NO_TEAM, UNASSIGNED, TicketCount
from inbox.models.tickets import BREACHING_SQL
from inbox.models.types import utcnow
from inbox.queries.tickets import BREACHING_SOON, TicketFilters, Viewer, scope_clause

KEPT_VIEWS = ("open", "mine", "unassigned", "waiting", "snoozed")
WAITING = "waiting_on_customer"


def counted_from_kept(filters: TicketFilters) -> bool:
    """Whether the kept counts answer ``filters``: a queue view, no tag, no search."""
    return filters.view in KEPT_VIEWS and not filters.tag and not filters.q


def counted_by_due_range(filters: TicketFilters) -> bool:
    """Whether ``filters`` are "Breaching soon" alone, counted by ``count_breaching``."""
    return filters == TicketFilters(view="breaching", sort=filters.sort)


@dataclass(frozen=True, slots=True)
class KeptRow:
    team: int
    assignee: int
    channel: int
    status: str
    category: str
    priority: str
    snoozed: bool
    n: int


_ANY = object()  # no assignee asked for
_NOBODY = object()  # an assignee asked for that no agent is


class KeptCounts:
    """The kept counts a viewer may see, read in one query, and the views' sums of them."""

    def __init__(self, session: Session, viewer: Viewer, filters: Iterable[TicketFilters]):
        self.viewer = viewer
        wanted = [f for f in filters if counted_from_kept(f)]
        emails = {
            f.assignee.lower() for f in wanted if f.assignee and f.assignee not in ("me", "none")
        }
        self.agents: dict[str, int] = (
            {
                email: agent_id
                for email, agent_id in session.exec(
                    select(Agent.email, Agent.id).where(col(Agent.email).in_(sorted(emails)))
                ).all()
                if agent_id is not None
            }
            if emails
            else {}
        )
        self.channels = list(session.exec(select(Channel.id, Channel.name, Channel.kind)).all())
        self.teams = list(session.exec(select(Team.id, Team.name)).all())
        self.rows = self._read(session, {viewer.agent_id, *self.agents.values()})

    def _read(self, session: Session, agent_ids: set[int]) -> list[KeptRow]:
        key = (
            col(TicketCount.team_key),
            col(TicketCount.assignee_key),
            col(TicketCount.channel_key),
            col(TicketCount.status),
            col(TicketCount.status_category),
            col(TicketCount.priority),
            col(TicketCount.snoozed),
        )
        queues: ColumnElement[bool] = col(TicketCount.assignee_key) <= UNASSIGNED
        if not self.viewer.sees_everything:
            queues = and_(queues, col(TicketCount.team_key).in_(self._teams_in_scope()))
        total = func.sum(TicketCount.n)
        query = (
            core_select(*key, total)
            .where(or_(queues, col(TicketCount.assignee_key).in_(sorted(agent_ids))))
            .group_by(*key)
            .having(total != 0)
        )
        return [KeptRow(*row) for row in session.connection().execute(query).all()]

    def _teams_in_scope(self) -> list[int]:
        return sorted({NO_TEAM, *self.viewer.team_ids})

    def _in_scope(self, team: int) -> bool:
        return self.viewer.sees_everything or team == NO_TEAM or team in self.viewer.team_ids

    def count(self, filters: TicketFilters) -> int:
        """What ``count_tickets`` answers for ``filters`` (``counted_from_kept``)."""
        me = self.viewer.agent_id
        asked: list[object] = []
        if filters.view == "mine":
            asked.append(me)
        elif filters.view == "unassigned":
            asked.append(UNASSIGNED)
        if filters.assignee == "none":
            asked.append(UNASSIGNED)
        elif filters.assignee == "me":
            asked.append(me)
        elif filters.assignee:
            asked.append(self.agents.get(filters.assignee.lower(), _NOBODY))
        if _NOBODY in asked or len(set(asked)) > 1:
            return 0
        assignee = asked[0] if asked else _ANY
        rows: Iterable[KeptRow]
        if assignee is _ANY:
            rows = (
                r
                for r in self.rows
                if (r.assignee in (UNASSIGNED, ASSIGNED) and self._in_scope(r.team))
                or (r.assignee == me and not self._in_scope(r.team))
            )
        elif assignee == UNASSIGNED:
            rows = (r for r in self.rows if r.assignee == UNASSIGNED and self._in_scope(r.team))
        else:
            rows = (
                r
                for r in self.rows
                if r.assignee == assignee and (assignee == me or self._in_scope(r.team))
            )
        keep = self._matcher(filters)
        return sum(r.n for r in rows if keep(r))

    def _matcher(self, filters: TicketFilters) -> Callable[[KeptRow], bool]:
        snoozed = filters.view == "snoozed"
        channels = (
            {i for i, name, kind in self.channels if filters.channel in (name, kind)}
            if filters.channel
            else None
        )
        teams = (
            {NO_TEAM}
            if filters.team == "none"
            else {i for i, name in self.teams if name == filters.team}
            if filters.team
            else None
        )

        def keep(r: KeptRow) -> bool:
            return (
                r.snoozed == snoozed
                and (filters.view != "waiting" or r.category == WAITING)
                and (not filters.status or filters.status in (r.status, r.category))
                and (not filters.priority or r.priority == filters.priority)
                and (channels is None or r.channel in channels)
                and (teams is None or r.team in teams)
            )

        return keep


def count_breaching(session: Session, viewer: Viewer, *, now: datetime | None = None) -> int:
    """ "Breaching soon": running, unsnoozed tickets due within the window or overdue, as one
    range of ``ix_ticket_breaching`` (its condition written out, for both planners)."""
    due_by = (now or utcnow()) + BREACHING_SOON
    conditions: list[ColumnElement[bool]] = [
        and_(text(BREACHING_SQL)),
        col(Ticket.sla_due_at) <= due_by,
    ]
    scope = scope_clause(viewer)
    if scope is not None:
        conditions.append(scope)
    return session.exec(select(func.count()).select_from(Ticket).where(*conditions)).one()
