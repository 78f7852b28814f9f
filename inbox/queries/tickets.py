"""Ticket lists, and finding one ticket, shaped for the pages and the API alike."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, text, tuple_
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select

from inbox.errors import InvalidInput, NotFound
from inbox.models import (
    PRIORITIES,
    Agent,
    Attachment,
    Channel,
    Customer,
    Message,
    Team,
    TeamMember,
    Ticket,
    TicketRead,
    TicketTag,
)
from inbox.models.kinds import PUBLIC_MESSAGE_KINDS, Direction
from inbox.models.types import utcnow
from inbox.queries.followups import snoozed_ticket_ids
from inbox.queries.search import TicketSearch, ticket_search
from inbox.rules.references import normalize_reference
from inbox.rules.sla_countdown import RUNNING_CATEGORIES

MAX_LIMIT = 100
VIEWS = ("all", "mine", "unassigned", "open", "waiting", "breaching", "snoozed")
SORTS = ("updated", "created", "priority", "sla", "newest")
BREACHING_SOON = timedelta(hours=4)
# Written out literally (not as bound parameters) so both planners can match it against the
# partial indexes of migration 0004.
UNRESOLVED = "ticket.status_category NOT IN ('resolved', 'closed')"


@dataclass(frozen=True)
class TicketFilters:
    """What the inbox shows: a view, filters, a search and a sort. Unknown values are refused.

    Without a sort chosen, a list shows the most recently updated ticket first, and a search
    the most recently opened ticket first (by id, ``newest``): the order in which SQLite's
    search index reads its matches, so that a page of a search need not read every match
    (``inbox.queries.search``). Once built, ``sort`` holds the order in effect.
    """

    status: str | None = None
    channel: str | None = None
    assignee: str | None = None
    q: str | None = None
    view: str = "all"
    priority: str | None = None
    team: str | None = None
    tag: str | None = None
    sort: str = ""

    def __post_init__(self) -> None:
        if not self.sort:
            object.__setattr__(self, "sort", self.default_sort)
        if self.view not in VIEWS:
            raise InvalidInput(f"view must be one of {', '.join(VIEWS)}")
        if self.sort not in SORTS:
            raise InvalidInput(f"sort must be one of {', '.join(SORTS)}")
        if self.priority is not None and self.priority not in PRIORITIES:
            raise InvalidInput(f"priority must be one of {', '.join(PRIORITIES)}")

    @property
    def default_sort(self) -> str:
        return "newest" if self.q else "updated"

    def params(self) -> dict[str, str]:
        """The non-default fields, as the list's query parameters."""
        values = {name: getattr(self, name) for name in FILTER_FIELDS}
        defaults = {"view": "all", "sort": self.default_sort}
        return {k: v for k, v in values.items() if v and defaults.get(k) != v}


FILTER_FIELDS = ("view", "status", "priority", "channel", "assignee", "team", "tag", "q", "sort")


@dataclass(frozen=True)
class Viewer:
    """Who is looking, with what they may see: administrators see every ticket; agents and
    managers see their teams' tickets, tickets of no team, and tickets assigned to them."""

    agent_id: int
    email: str
    role: str
    team_ids: frozenset[int]

    @property
    def sees_everything(self) -> bool:
        return self.role == "admin"


def viewer_for(session: Session, agent: Agent) -> Viewer:
    team_ids = session.exec(select(TeamMember.team_id).where(TeamMember.agent_id == agent.id))
    return Viewer(agent.id or 0, agent.email, agent.role, frozenset(team_ids.all()))


def scope_clause(viewer: Viewer) -> ColumnElement[bool] | None:
    if viewer.sees_everything:
        return None
    return or_(
        col(Ticket.team_id).in_(sorted(viewer.team_ids)),
        col(Ticket.team_id).is_(None),
        col(Ticket.assignee_id) == viewer.agent_id,
    )


@dataclass(frozen=True, slots=True)
class ListedTicket:
    """What a list row shows of a ticket, and sorts it by: not the whole ticket."""

    id: int
    reference: str
    subject: str
    status: str
    status_category: str
    priority: str
    priority_rank: int | None
    channel_kind: str
    created_at: datetime
    updated_at: datetime
    sla_due_at: datetime | None


