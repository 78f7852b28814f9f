"""The inbox's counts without counting tickets: sums of the counts the triggers keep per
key (``inbox.models.counts``), and "Breaching soon", which depends on the clock, as ranges
of indexes of due times; both read in one statement.

A view counts from the kept counts when it is a queue of unresolved work (All open, Mine,
Unassigned, Waiting on customer, Snoozed) narrowed by any of status, priority, channel,
assignee and team: everything a key tells apart. A view of every ticket, a tag or a search
is counted by ``count_tickets`` as before. Each answer equals ``count_tickets``' for the
same filters and viewer (``tests/integration/test_view_counts.py`` holds them to it).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, func, literal, text, union_all
from sqlalchemy import select as core_select
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.selectable import ScalarSelect
from sqlmodel import Session, col, select

from inbox.models import Agent, Channel, Team, Ticket
from inbox.models.counts import ASSIGNED, NO_CHANNEL, NO_TEAM, UNASSIGNED, TicketCount
from inbox.models.tickets import BREACHING_SQL
from inbox.models.types import UTCDateTime, utcnow
from inbox.queries.tickets import BREACHING_SOON, TicketFilters, Viewer

KEPT_VIEWS = ("open", "mine", "unassigned", "waiting", "snoozed")
WAITING = "waiting_on_customer"


def counted_from_kept(filters: TicketFilters) -> bool:
    """Whether the kept counts answer ``filters``: a queue view, no tag, no search."""
    return filters.view in KEPT_VIEWS and not filters.tag and not filters.q


def counted_by_due_range(filters: TicketFilters) -> bool:
    """Whether ``filters`` are "Breaching soon" alone, ``SidebarCounts.breaching``."""
    return filters == TicketFilters(view="breaching", sort=filters.sort)


@dataclass(frozen=True, slots=True)
class KeptRow:
    assignee: int
    team: int
    channel: int
    category: str
    snoozed: bool
    status: str
    priority: str
    n: int


NOBODY = -2  # an assignee asked for by an address no agent has
BREACHING_ROW = -3  # the assignee key of the row that carries the count of Breaching soon


@dataclass(frozen=True)
class DeskNames:
    """The desk's channels (id, name, kind) and teams (id, name), by name: what the
    sidebar lists, and what a view's channel or team filter names."""

    channels: list[tuple[int, str, str]]
    teams: list[tuple[int, str]]


def desk_names(session: Session) -> DeskNames:
    """Both lists in one statement, each by name as the database orders names."""
    query: Any = union_all(
        core_select(
            literal("channel").label("what"),
            col(Channel.id).label("id"),
            col(Channel.name).label("name"),
            col(Channel.kind).label("kind"),
        ),
        core_select(literal("team"), col(Team.id), col(Team.name), literal("")),
    ).order_by("what", "name")
    channels: list[tuple[int, str, str]] = []
    teams: list[tuple[int, str]] = []
    for what, i, name, kind in session.connection().execute(query):
        if what == "channel":
            channels.append((i, name, kind))
        else:
            teams.append((i, name))
    return DeskNames(channels, teams)


