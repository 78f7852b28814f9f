"""The chat figures of the manager reports: chats queued, taken and missed, time in queue and
first response (median and 90th percentile, in seconds), chats per agent, chats open at once
by hour of the day, and chats against their policy's chat target.

A report covers the chats started (``chat_conversation.created_at``) in its range. A chat is
the viewer's when it waited in the queue of one of their teams, or in no team's queue and
its ticket is one they may see (``scope_clause``), or when they took it; administrators see
every chat. One row per chat is read (no ORM object), and every figure is a count of the
rows that meet one of the tests of ``CHAT_FIGURES``: the drill-down lists the chats that meet
the same test, so a figure and the chats behind it always agree.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from inbox.errors import InvalidInput
from inbox.models import (
    Agent,
    Channel,
    ChatConversation,
    Message,
    SlaClock,
    SlaPolicy,
    Team,
    Ticket,
)
from inbox.models.kinds import Direction, MessageKind
from inbox.queries.reports.period import ReportRange
from inbox.queries.reports.sections import median, percentile
from inbox.queries.reports.sla import DRILLDOWN_LIMIT, DrilldownRow
from inbox.queries.tickets import Viewer, scope_clause
from inbox.rules.chat_load import Span, agent_load, clip, hourly_load, hours_touched

NONE_KEY = "none"


@dataclass(frozen=True, slots=True)
class ChatRow:
    """One chat as the figures read it. ``first_response_at`` is the agent's first chat
    message on its ticket; ``target_minutes`` the chat target of the policy its ticket is
    under (that of its first-response clock), None without one."""

    ticket_id: int
    reference: str
    channel_id: int
    team_id: int | None
    agent_id: int | None
    state: str
    routing: str
    created_at: datetime
    queued_at: datetime | None
    taken_at: datetime | None
    ended_at: datetime | None
    first_response_at: datetime | None
    target_minutes: int | None
    policy: str | None

    @property
    def queued(self) -> bool:
        """It waited in a queue for an agent (the desk was open and not at its cap)."""
        return self.queued_at is not None

    @property
    def taken(self) -> bool:
        return self.queued and self.taken_at is not None

    @property
    def missed(self) -> bool:
        """The visitor left (or the chat ended idle) before an agent took it."""
        return self.queued and self.taken_at is None and self.state == "ended"

    @property
    def waiting(self) -> bool:
        return self.queued and self.taken_at is None and self.state != "ended"

    @property
    def queue_seconds(self) -> float | None:
        if self.queued_at is None or self.taken_at is None:
            return None
        return (self.taken_at - self.queued_at).total_seconds()

    @property
    def response_seconds(self) -> float | None:
        """From entering the queue (or starting, for a chat that never queued) to the
        agent's first chat message."""
        if self.first_response_at is None:
            return None
        return (self.first_response_at - (self.queued_at or self.created_at)).total_seconds()

    def target_outcome(self, now: datetime) -> str | None:
        """``met``: answered within the chat target; ``breached``: answered later, or not
        answered while the target passed; ``undecided``: the visitor left before the
        target passed, or it has not passed yet. None for a chat that never queued (a
        message left while the desk was away or busy) or under no chat target."""
        if self.queued_at is None or self.target_minutes is None:
            return None
        deadline = self.queued_at + timedelta(minutes=self.target_minutes)
        if self.first_response_at is not None:
            return "met" if self.first_response_at <= deadline else "breached"
        last = self.ended_at if self.state == "ended" and self.ended_at else now
        return "breached" if last > deadline else "undecided"

    def open_span(self, now: datetime) -> Span | None:
        """From an agent taking it to its end (now, while it goes on)."""
        if not self.taken or self.agent_id is None or self.taken_at is None:
            return None
        return (self.taken_at, self.ended_at if self.state == "ended" and self.ended_at else now)