@dataclass(frozen=True, slots=True)
class TicketRow:
    ticket: ListedTicket
    customer_name: str
    assignee_email: str | None
    channel_name: str | None
    assignee_name: str | None = None
    # The start of the newest message the customer sees or wrote (not notes, system lines or
    # automatic replies).
    last_message: str = ""
    # A message from the customer newer than what this agent has read of the ticket.
    unread: bool = False

    @property
    def preview(self) -> str:
        """The last message's first line that has words."""
        return next((line.strip() for line in self.last_message.splitlines() if line.strip()), "")

    @property
    def assignee_initials(self) -> str:
        words = (self.assignee_name or self.assignee_email or "").split("@")[0].split()
        return "".join(word[0] for word in words[:2]).upper()


_LISTED = tuple(col(getattr(Ticket, name)) for name in ListedTicket.__slots__)
# Read in the list's own query, for the rows of the page only: names, not whole objects (a
# row has no use for an agent's password hash).
_LABELS = (
    select(Customer.name).where(Customer.id == Ticket.customer_id).scalar_subquery(),
    select(Agent.email).where(Agent.id == Ticket.assignee_id).scalar_subquery(),
    select(Channel.name).where(Channel.id == Ticket.channel_id).scalar_subquery(),
    select(Agent.name).where(Agent.id == Ticket.assignee_id).scalar_subquery(),
    select(func.substr(Message.display_text, 1, 200))
    .where(
        Message.ticket_id == Ticket.id,
        col(Message.kind).in_(sorted(PUBLIC_MESSAGE_KINDS)),
        col(Message.is_automatic).is_(False),  # an acknowledgement says nothing new
    )
    .order_by(col(Message.created_at).desc(), col(Message.id).desc())
    .limit(1)
    .scalar_subquery(),
)


def row_select(reader_id: int | None = None) -> Select[Any]:
    """A list's query before its conditions and order: what each row shows; with a reader,
    whether the ticket has customer messages that agent has not opened."""
    if reader_id is None:
        return core_select(*_LISTED, *_LABELS)
    read_up_to = (
        select(TicketRead.message_id)
        .where(TicketRead.agent_id == reader_id, TicketRead.ticket_id == Ticket.id)
        .scalar_subquery()
    )
    unread = select(func.max(Message.id)).where(
        Message.ticket_id == Ticket.id, Message.direction == Direction.INBOUND
    ).scalar_subquery() > func.coalesce(read_up_to, 0)
    return core_select(*_LISTED, *_LABELS, unread)


def ticket_rows(session: Session, query: Select[Any]) -> list[TicketRow]:
    """The rows of ``query``, a ``row_select()`` narrowed and ordered. Plain rows of columns,
    read on the session's connection without the ORM's loading (lists are read in reading
    sessions, with nothing to flush)."""
    n = len(_LISTED)
    return [
        TicketRow(
            ListedTicket(*r[:n]),
            r[n] or "",
            r[n + 1],
            r[n + 2],
            r[n + 3],
            r[n + 4] or "",
            bool(r[n + 5]) if len(r) > n + 5 else False,
        )
        for r in session.connection().execute(query).all()
    ]


@dataclass
class TicketPage:
    rows: list[TicketRow]
    next_cursor: str | None


def ticket_conditions(
    session: Session,
    *,
    prefix: str,
    filters: TicketFilters,
    viewer: Viewer,
    now: datetime | None = None,
) -> list[ColumnElement[bool]]:
    """The WHERE clause of a list or a count: what the viewer may see, the view, the filters,
    the search."""
    conditions = _filter_conditions(filters, viewer, now)
    search = ticket_search(session, filters.q, prefix) if filters.q else None
    if search is not None:
        conditions.append(search.clause)
    return conditions


