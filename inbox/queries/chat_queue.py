"""Reads for live chat routing: the agents a queue may offer chats to, the queue itself, the
place and wait of one waiting chat, and whether the desk takes chats just now."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, false, func, or_
from sqlmodel import Session, col, select

from inbox.models import (
    Agent,
    AgentChatStatus,
    BusinessCalendar,
    Channel,
    ChatConversation,
    ChatVisitor,
    Message,
    TeamMember,
    Ticket,
    TicketRead,
)
from inbox.models.kinds import ChannelKind, Direction
from inbox.queries.sla import calendar_of
from inbox.queries.tickets import Viewer
from inbox.rules.business_time import is_business_time
from inbox.rules.chat_routing import (
    AWAY,
    BUSY,
    CONSOLE_GONE,
    DEFAULT_LIMIT,
    Candidate,
    desk_state,
    estimated_wait,
    present,
    routing_settings,
)

RECENT_WAITS = 20  # the chats taken lately that the estimate goes by
RECENT_WINDOW = timedelta(hours=24)


def candidates(session: Session, team_id: int | None) -> list[Candidate]:
    """The active agents of the queue's team (every active agent without one), with their
    availability and how many open chats they have taken or are offered."""
    query = select(Agent, AgentChatStatus).join(
        AgentChatStatus, col(AgentChatStatus.agent_id) == col(Agent.id), isouter=True
    )
    query = query.where(col(Agent.is_active).is_(True))
    if team_id is not None:
        query = query.join(TeamMember, col(TeamMember.agent_id) == col(Agent.id)).where(
            TeamMember.team_id == team_id
        )
    rows = session.exec(query).all()
    loads = agent_loads(session, [agent.id or 0 for agent, _ in rows])
    return [
        Candidate(
            agent_id=agent.id or 0,
            status=status.status if status else "offline",
            limit=status.chat_limit if status else DEFAULT_LIMIT,
            load=loads.get(agent.id or 0, 0),
            console_seen_at=status.console_seen_at if status else None,
            last_offer_at=status.last_offer_at if status else None,
        )
        for agent, status in rows
    ]


def team_members(session: Session) -> dict[int, set[int]]:
    """Each team's agents."""
    members: dict[int, set[int]] = {}
    for team_id, agent_id in session.exec(select(TeamMember.team_id, TeamMember.agent_id)):
        members.setdefault(team_id, set()).add(agent_id)
    return members


def console_seen_at(session: Session, agent_id: int) -> datetime | None:
    """When the agent's chat console was last written down as heard from."""
    return session.exec(
        select(AgentChatStatus.console_seen_at).where(AgentChatStatus.agent_id == agent_id)
    ).first()


def agents_present(session: Session, team_id: int | None, now: datetime) -> int:
    """The active agents of the queue's team (every one without a team) who are available and
    whose console was heard from lately (``present``), counted in one query."""
    query = (
        select(func.count())
        .select_from(AgentChatStatus)
        .join(Agent, col(Agent.id) == col(AgentChatStatus.agent_id))
        .where(
            col(Agent.is_active).is_(True),
            AgentChatStatus.status == "available",
            col(AgentChatStatus.console_seen_at) >= now - CONSOLE_GONE,
        )
    )
    if team_id is not None:
        query = query.join(TeamMember, col(TeamMember.agent_id) == col(Agent.id)).where(
            TeamMember.team_id == team_id
        )
    return session.exec(query).one()


def agent_loads(session: Session, agent_ids: list[int]) -> dict[int, int]:
    """Open chats per agent: those they took and those offered to them."""
    if not agent_ids:
        return {}
    loads: dict[int, int] = {}
    for column in (ChatConversation.agent_id, ChatConversation.offered_agent_id):
        for agent_id, count in session.exec(
            select(col(column), func.count())
            .where(ChatConversation.state == "open", col(column).in_(agent_ids))
            .group_by(col(column))
        ):
            if agent_id is not None:
                loads[agent_id] = loads.get(agent_id, 0) + count
    return loads


def waiting(session: Session, channel_id: int) -> list[ChatConversation]:
    """The channel's queue, first come first."""
    return list(
        session.exec(
            select(ChatConversation)
            .where(
                ChatConversation.channel_id == channel_id,
                ChatConversation.state == "open",
                ChatConversation.routing == "queued",
            )
            .order_by(col(ChatConversation.queued_at), col(ChatConversation.id))
        )
    )


def channels_waiting(session: Session) -> list[int]:
    """Channels with chats in their queue."""
    return list(
        session.exec(
            select(ChatConversation.channel_id)
            .where(ChatConversation.state == "open", ChatConversation.routing == "queued")
            .distinct()
        )
    )