ChatTest = Callable[[ChatRow, datetime], bool]
# Every count of the section, by the name its drill-down link carries: what it counts and
# the test a chat meets to be counted.
CHAT_FIGURES: dict[str, tuple[str, ChatTest]] = {
    "started": ("chats started", lambda c, now: True),
    "queued": ("chats that waited in a queue for an agent", lambda c, now: c.queued),
    "taken": ("chats an agent took", lambda c, now: c.taken),
    "missed": (
        "chats missed: the visitor left before an agent took the chat",
        lambda c, now: c.missed,
    ),
    "waiting": ("chats waiting for an agent now", lambda c, now: c.waiting),
    "message": (
        "chats left as a message while the desk was away or busy",
        lambda c, now: not c.queued,
    ),
    "answered": ("chats an agent answered by chat", lambda c, now: c.response_seconds is not None),
    "target_met": (
        "chats answered within their chat target",
        lambda c, now: c.target_outcome(now) == "met",
    ),
    "target_breached": (
        "chats not answered within their chat target",
        lambda c, now: c.target_outcome(now) == "breached",
    ),
    "target_undecided": (
        "chats the visitor left before their chat target passed, or whose target has not passed",
        lambda c, now: c.target_outcome(now) == "undecided",
    ),
    "load": ("chats an agent had open", lambda c, now: c.open_span(now) is not None),
}


def chat_scope(viewer: Viewer) -> ColumnElement[bool] | None:
    """The chats of the viewer's teams' queues, of no team's queue on tickets they may see,
    and those they took; every chat for administrators."""
    if viewer.sees_everything:
        return None
    tickets = scope_clause(viewer)
    assert tickets is not None
    return or_(
        col(ChatConversation.team_id).in_(sorted(viewer.team_ids)),
        and_(col(ChatConversation.team_id).is_(None), tickets),
        col(ChatConversation.agent_id) == viewer.agent_id,
    )


def chat_rows(session: Session, viewer: Viewer, rng: ReportRange) -> list[ChatRow]:
    """The viewer's chats started in the range, newest first."""
    first_response = (
        sa_select(func.min(col(Message.created_at)))
        .where(
            col(Message.ticket_id) == col(ChatConversation.ticket_id),
            col(Message.kind) == MessageKind.CHAT,
            col(Message.direction) == Direction.OUTBOUND,
            col(Message.author_agent_id).is_not(None),
            col(Message.is_automatic).is_(False),
        )
        .scalar_subquery()
    )
    conditions = [
        col(ChatConversation.created_at) >= rng.starts_at,
        col(ChatConversation.created_at) < rng.ends_at,
    ]
    scope = chat_scope(viewer)
    if scope is not None:
        conditions.append(scope)
    query = (
        sa_select(
            col(ChatConversation.ticket_id),
            col(Ticket.reference),
            col(ChatConversation.channel_id),
            col(ChatConversation.team_id),
            col(ChatConversation.agent_id),
            col(ChatConversation.state),
            col(ChatConversation.routing),
            col(ChatConversation.created_at),
            col(ChatConversation.queued_at),
            col(ChatConversation.taken_at),
            col(ChatConversation.ended_at),
            first_response,
            col(SlaPolicy.chat_target_minutes),
            col(SlaPolicy.name),
        )
        .join(Ticket, col(Ticket.id) == col(ChatConversation.ticket_id))
        .outerjoin(
            SlaClock,
            and_(
                col(SlaClock.ticket_id) == col(ChatConversation.ticket_id),
                col(SlaClock.target) == "first_response",
            ),
        )
        .outerjoin(SlaPolicy, col(SlaPolicy.id) == col(SlaClock.policy_id))
        .where(*conditions)
        .order_by(col(ChatConversation.created_at).desc(), col(ChatConversation.id).desc())
    )
    return [ChatRow(*row) for row in session.execute(query).all()]


@dataclass(frozen=True)
class Spread:
    """How long, in seconds, over ``count`` chats: the median and the 90th percentile
    (nearest rank, as the SLA report takes it)."""

    count: int
    median: float | None
    p90: float | None


def _spread(values: Sequence[float]) -> Spread:
    middle, p90 = median(values), percentile(values, 0.9)
    return Spread(
        len(values),
        None if middle is None else round(middle, 1),
        None if p90 is None else round(p90, 1),
    )


