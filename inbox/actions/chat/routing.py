"""Live chat routing: agents' availability, the queue a new chat waits in, offers to one agent
at a time (``inbox.rules.chat_routing`` chooses), and taking a chat.

Routing runs whenever what it depends on changes: a chat opens or ends, an agent takes one,
sets their availability or comes back to their console; and when an offer's time runs out (a
``chat_offer`` timer, so a lapsed offer moves on even when nothing else happens).

Every change that routing depends on first locks the chat channels' rows, always in the same
order (``lock_routing``), before any conversation or agent row: two processes never offer one
chat twice, and never wait on each other in a circle.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from inbox.actions.chat.conversations import add_entry, end_conversation
from inbox.actions.tickets import touch_ticket
from inbox.actions.timeline import record_system_event
from inbox.actions.timers import set_timer
from inbox.errors import Conflict, InvalidInput, NotFound
from inbox.events import ChatQueueChanged, TicketChanged, record
from inbox.models import Agent, AgentChatStatus, Channel, ChatConversation, Team, Ticket
from inbox.models.kinds import ChannelKind
from inbox.queries.chat_queue import (
    candidates,
    channels_waiting,
    desk_availability,
    team_members,
    waiting,
)
from inbox.rules.chat_routing import (
    AVAILABILITY,
    CONSOLE_GONE,
    CONSOLE_STAMP,
    MAX_LIMIT,
    MIN_OFFER_SECONDS,
    OPEN,
    pick_agent,
    present,
    routing_settings,
)

OFFER_TIMER = "chat_offer"
IDLE_TIMER = "chat_idle"
DEFAULT_IDLE_SECONDS = 30 * 60


def lock_routing(session: Session) -> None:
    """Take the chat channels' rows, in id order (a no-op on SQLite, whose writers take
    turns anyway)."""
    session.exec(
        select(Channel.id)
        .where(Channel.kind == ChannelKind.CHAT)
        .order_by(col(Channel.id))
        .with_for_update()
    ).all()


def chat_status(session: Session, agent_id: int) -> AgentChatStatus:
    """The agent's chat status row, made on first use (offline)."""
    row = session.get(AgentChatStatus, agent_id)
    if row is None:
        row = AgentChatStatus(agent_id=agent_id)
        session.add(row)
        session.flush()
    return row


def set_availability(
    session: Session,
    agent: Agent,
    *,
    now: datetime,
    status: str | None = None,
    limit: int | None = None,
) -> AgentChatStatus:
    """``available``, ``away`` or ``offline``, and how many chats at once. Becoming available
    counts as being at the console."""
    lock_routing(session)
    row = chat_status(session, agent.id or 0)
    if status is not None:
        if status not in AVAILABILITY:
            raise InvalidInput(f"availability is one of {', '.join(AVAILABILITY)}")
        row.status = status
        if status == "available":
            row.console_seen_at = now
    if limit is not None:
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidInput(f"a chat limit is 1 to {MAX_LIMIT}")
        row.chat_limit = limit
    session.add(row)
    session.flush()
    route_waiting(session, now=now)
    return row


def note_console(session: Session, agent_id: int, *, now: datetime) -> None:
    """The agent's console was heard from. One who was gone and is available again is
    offered what waits."""
    known = session.get(AgentChatStatus, agent_id)
    if known and known.console_seen_at and now - known.console_seen_at < CONSOLE_STAMP:
        return
    lock_routing(session)
    row = chat_status(session, agent_id)
    session.refresh(row, with_for_update=True)
    seen = row.console_seen_at
    row.console_seen_at = now
    session.add(row)
    session.flush()
    if row.status == "available" and (seen is None or now - seen > CONSOLE_GONE):
        route_waiting(session, now=now)


