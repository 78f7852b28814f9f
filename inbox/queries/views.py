"""The inbox's views and their live counts: built-in views, one per channel and team, and
saved views, each count scoped to what the viewer may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from sqlmodel import Session, col, or_, select

from inbox.errors import InvalidInput
from inbox.models import Agent, SavedView, TicketStatus
from inbox.models.kinds import ChannelKind
from inbox.queries.chat_queue import SidebarChats, sidebar_chats
from inbox.queries.counts import (
    DeskNames,
    SidebarCounts,
    counted_by_due_range,
    counted_from_kept,
    desk_names,
)
from inbox.queries.tickets import (
    FILTER_FIELDS,
    TicketFilters,
    Viewer,
    count_tickets,
)

BUILT_IN_VIEWS = (
    ("all", "All tickets"),
    ("open", "All open"),
    ("mine", "Mine"),
    ("unassigned", "Unassigned"),
    ("waiting", "Waiting on customer"),
    ("breaching", "Breaching soon"),
    ("snoozed", "Snoozed"),
)


EVERYTHING = TicketFilters()


@dataclass(frozen=True)
class ViewLink:
    key: str
    label: str
    filters: TicketFilters
    count: int | None = None
    saved_view_id: int | None = None
    shared: bool = False
    owned: bool = False

    @property
    def href(self) -> str:
        params = self.filters.params()
        return "/tickets" + (f"?{urlencode(params)}" if params else "")


@dataclass(frozen=True)
class ViewGroups:
    built_in: list[ViewLink]
    channels: list[ViewLink]
    teams: list[ViewLink]
    saved: list[ViewLink]
    chats: SidebarChats | None = None  # counted only with the views' counts

    def all(self) -> list[ViewLink]:
        return [*self.built_in, *self.channels, *self.teams, *self.saved]


def filters_from_saved(view: SavedView) -> TicketFilters:
    query = {k: v for k, v in view.query.items() if k in FILTER_FIELDS and isinstance(v, str)}
    try:
        return TicketFilters(**query)
    except InvalidInput:
        return TicketFilters()


def visible_saved_views(session: Session, viewer: Viewer) -> list[SavedView]:
    """The viewer's own views and the views others shared, by name."""
    return list(
        session.exec(
            select(SavedView)
            .where(or_(col(SavedView.owner_id) == viewer.agent_id, col(SavedView.shared)))
            .order_by(col(SavedView.name), col(SavedView.id))
        ).all()
    )


def inbox_views(session: Session, viewer: Viewer, names: DeskNames | None = None) -> ViewGroups:
    """Every view the sidebar offers, without counts."""
    names = names or desk_names(session)
    teams = [
        name
        for team_id, name in names.teams
        if viewer.sees_everything or team_id in viewer.team_ids
    ]
    return ViewGroups(
        built_in=[
            # Breaching soon lists the soonest due first, as its countdowns run out.
            ViewLink(
                key, label, TicketFilters(view=key, sort="sla" if key == "breaching" else "updated")
            )
            for key, label in BUILT_IN_VIEWS
        ],
        channels=[
            ViewLink(f"channel:{name}", name, TicketFilters(view="open", channel=name))
            for _id, name, _kind in names.channels
        ],
        teams=[
            ViewLink(f"team:{name}", name, TicketFilters(view="open", team=name)) for name in teams
        ],
        saved=[
            ViewLink(
                f"saved:{v.id}",
                v.name,
                filters_from_saved(v),
                saved_view_id=v.id,
                shared=v.shared,
                owned=v.owner_id == viewer.agent_id,
            )
            for v in visible_saved_views(session, viewer)
        ],
    )


def assignable_agents(session: Session) -> list[Agent]:
    return list(
        session.exec(select(Agent).where(col(Agent.is_active)).order_by(col(Agent.name))).all()
    )


def list_statuses(session: Session) -> list[TicketStatus]:
    return list(
        session.exec(
            select(TicketStatus).order_by(col(TicketStatus.position), col(TicketStatus.id))
        ).all()
    )


def status_names(session: Session) -> list[str]:
    return list(
        session.exec(
            select(TicketStatus.name).order_by(col(TicketStatus.position), col(TicketStatus.id))
        ).all()
    )


def view_counts(
    session: Session,
    viewer: Viewer,
    *,
    prefix: str,
    now: datetime | None = None,
    names: DeskNames | None = None,
) -> ViewGroups:
    """Every view with its count, none of them counted ticket by ticket where it can be
    helped (``inbox.queries.counts``): the queues are sums of the counts kept as tickets
    change, "Breaching soon" ranges of due times, both read in one statement; only a saved
    view of every ticket, a tag or a search is a ``count(*)`` of its own. "All tickets" has
    no count: it is the archive, not a queue of work, and counting it would cost as much as
    the archive. ``names``: the desk's channels and teams, when the caller read them already
    (the live counts of many lists share one reading)."""
    names = names or desk_names(session)
    groups = inbox_views(session, viewer, names)
    counts = SidebarCounts(session, viewer, names, (link.filters for link in groups.all()), now=now)

    def count(filters: TicketFilters) -> int | None:
        if filters == EVERYTHING:
            return None
        if counted_from_kept(filters):
            return counts.count(filters)
        if counted_by_due_range(filters):
            return counts.breaching
        return count_tickets(session, prefix=prefix, filters=filters, viewer=viewer, now=now)

    def counted(links: list[ViewLink]) -> list[ViewLink]:
        return [
            ViewLink(
                link.key,
                link.label,
                link.filters,
                count(link.filters),
                link.saved_view_id,
                link.shared,
                link.owned,
            )
            for link in links
        ]

    return ViewGroups(
        counted(groups.built_in),
        counted(groups.channels),
        counted(groups.teams),
        counted(groups.saved),
        sidebar_chats(
            session, viewer, [i for i, _name, kind in names.channels if kind == ChannelKind.CHAT]
        ),
    )