@dataclass(frozen=True)
class AgentChats:
    """The chats one agent took: how many, how soon they first answered, and how many they
    had open at once (the most, and the average while they had any)."""

    key: str  # the agent's id, or NONE_KEY for chats passed back to a queue
    name: str
    chats: int
    response: Spread
    most: int
    average: float


@dataclass(frozen=True)
class HourRow:
    """One hour of the day in the report's zone: the chats agents had open then, how many
    at once on average over that hour's time in the range, and the most."""

    hour: int
    chats: int
    average: float
    most: int

    @property
    def label(self) -> str:
        return f"{self.hour:02d}:00-{(self.hour + 1) % 24:02d}:00"


@dataclass
class ChatReport:
    range: ReportRange
    counts: dict[str, int]
    queue: Spread
    response: Spread
    agents: list[AgentChats]
    hours: list[HourRow]
    # (policy, minutes) of the chat targets the chats were measured against
    targets: list[tuple[str, int]]

    def percent(self, figure: str, of: str) -> float | None:
        whole = self.counts[of]
        return round(100 * self.counts[figure] / whole, 1) if whole else None

    @property
    def target_percent(self) -> float | None:
        """Share of the chats decided against their target that met it."""
        decided = self.counts["target_met"] + self.counts["target_breached"]
        return round(100 * self.counts["target_met"] / decided, 1) if decided else None


def _period_end(rng: ReportRange, now: datetime) -> datetime:
    """Load is counted up to now: hours still ahead are no part of the average."""
    return max(rng.starts_at, min(rng.ends_at, now))