def enter_queue(
    session: Session, channel: Channel, conversation: ChatConversation, *, now: datetime
) -> str:
    """A conversation that just opened: queued for an agent when the desk is open, else left
    as a message for the agents to answer like any ticket. The desk's state is the answer."""
    lock_routing(session)
    availability = desk_availability(session, channel, now)
    if availability.state != OPEN:
        return availability.state
    team_id = routing_settings(channel.config).team_id
    conversation.routing = "queued"
    conversation.queued_at = now
    conversation.team_id = team_id
    session.add(conversation)
    session.flush()
    set_timer(
        session,
        kind=IDLE_TIMER,
        due_at=now + _idle_time(channel),
        key=f"chat-idle:{conversation.id}",
        ticket_id=conversation.ticket_id,
        payload={"conversation_id": conversation.id},
    )
    route_channel(session, channel.id or 0, now=now)
    return OPEN


def _idle_time(channel: Channel) -> timedelta:
    return timedelta(seconds=int(channel.config.get("idle_seconds", DEFAULT_IDLE_SECONDS)))


def end_if_idle(session: Session, conversation_id: int, *, now: datetime) -> datetime | None:
    """A live chat with nothing said either way for the channel's idle time ends (still
    waiting: a missed chat). Otherwise when to look again."""
    conversation = session.get(ChatConversation, conversation_id)
    if conversation is None or conversation.state != "open":
        return None
    channel = session.get(Channel, conversation.channel_id)
    if channel is None:
        return None
    due = conversation.last_activity_at + _idle_time(channel)
    if due > now:
        return due
    end_chat(session, conversation, by_label="its idle time", now=now)
    return None


def route_waiting(session: Session, *, now: datetime) -> None:
    """Route every channel with chats waiting."""
    for channel_id in channels_waiting(session):
        route_channel(session, channel_id, now=now)


def route_channel(session: Session, channel_id: int, *, now: datetime) -> bool:
    """Offer the channel's waiting chats, in order, to the agents free for them; an offer
    whose agent went away, or whose time ran out, moves on. Whether anything changed."""
    lock_routing(session)
    channel = session.get(Channel, channel_id, populate_existing=True)
    if channel is None:
        return False
    queue = waiting(session, channel_id)
    if not queue:
        return False
    settings = routing_settings(channel.config)
    offer_for = timedelta(seconds=max(MIN_OFFER_SECONDS, settings.offer_seconds))
    pool = {c.agent_id: c for c in candidates(session, None)}
    members = team_members(session)
    changed = False
    for conversation in queue:
        offered = conversation.offered_agent_id
        team = conversation.team_id
        if offered is not None:
            candidate = pool.get(offered)
            offered_at = conversation.offered_at or now
            in_team = team is None or offered in members.get(team, ())
            if (
                candidate is not None
                and in_team
                and present(candidate, now)
                and offered_at + offer_for > now
            ):
                continue
            if candidate is not None:
                pool[offered] = replace(candidate, load=candidate.load - 1)
            conversation.offered_agent_id = conversation.offered_at = None
            changed = True
        # The conversation's team (the channel's, or the one it was passed to) takes it.
        eligible = [c for c in pool.values() if team is None or c.agent_id in members.get(team, ())]
        chosen = pick_agent(eligible, now, passing=offered)
        if chosen is None:
            session.add(conversation)
            if offered is not None:
                record(session, TicketChanged(conversation.ticket_id))
            continue
        conversation.offered_agent_id, conversation.offered_at = chosen, now
        session.add(conversation)
        pool[chosen] = replace(pool[chosen], load=pool[chosen].load + 1, last_offer_at=now)
        status = chat_status(session, chosen)
        status.last_offer_at = now
        session.add(status)
        set_timer(
            session,
            kind=OFFER_TIMER,
            due_at=now + offer_for,
            ticket_id=conversation.ticket_id,
            payload={"channel_id": channel_id},
        )
        record(session, TicketChanged(conversation.ticket_id))
        changed = True
    if changed:
        session.flush()
        record(session, ChatQueueChanged(channel_id))
    return changed