def _filter_conditions(
    filters: TicketFilters, viewer: Viewer, now: datetime | None
) -> list[ColumnElement[bool]]:
    """What the viewer may see, the view and the filters: everything but the search."""
    conditions: list[ColumnElement[bool]] = []
    scope = scope_clause(viewer)
    if scope is not None:
        conditions.append(scope)
    view = filters.view
    if view != "all":  # every other view is a queue of unresolved work
        conditions.append(and_(text(UNRESOLVED)))
    if view == "snoozed":
        conditions.append(col(Ticket.id).in_(snoozed_ticket_ids()))
    elif view != "all":  # a snoozed ticket leaves the queues until it wakes
        conditions.append(col(Ticket.id).not_in(snoozed_ticket_ids()))
    if view == "mine":
        conditions.append(col(Ticket.assignee_id) == viewer.agent_id)
    elif view == "unassigned":
        conditions.append(col(Ticket.assignee_id).is_(None))
    elif view == "waiting":
        conditions.append(col(Ticket.status_category) == "waiting_on_customer")
    elif view == "breaching":
        # What the rows' countdowns show (``inbox.rules.sla_countdown``): a running clock due
        # within the window or already overdue; a waiting ticket's clocks are paused.
        due_by = (now or utcnow()) + BREACHING_SOON
        conditions.append(col(Ticket.status_category).in_(RUNNING_CATEGORIES))
        conditions.append(col(Ticket.sla_due_at) <= due_by)
    if filters.status:
        conditions.append(
            or_(col(Ticket.status) == filters.status, col(Ticket.status_category) == filters.status)
        )
    if filters.priority:
        conditions.append(col(Ticket.priority) == filters.priority)
    if filters.channel:
        channel_ids = select(Channel.id).where(
            or_(col(Channel.name) == filters.channel, col(Channel.kind) == filters.channel)
        )
        conditions.append(col(Ticket.channel_id).in_(channel_ids))
    if filters.assignee:
        if filters.assignee == "none":
            conditions.append(col(Ticket.assignee_id).is_(None))
        elif filters.assignee == "me":
            conditions.append(col(Ticket.assignee_id) == viewer.agent_id)
        else:
            conditions.append(
                col(Ticket.assignee_id).in_(
                    select(Agent.id).where(Agent.email == filters.assignee.lower())
                )
            )
    if filters.team:
        if filters.team == "none":
            conditions.append(col(Ticket.team_id).is_(None))
        else:
            team_ids = select(Team.id).where(Team.name == filters.team)
            conditions.append(col(Ticket.team_id).in_(team_ids))
    if filters.tag:
        tagged = select(TicketTag.ticket_id).where(TicketTag.tag == filters.tag.strip().lower())
        conditions.append(col(Ticket.id).in_(tagged))
    return conditions