def recent_waits(session: Session, channel_id: int, now: datetime) -> list[float]:
    """Seconds the channel's latest taken chats waited."""
    rows = session.exec(
        select(ChatConversation.queued_at, ChatConversation.taken_at)
        .where(
            ChatConversation.channel_id == channel_id,
            col(ChatConversation.taken_at) >= now - RECENT_WINDOW,
            col(ChatConversation.queued_at).is_not(None),
        )
        .order_by(col(ChatConversation.taken_at).desc())
        .limit(RECENT_WAITS)
    ).all()
    return [(taken - queued).total_seconds() for queued, taken in rows if queued and taken]


@dataclass(frozen=True)
class Availability:
    """What a visitor about to write is told: ``open`` (a chat queues for an agent), ``away``
    or ``busy``, with the channel's message for those."""

    state: str
    text: str
    waiting: int
    agents_present: int


def desk_availability(session: Session, channel: Channel, now: datetime) -> Availability:
    settings = routing_settings(channel.config)
    open_hours = True
    if settings.calendar_id is not None:
        row = session.get(BusinessCalendar, settings.calendar_id)
        open_hours = row is None or is_business_time(calendar_of(row), now)
    present_now = agents_present(session, settings.team_id, now)
    queued = session.exec(
        select(func.count())
        .select_from(ChatConversation)
        .where(
            ChatConversation.channel_id == channel.id,
            ChatConversation.state == "open",
            ChatConversation.routing == "queued",
        )
    ).one()
    state = desk_state(
        open_hours=open_hours,
        agents_present=present_now,
        waiting=queued,
        queue_cap=settings.queue_cap,
    )
    text = {AWAY: settings.away_message, BUSY: settings.busy_message}.get(state, "")
    return Availability(state, text, queued, present_now)


@dataclass(frozen=True)
class QueuePlace:
    position: int
    wait_seconds: int | None


def queue_place(session: Session, conversation: ChatConversation, now: datetime) -> QueuePlace:
    """Where a waiting chat stands in its queue, and about how long it will wait still."""
    ahead = session.exec(
        select(func.count())
        .select_from(ChatConversation)
        .where(
            ChatConversation.channel_id == conversation.channel_id,
            ChatConversation.state == "open",
            ChatConversation.routing == "queued",
            or_(
                col(ChatConversation.queued_at) < conversation.queued_at,
                (col(ChatConversation.queued_at) == conversation.queued_at)
                & (col(ChatConversation.id) < conversation.id),
            ),
        )
    ).one()
    present_now = agents_present(session, conversation.team_id, now)
    waits = recent_waits(session, conversation.channel_id, now)
    return _place(ahead + 1, conversation.queued_at, waits, present_now, now)


def queue_places(session: Session, channel_id: int, now: datetime) -> dict[int, QueuePlace]:
    """Every waiting chat's place in the channel's queue, by conversation id: what
    ``queue_place`` says of each, in a query for the queue and one per team in it."""
    waiting = session.exec(
        select(ChatConversation.id, ChatConversation.team_id, ChatConversation.queued_at)
        .where(
            ChatConversation.channel_id == channel_id,
            ChatConversation.state == "open",
            ChatConversation.routing == "queued",
        )
        .order_by(col(ChatConversation.queued_at), col(ChatConversation.id))
    ).all()
    if not waiting:
        return {}
    waits = recent_waits(session, channel_id, now)
    present: dict[int | None, int] = {}
    places: dict[int, QueuePlace] = {}
    for position, (conversation_id, team_id, queued_at) in enumerate(waiting, start=1):
        if team_id not in present:
            present[team_id] = agents_present(session, team_id, now)
        places[conversation_id or 0] = _place(position, queued_at, waits, present[team_id], now)
    return places


def _place(
    position: int, queued_at: datetime | None, waits: list[float], present: int, now: datetime
) -> QueuePlace:
    wait = estimated_wait(position, waits, present)
    if wait is not None and queued_at is not None and position == 1:
        # What the visitor has waited already counts against the estimate.
        wait = max(1, round(wait - (now - queued_at).total_seconds()))
    return QueuePlace(position, wait)


# --- the agent's chat console ------------------------------------------------------------------


@dataclass(frozen=True)
class ConsoleChat:
    conversation_id: int
    reference: str
    subject: str
    visitor: str
    channel: str
    since: datetime  # queued (waiting), or taken (theirs)
    offered_to: str  # the agent a waiting chat is offered to now, if any
    unread: int  # the visitor's messages the agent has not seen on the ticket


@dataclass(frozen=True)
class Console:
    status: str
    limit: int
    present: bool
    offered: list[ConsoleChat]  # waiting, offered to this agent
    waiting: list[ConsoleChat]  # every chat waiting in the queues this agent serves
    mine: list[ConsoleChat]  # open chats this agent took


@dataclass(frozen=True)
class SidebarChats:
    """The inbox sidebar's "Chats" entry: the agent's open chats, their unread messages, and
    the chats waiting in the queues the agent serves."""

    mine: int
    unread: int
    waiting: int