def _agent_names(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(
        sa_select(col(Agent.id), col(Agent.name)).where(col(Agent.id).in_(sorted(ids)))
    ).all()
    return {agent_id: name for agent_id, name in rows}


def _agents(session: Session, rows: Sequence[ChatRow], spans: dict[int, Span]) -> list[AgentChats]:
    taken: dict[int | None, list[ChatRow]] = {}
    for row in rows:
        if row.taken:
            taken.setdefault(row.agent_id, []).append(row)
    names = _agent_names(session, {a for a in taken if a is not None})
    result = []
    for agent_id, chats in taken.items():
        load = agent_load([spans[c.ticket_id] for c in chats if c.ticket_id in spans])
        responses = [s for c in chats if (s := c.response_seconds) is not None]
        result.append(
            AgentChats(
                key=NONE_KEY if agent_id is None else str(agent_id),
                name="(passed back to a queue)"
                if agent_id is None
                else names.get(agent_id, str(agent_id)),
                chats=len(chats),
                response=_spread(responses),
                most=load.most,
                average=round(load.average, 2),
            )
        )
    return sorted(result, key=lambda a: (-a.chats, a.name))


def _spans(rows: Sequence[ChatRow], rng: ReportRange, now: datetime) -> dict[int, Span]:
    """Each taken chat's time open within the range, by ticket."""
    end = _period_end(rng, now)
    spans: dict[int, Span] = {}
    for row in rows:
        span = row.open_span(now)
        if span is not None:
            for clipped in clip([span], rng.starts_at, end):
                spans[row.ticket_id] = clipped
    return spans


def chat_report(session: Session, viewer: Viewer, rng: ReportRange, now: datetime) -> ChatReport:
    rows = chat_rows(session, viewer, rng)
    counts = {
        name: sum(1 for row in rows if test(row, now)) for name, (_, test) in CHAT_FIGURES.items()
    }
    spans = _spans(rows, rng, now)
    touched: Counter[int] = Counter()
    for span in spans.values():
        touched.update(hours_touched(span, rng.tz))
    load = hourly_load(list(spans.values()), rng.starts_at, _period_end(rng, now), rng.tz)
    targets = sorted(
        {(row.policy or "", row.target_minutes) for row in rows if row.target_outcome(now)},
        key=lambda pair: (pair[1] or 0, pair[0]),
    )
    return ChatReport(
        range=rng,
        counts=counts,
        queue=_spread([s for row in rows if (s := row.queue_seconds) is not None]),
        response=_spread([s for row in rows if (s := row.response_seconds) is not None]),
        agents=_agents(session, rows, spans),
        hours=[HourRow(h.hour, touched[h.hour], round(h.average, 2), h.most) for h in load],
        targets=[(policy, minutes) for policy, minutes in targets if minutes is not None],
    )


@dataclass(frozen=True)
class ChatDrilldown:
    """Which chats a figure of the chat section counts: ``figure`` (a key of
    ``CHAT_FIGURES``), for one agent (``agent``: an id, or ``none``) or hour of the day."""

    figure: str
    agent: str | None = None
    hour: int | None = None

    def __post_init__(self) -> None:
        if self.figure not in CHAT_FIGURES:
            raise InvalidInput(f"chat must be one of {', '.join(CHAT_FIGURES)}")
        if self.agent is not None and self.agent != NONE_KEY and not self.agent.isdigit():
            raise InvalidInput("agent must be an agent's id")
        if self.hour is not None and not 0 <= self.hour < 24:
            raise InvalidInput("hour must be 0 to 23")

    def label(self, session: Session) -> str:
        """What the drill-down lists, as the page says it."""
        said = CHAT_FIGURES[self.figure][0]
        if self.agent == NONE_KEY:
            said += ", passed back to a queue"
        elif self.agent is not None:
            name = _agent_names(session, {int(self.agent)}).get(int(self.agent), self.agent)
            said = f"chats {name} took" if self.figure == "taken" else f"{said}, taken by {name}"
        if self.hour is not None:
            said += f", in the hour {HourRow(self.hour, 0, 0, 0).label}"
        return said

    def matches(self, row: ChatRow, rng: ReportRange, now: datetime) -> bool:
        if not CHAT_FIGURES[self.figure][1](row, now):
            return False
        if self.agent is not None:
            wanted = None if self.agent == NONE_KEY else int(self.agent)
            if not row.taken or row.agent_id != wanted:
                return False
        if self.hour is not None:
            span = row.open_span(now)
            kept = clip([span], rng.starts_at, _period_end(rng, now)) if span else []
            return bool(kept) and self.hour in hours_touched(kept[0], rng.tz)
        return True


def chat_drilldown(
    session: Session, viewer: Viewer, rng: ReportRange, what: ChatDrilldown, now: datetime
) -> list[DrilldownRow]:
    """The tickets of the chats behind one figure, newest first, at most ``DRILLDOWN_LIMIT``."""
    ids = [row.ticket_id for row in chat_rows(session, viewer, rng) if what.matches(row, rng, now)][
        :DRILLDOWN_LIMIT
    ]
    if not ids:
        return []
    rows = session.execute(
        sa_select(
            col(Ticket.reference),
            col(Ticket.subject),
            col(Ticket.status),
            col(Ticket.priority),
            col(Ticket.created_at),
        )
        .where(col(Ticket.id).in_(ids))
        .order_by(col(Ticket.created_at).desc(), col(Ticket.reference))
    ).all()
    return [DrilldownRow(*row) for row in rows]


@dataclass(frozen=True)
class ChatExportRow:
    """One chat as the download has it."""

    chat: ChatRow
    channel: str
    team: str
    agent: str
    target: str | None


def chat_export_rows(
    session: Session, viewer: Viewer, rng: ReportRange, now: datetime
) -> list[ChatExportRow]:
    """Every chat of the report, oldest first, with the names of its channel, queue and
    agent and how it stood against its chat target."""
    rows = list(reversed(chat_rows(session, viewer, rng)))
    channels = _names(session, Channel, {r.channel_id for r in rows})
    teams = _names(session, Team, {r.team_id for r in rows if r.team_id is not None})
    agents = _agent_names(session, {r.agent_id for r in rows if r.agent_id is not None})
    return [
        ChatExportRow(
            chat=row,
            channel=channels.get(row.channel_id, ""),
            team=teams.get(row.team_id, "") if row.team_id is not None else "",
            agent=agents.get(row.agent_id, "") if row.agent_id is not None else "",
            target=row.target_outcome(now),
        )
        for row in rows
    ]


def _names(session: Session, model: type[Channel] | type[Team], ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = session.execute(
        sa_select(col(model.id), col(model.name)).where(col(model.id).in_(sorted(ids)))
    ).all()
    return {row_id: name for row_id, name in rows}