def take_chat(
    session: Session, agent: Agent, conversation_id: int, *, now: datetime
) -> ChatConversation:
    """The agent takes a waiting chat (offered to them or not): it leaves the queue, the
    ticket is theirs, and the visitor hears who is with them."""
    lock_routing(session)
    conversation = session.get(
        ChatConversation, conversation_id, with_for_update=True, populate_existing=True
    )
    if conversation is None:
        raise NotFound("no such chat")
    if conversation.state != "open" or conversation.routing != "queued":
        taken_by = session.get(Agent, conversation.agent_id) if conversation.agent_id else None
        if taken_by is not None and taken_by.id == agent.id:
            return conversation
        raise Conflict(
            f"{taken_by.name} has taken this chat" if taken_by else "this chat waits no more"
        )
    conversation.routing = "taken"
    conversation.agent_id, conversation.taken_at = agent.id, now
    conversation.offered_agent_id = conversation.offered_at = None
    session.add(conversation)
    ticket = session.get(Ticket, conversation.ticket_id, with_for_update=True)
    if ticket is not None:
        if ticket.assignee_id != agent.id:
            ticket.assignee_id = agent.id
            record_system_event(session, ticket, agent, f"chat taken by {agent.name}")
        touch_ticket(session, ticket)
    add_entry(
        session, conversation, author="system", name="", text=f"{agent.name} joined the chat."
    )
    record(session, TicketChanged(conversation.ticket_id))
    record(session, ChatQueueChanged(conversation.channel_id))
    route_waiting(session, now=now)
    return conversation


def end_chat(
    session: Session, conversation: ChatConversation, *, by_label: str, now: datetime
) -> ChatConversation:
    """Ended by the visitor, an agent or its idle time: a waiting chat leaves the queue (a
    missed chat), a taken one frees its agent for the next."""
    lock_routing(session)
    ended = end_conversation(session, conversation, by_label=by_label)
    if ended.offered_agent_id is not None:
        ended.offered_agent_id = ended.offered_at = None
        session.add(ended)
    session.flush()
    if ended.routing in ("queued", "taken"):
        record(session, ChatQueueChanged(ended.channel_id))
        route_waiting(session, now=now)
    return ended


def transfer_chat(
    session: Session,
    actor: Agent,
    conversation_id: int,
    *,
    now: datetime,
    to_agent_id: int | None = None,
    to_team_id: int | None = None,
) -> ChatConversation:
    """Pass an open chat to another agent (it is theirs at once) or to a team (it waits in
    that team's queue, in its old place, and is offered to the team's agents). The visitor
    hears who is with them, or that they are being passed on."""
    if (to_agent_id is None) == (to_team_id is None):
        raise InvalidInput("transfer to an agent or to a team")
    lock_routing(session)
    conversation = session.get(
        ChatConversation, conversation_id, with_for_update=True, populate_existing=True
    )
    if conversation is None or conversation.state != "open":
        raise Conflict("this chat has ended")
    ticket = session.get(Ticket, conversation.ticket_id, with_for_update=True)
    if ticket is None:
        raise NotFound("no such chat")
    conversation.offered_agent_id = conversation.offered_at = None
    if to_agent_id is not None:
        target = session.get(Agent, to_agent_id)
        if target is None or not target.is_active:
            raise InvalidInput("no such agent")
        conversation.routing, conversation.agent_id = "taken", target.id
        conversation.taken_at = conversation.taken_at or now
        ticket.assignee_id = target.id
        said = f"{actor.name} passed the chat to {target.name}."
    else:
        team = session.get(Team, to_team_id)
        if team is None:
            raise InvalidInput("no such team")
        conversation.routing, conversation.agent_id = "queued", None
        conversation.team_id = team.id
        conversation.queued_at = conversation.queued_at or now
        ticket.assignee_id, ticket.team_id = None, team.id
        said = f"{actor.name} passed the chat to the {team.name} team; please hold on."
    session.add(conversation)
    session.add(ticket)
    record_system_event(session, ticket, actor, said)
    touch_ticket(session, ticket)
    add_entry(session, conversation, author="system", name="", text=said)
    record(session, TicketChanged(conversation.ticket_id))
    record(session, ChatQueueChanged(conversation.channel_id))
    route_waiting(session, now=now)
    return conversation