def list_tickets(
    session: Session,
    *,
    prefix: str,
    filters: TicketFilters,
    viewer: Viewer,
    limit: int = 50,
    cursor: str | None = None,
    now: datetime | None = None,
) -> TicketPage:
    """One page of the inbox, by keyset: the cursor holds the sort key of the last row."""
    limit = max(1, min(limit, MAX_LIMIT))
    conditions = _filter_conditions(filters, viewer, now)
    search = ticket_search(session, filters.q, prefix) if filters.q else None
    after = decode_cursor(cursor, filters.sort) if cursor else None
    rows = _fetch_sorted(
        session, conditions, search, filters.sort, after, limit + 1, reader_id=viewer.agent_id
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return TicketPage(
        rows=rows,
        next_cursor=encode_cursor(rows[-1].ticket, filters.sort) if more and rows else None,
    )


def count_tickets(
    session: Session,
    *,
    prefix: str,
    filters: TicketFilters,
    viewer: Viewer,
    now: datetime | None = None,
) -> int:
    conditions = ticket_conditions(session, prefix=prefix, filters=filters, viewer=viewer, now=now)
    return session.exec(select(func.count()).select_from(Ticket).where(*conditions)).one()


def _fetch_sorted(
    session: Session,
    conditions: list[ColumnElement[bool]],
    search: TicketSearch | None,
    sort: str,
    after: tuple[Any, ...] | None,
    limit: int,
    *,
    reader_id: int | None = None,
) -> list[TicketRow]:
    """Rows in the sort's order after the cursor; every order ends with the id, so ties are
    stable. SLA order is due time first, then tickets without one, as two index ranges. The
    newest first order reads a search's matches in the index's order and stops with the page;
    any other order of a search sorts all of its matches."""
    stmt = row_select(reader_id).where(*conditions)
    if sort == "newest":
        before = after[0] if after else None
        if search is not None:
            stmt = search.newest_first(stmt, before)
        else:
            if before is not None:
                stmt = stmt.where(col(Ticket.id) < before)
            stmt = stmt.order_by(col(Ticket.id).desc())
        return ticket_rows(session, stmt.limit(limit))
    if search is not None:
        stmt = stmt.where(search.clause)
    if sort == "updated":
        if after:
            stmt = stmt.where(tuple_(col(Ticket.updated_at), col(Ticket.id)) < tuple_(*after))
        stmt = stmt.order_by(col(Ticket.updated_at).desc(), col(Ticket.id).desc())
    elif sort == "created":
        if after:
            stmt = stmt.where(tuple_(col(Ticket.created_at), col(Ticket.id)) < tuple_(*after))
        stmt = stmt.order_by(col(Ticket.created_at).desc(), col(Ticket.id).desc())
    elif sort == "priority":
        key = (col(Ticket.priority_rank), col(Ticket.created_at), col(Ticket.id))
        if after:
            stmt = stmt.where(tuple_(*key) > tuple_(*after))
        stmt = stmt.order_by(*key)
    else:
        due, ticket_id = after if after else (None, None)
        rows: list[TicketRow] = []
        if ticket_id is None or due is not None:
            timed = stmt.where(col(Ticket.sla_due_at).is_not(None))
            if after:
                timed = timed.where(tuple_(col(Ticket.sla_due_at), col(Ticket.id)) > tuple_(*after))
            timed = timed.order_by(col(Ticket.sla_due_at), col(Ticket.id)).limit(limit)
            rows = ticket_rows(session, timed)
        if len(rows) < limit:
            untimed = stmt.where(col(Ticket.sla_due_at).is_(None))
            if due is None and ticket_id is not None:
                untimed = untimed.where(col(Ticket.id) > ticket_id)
            untimed = untimed.order_by(col(Ticket.id)).limit(limit - len(rows))
            rows += ticket_rows(session, untimed)
        return rows
    return ticket_rows(session, stmt.limit(limit))


def _sort_key(ticket: ListedTicket, sort: str) -> list[Any]:
    if sort == "newest":
        return [ticket.id]
    if sort == "updated":
        return [ticket.updated_at, ticket.id]
    if sort == "created":
        return [ticket.created_at, ticket.id]
    if sort == "priority":
        return [ticket.priority_rank, ticket.created_at, ticket.id]
    return [ticket.sla_due_at, ticket.id]


def encode_cursor(ticket: ListedTicket, sort: str) -> str:
    key = [v.isoformat() if isinstance(v, datetime) else v for v in _sort_key(ticket, sort)]
    raw = json.dumps([sort, *key]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


_CURSOR_TYPES: dict[str, tuple[str, ...]] = {
    "updated": ("time", "id"),
    "created": ("time", "id"),
    "priority": ("id", "time", "id"),
    "sla": ("time?", "id"),
    "newest": ("id",),
}


def decode_cursor(cursor: str, sort: str) -> tuple[Any, ...]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        decoded = json.loads(base64.urlsafe_b64decode(padded))
        if not isinstance(decoded, list) or decoded[0] != sort:
            raise ValueError("cursor of another sort")
        kinds = _CURSOR_TYPES[sort]
        values = decoded[1:]
        if len(values) != len(kinds):
            raise ValueError("cursor of another shape")
        return tuple(_cursor_value(kind, v) for kind, v in zip(kinds, values, strict=True))
    except (ValueError, TypeError, IndexError, binascii.Error) as exc:
        raise InvalidInput("bad cursor") from exc


def _cursor_value(kind: str, value: Any) -> Any:
    if kind == "time?" and value is None:
        return None
    if kind.startswith("time"):
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("naive time in cursor")
        return parsed
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("id in cursor is not a number")
    return value


def ticket_hidden_from(
    session: Session,
    agent: Agent,
    *,
    reference: str | None = None,
    message_id: int | None = None,
    attachment_id: int | None = None,
    prefix: str = "",
) -> bool:
    """True when the ticket named (by reference, or through one of its messages or
    attachments) exists but lies outside what ``agent`` may see."""
    query = select(Ticket.id)
    if reference is not None:
        canonical = normalize_reference(reference, prefix)
        if not canonical:
            return False
        query = query.where(Ticket.reference == canonical)
    elif message_id is not None:
        query = query.join(Message, col(Message.ticket_id) == Ticket.id).where(
            Message.id == message_id
        )
    elif attachment_id is not None:
        query = (
            query.join(Message, col(Message.ticket_id) == Ticket.id)
            .join(Attachment, col(Attachment.message_id) == Message.id)
            .where(Attachment.id == attachment_id)
        )
    else:
        return False
    ticket_id = session.exec(query).first()
    scope = scope_clause(viewer_for(session, agent))
    if ticket_id is None or scope is None:
        return False
    return session.exec(select(Ticket.id).where(Ticket.id == ticket_id, scope)).first() is None


def find_ticket(session: Session, reference: str, prefix: str) -> Ticket:
    canonical = normalize_reference(reference, prefix)
    ticket = (
        session.exec(select(Ticket).where(Ticket.reference == canonical)).first()
        if canonical
        else None
    )
    if ticket is None:
        raise NotFound("no such ticket")
    return ticket