def _open_chats_of(
    session: Session, agent_id: int, channels: Sequence[int] | None = None
) -> ColumnElement[bool] | None:
    """Open chats waiting in a queue or taken by the agent, said so that each half finds its
    index (the queues by channel, the agent's by agent): no scan of every chat there was.
    ``channels``: the desk's chat channels, when the caller read them already. None on a desk
    without a chat channel."""
    if channels is None:
        found = session.exec(select(Channel.id).where(Channel.kind == ChannelKind.CHAT))
        channels = [i for i in found if i is not None]
    if not channels:
        return None
    return or_(
        and_(
            col(ChatConversation.channel_id).in_(channels),
            col(ChatConversation.state) == "open",
            col(ChatConversation.routing) == "queued",
        ),
        and_(
            col(ChatConversation.agent_id) == agent_id,
            col(ChatConversation.state) == "open",
            col(ChatConversation.routing) == "taken",
        ),
    )


def sidebar_chats(
    session: Session, viewer: Viewer, chat_channels: Sequence[int] | None = None
) -> SidebarChats | None:
    """None on a desk without a chat channel: the sidebar then has no "Chats" entry."""
    open_chats = _open_chats_of(session, viewer.agent_id, chat_channels)
    if open_chats is None:
        return None
    rows = session.exec(
        select(
            ChatConversation.ticket_id, ChatConversation.routing, ChatConversation.team_id
        ).where(open_chats)
    ).all()
    mine = [ticket_id for ticket_id, routing, _ in rows if routing == "taken"]
    waiting = sum(
        1
        for _, routing, team_id in rows
        if routing == "queued"
        and (team_id is None or team_id in viewer.team_ids or viewer.role != "agent")
    )
    unread = sum(_unread(session, viewer.agent_id, mine).values())
    return SidebarChats(len(mine), unread, waiting)


def console(session: Session, agent: Agent, now: datetime) -> Console:
    """What the agent's chat console shows: their availability, the chats offered to them,
    the queues they serve and their own open chats."""
    status = session.get(AgentChatStatus, agent.id)
    me = Candidate(
        agent_id=agent.id or 0,
        status=status.status if status else "offline",
        limit=status.chat_limit if status else DEFAULT_LIMIT,
        load=0,
        console_seen_at=status.console_seen_at if status else None,
        last_offer_at=None,
    )
    teams = set(session.exec(select(TeamMember.team_id).where(TeamMember.agent_id == agent.id)))
    open_chats = _open_chats_of(session, agent.id or 0)
    rows = session.exec(
        select(ChatConversation, Ticket, ChatVisitor, Channel)
        .join(Ticket, col(Ticket.id) == col(ChatConversation.ticket_id))
        .join(ChatVisitor, col(ChatVisitor.id) == col(ChatConversation.visitor_id))
        .join(Channel, col(Channel.id) == col(ChatConversation.channel_id))
        .where(false() if open_chats is None else open_chats)
        .order_by(col(ChatConversation.queued_at), col(ChatConversation.id))
    ).all()
    names = dict(
        session.exec(
            select(Agent.id, Agent.name).where(
                col(Agent.id).in_({c.offered_agent_id for c, *_ in rows if c.offered_agent_id})
            )
        ).all()
    )
    unread = _unread(session, agent.id or 0, [t.id or 0 for c, t, *_ in rows if c.agent_id])
    offered, queue, mine = [], [], []
    for conversation, ticket, visitor, channel in rows:
        chat = ConsoleChat(
            conversation_id=conversation.id or 0,
            reference=ticket.reference,
            subject=ticket.subject,
            visitor=visitor.name or f"Visitor {visitor.id}",
            channel=channel.name,
            since=conversation.taken_at or conversation.queued_at or conversation.created_at,
            offered_to=names.get(conversation.offered_agent_id or 0, ""),
            unread=unread.get(ticket.id or 0, 0),
        )
        if conversation.routing == "taken":
            mine.append(chat)
            continue
        other_team = conversation.team_id is not None and conversation.team_id not in teams
        if other_team and agent.role == "agent":
            continue  # another team's queue: managers and admins see every queue
        queue.append(chat)
        if conversation.offered_agent_id == agent.id:
            offered.append(chat)
    mine.sort(key=lambda c: c.since)
    return Console(me.status, me.limit, present(me, now), offered, queue, mine)


def _unread(session: Session, agent_id: int, ticket_ids: list[int]) -> dict[int, int]:
    """Per ticket, the customer's messages newer than the newest the agent has seen."""
    if not ticket_ids:
        return {}
    seen = and_(
        col(TicketRead.ticket_id) == col(Message.ticket_id), col(TicketRead.agent_id) == agent_id
    )
    rows = session.exec(
        select(Message.ticket_id, func.count())
        .join(TicketRead, seen, isouter=True)
        .where(
            col(Message.ticket_id).in_(ticket_ids),
            Message.direction == Direction.INBOUND,
            col(Message.id) > func.coalesce(col(TicketRead.message_id), 0),
        )
        .group_by(col(Message.ticket_id))
    ).all()
    return {ticket_id: count for ticket_id, count in rows}