class SidebarCounts:
    """The kept counts a viewer may see and the count of Breaching soon, read in one
    statement, and the views' sums of the kept counts.

    The kept rows fall in three groups: the queue rows of the teams in scope (every team
    for an administrator), the agent rows of each assignee a view names (of the teams in
    scope, but all of the viewer's own), and the viewer's own rows of teams out of scope,
    which the scope adds to the queues' tickets."""

    def __init__(
        self,
        session: Session,
        viewer: Viewer,
        names: DeskNames,
        filters: Iterable[TicketFilters],
        *,
        now: datetime | None = None,
    ):
        self.viewer = viewer
        self.names = names
        wanted = [f for f in filters if counted_from_kept(f)]
        emails = {
            f.assignee.lower() for f in wanted if f.assignee and f.assignee not in ("me", "none")
        }
        self.agents: dict[str, int] = {}
        if emails:
            found = session.exec(
                select(Agent.email, Agent.id).where(col(Agent.email).in_(sorted(emails)))
            ).all()
            self.agents = {email: agent_id for email, agent_id in found if agent_id is not None}
        me = viewer.agent_id
        self.queues: list[KeptRow] = []
        self.by_agent: dict[int, list[KeptRow]] = {}
        self.mine_elsewhere: list[KeptRow] = []
        self.breaching = 0
        for row in self._read(session, {me, *self.agents.values()}, wanted, now):
            if row.assignee == BREACHING_ROW:
                self.breaching = row.n
            elif row.assignee in (UNASSIGNED, ASSIGNED):
                self.queues.append(row)
            elif self._in_scope(row.team):
                self.by_agent.setdefault(row.assignee, []).append(row)
            elif row.assignee == me:
                self.by_agent.setdefault(me, []).append(row)
                self.mine_elsewhere.append(row)
        self.unassigned = [r for r in self.queues if r.assignee == UNASSIGNED]

    def _read(
        self,
        session: Session,
        agent_ids: set[int],
        wanted: list[TicketFilters],
        now: datetime | None,
    ) -> list[KeptRow]:
        asks = tuple(any(getattr(f, name) for f in wanted) for name in _OPTIONAL_KEY)
        query = _sidebar_rows(self.viewer.sees_everything, *asks)
        teams = sorted(self.viewer.team_ids)
        params = {
            "scope_teams": [NO_TEAM, *teams],
            "agents": sorted(agent_ids),
            "due_by": (now or utcnow()) + BREACHING_SOON,
            "me": self.viewer.agent_id,
            "teams": teams,
            "other_than": teams,
        }
        return [KeptRow(*row) for row in session.connection().execute(query, params).all()]

    def _in_scope(self, team: int) -> bool:
        return self.viewer.sees_everything or team == NO_TEAM or team in self.viewer.team_ids

    def count(self, filters: TicketFilters) -> int:
        """What ``count_tickets`` answers for ``filters`` (``counted_from_kept``)."""
        me = self.viewer.agent_id
        asked: list[int] = []  # the assignees the view and the filter ask for
        if filters.view == "mine":
            asked.append(me)
        elif filters.view == "unassigned":
            asked.append(UNASSIGNED)
        if filters.assignee == "none":
            asked.append(UNASSIGNED)
        elif filters.assignee == "me":
            asked.append(me)
        elif filters.assignee:
            asked.append(self.agents.get(filters.assignee.lower(), NOBODY))
        if NOBODY in asked or len(set(asked)) > 1:
            return 0
        rows: Iterable[KeptRow]
        if not asked:
            rows = itertools.chain(self.queues, self.mine_elsewhere)
        elif asked[0] == UNASSIGNED:
            rows = self.unassigned
        else:
            rows = self.by_agent.get(asked[0], [])
        keep = self._matcher(filters)
        return sum(r.n for r in rows if keep(r))

    def _matcher(self, filters: TicketFilters) -> Callable[[KeptRow], bool]:
        snoozed = filters.view == "snoozed"
        channels = (
            {i for i, name, kind in self.names.channels if filters.channel in (name, kind)}
            if filters.channel
            else None
        )
        teams = (
            {NO_TEAM}
            if filters.team == "none"
            else {i for i, name in self.names.teams if name == filters.team}
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


_OPTIONAL_KEY = ("channel", "status", "priority")  # summed over when no view asks for them


@functools.cache
def _sidebar_rows(everything: bool, channel: bool, status: bool, priority: bool) -> Any:
    """The statement that reads the sidebar's counts, built once per shape, so a read only
    binds the teams, the agents and the time: two ranges of ``ix_ticket_count_key`` (the
    queue rows of the teams in scope, every team's for ``everything``; the named agents'
    rows), and a row of its own for Breaching soon."""

    def kept(column: Any, asked: bool, instead: object) -> Any:
        return col(column) if asked else literal(instead)

    key: list[Any] = [  # in the order of ``ix_ticket_count_key``, so none is sorted
        col(TicketCount.assignee_key),
        col(TicketCount.team_key),
        kept(TicketCount.channel_key, channel, NO_CHANNEL),
        col(TicketCount.status_category),
        col(TicketCount.snoozed),
        kept(TicketCount.status, status, ""),
        kept(TicketCount.priority, priority, ""),
    ]
    grouped = [c for c in key if isinstance(c, InstrumentedAttribute)]
    total = func.sum(TicketCount.n)
    queues: ColumnElement[bool] = col(TicketCount.assignee_key).in_([ASSIGNED, UNASSIGNED])
    if not everything:
        queues = and_(
            queues, col(TicketCount.team_key).in_(bindparam("scope_teams", expanding=True))
        )
    agents = col(TicketCount.assignee_key).in_(bindparam("agents", expanding=True))
    breaching = core_select(
        literal(BREACHING_ROW),
        literal(NO_TEAM),
        literal(NO_CHANNEL),
        literal(""),
        literal(False),
        literal(""),
        literal(""),
        _breaching(everything),
    )
    return union_all(
        *(
            core_select(*key, total).where(where).group_by(*grouped).having(total != 0)
            for where in (queues, agents)
        ),
        breaching,
    )


def _due_range(*conditions: ColumnElement[bool]) -> ScalarSelect[int]:
    """Running, unsnoozed tickets due by ``:due_by``: a range of a partial index (its
    condition written out, for both planners), not checked ticket by ticket."""
    return (
        core_select(func.count())
        .select_from(Ticket)
        .where(
            text(BREACHING_SQL),
            col(Ticket.sla_due_at) <= bindparam("due_by", type_=UTCDateTime()),
            *conditions,
        )
        .scalar_subquery()
    )


def _breaching(everything: bool) -> Any:
    """The count of Breaching soon: for ``everything``, one range of ``ix_ticket_breaching``;
    for a scope, three that do not overlap: no team's, the viewer's own in teams out of
    scope, the viewer's teams'. (The teams are bound twice, by two names: an empty list is
    written one way after IN and another after NOT IN.)"""
    if everything:
        return _due_range()
    team = col(Ticket.team_id)
    return (
        _due_range(team.is_(None))
        + _due_range(
            col(Ticket.assignee_id) == bindparam("me"),
            team.is_not(None),
            team.not_in(bindparam("other_than", expanding=True)),
        )
        + _due_range(team.in_(bindparam("teams", expanding=True)))
    )
