"""Live chat routing on a desk's database (``inbox.actions.chat.routing``): a visitor's first
message queues their chat and offers it to one agent at a time; the desk says whether it is
open, away or busy; offers move on when their time runs out or their agent's console went
quiet; an agent takes a chat and the queue moves up. The clock moves through ``now=``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select, update

from inbox.actions.chat.routing import (
    OFFER_TIMER,
    end_chat,
    note_console,
    route_channel,
    take_chat,
)
from inbox.db import Database
from inbox.errors import Conflict
from inbox.models import (
    Agent,
    BusinessCalendar,
    Channel,
    ChatConversation,
    ChatEntry,
    Ticket,
    Timer,
    utcnow,
)
from inbox.queries.chat_queue import (
    Availability,
    desk_availability,
    queue_place,
    queue_places,
    waiting,
)
from inbox.rules.chat_routing import ROUTING_DEFAULTS
from inbox.settings import Settings
from tests.support.chat_desk import chat_channel, set_available
from tests.support.chat_desk import visitor_writes as write
from tests.support.desk import fire_due_timers, make_agent, make_team

AWAY_TEXT = "Back on Monday at nine."
EVERY_DAY = {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
BUSY_TEXT = "Everyone is talking to somebody; leave us a note."


def agent(db: Database, name: str) -> int:
    first = name.split()[0].lower()
    return make_agent(db, email=f"{first}@example.com", name=name)[0]


def availability(
    db: Database, agent_id: int, now: datetime, status: str = "available", limit: int | None = None
) -> None:
    """What the agent sets in their console at ``now``."""
    set_available(db, agent_id, now, status, limit)


def visitor_writes(db: Database, settings: Settings, channel_id: int, name: str) -> int:
    """A new visitor's first message on the widget; the id of the chat it opened."""
    ack = write(db, settings, channel_id, name)
    with db.reading() as session:
        ticket = session.exec(select(Ticket).where(Ticket.reference == ack.reference)).one()
        conversation = session.exec(
            select(ChatConversation).where(ChatConversation.ticket_id == ticket.id)
        ).one()
        return conversation.id or 0


def chat(db: Database, conversation_id: int) -> ChatConversation:
    with db.reading() as session:
        found = session.get(ChatConversation, conversation_id)
        assert found is not None
        return found


def offered_to(db: Database, conversation_id: int) -> int | None:
    return chat(db, conversation_id).offered_agent_id


def take(db: Database, agent_id: int, conversation_id: int, now: datetime) -> ChatConversation:
    with db.unit_of_work() as session:
        found = session.get(Agent, agent_id)
        assert found is not None
        return take_chat(session, found, conversation_id, now=now)


def end(db: Database, conversation_id: int, now: datetime) -> None:
    with db.unit_of_work() as session:
        end_chat(session, chat(db, conversation_id), by_label="the visitor", now=now)


def route(db: Database, channel_id: int, now: datetime) -> bool:
    with db.unit_of_work() as session:
        return route_channel(session, channel_id, now=now)


def desk(db: Database, channel_id: int, now: datetime) -> Availability:
    with db.reading() as session:
        channel = session.get(Channel, channel_id)
        assert channel is not None
        return desk_availability(session, channel, now)


def queue(db: Database, channel_id: int) -> list[int]:
    with db.reading() as session:
        return [c.id or 0 for c in waiting(session, channel_id)]


def place(db: Database, conversation_id: int, now: datetime) -> tuple[int, int | None]:
    """The chat's place, as its visitor's socket hears it: alone when it catches up, and
    with every other waiting chat's when the queue moves (the two must agree)."""
    conversation = chat(db, conversation_id)
    with db.reading() as session:
        found = queue_place(session, conversation, now)
        assert queue_places(session, conversation.channel_id, now)[conversation_id] == found
        return found.position, found.wait_seconds


def test_a_new_chat_is_queued_and_offered_to_the_available_agent_with_the_fewest_chats(
    db: Database, settings: Settings
) -> None:
    channel = chat_channel(db, settings)
    alex, bea, cem = agent(db, "Alex Agent"), agent(db, "Bea Agent"), agent(db, "Cem Agent")
    now = utcnow()
    availability(db, alex, now)
    availability(db, cem, now, status="away")
    first = visitor_writes(db, settings, channel, "Maria")
    take(db, alex, first, now)
    availability(db, bea, now)

    second = visitor_writes(db, settings, channel, "Noor")

    waiting_chat = chat(db, second)
    assert waiting_chat.routing == "queued" and waiting_chat.queued_at is not None
    assert waiting_chat.offered_agent_id == bea  # Alex has one chat, Bea none, Cem is away
    assert waiting_chat.offered_at is not None and waiting_chat.agent_id is None
    assert queue(db, channel) == [second]
    with db.reading() as session:
        timer = session.exec(
            select(Timer).where(
                Timer.kind == OFFER_TIMER, Timer.ticket_id == waiting_chat.ticket_id
            )
        ).one()
    assert timer.payload == {"channel_id": channel}
    assert timer.due_at == waiting_chat.offered_at + timedelta(
        seconds=ROUTING_DEFAULTS.offer_seconds
    )


def test_two_agents_with_the_same_load_take_turns(db: Database, settings: Settings) -> None:
    channel = chat_channel(db, settings)
    alex, bea = agent(db, "Alex Agent"), agent(db, "Bea Agent")
    now = utcnow()
    availability(db, alex, now)
    availability(db, bea, now)
    offered = []
    for name in ("Maria", "Noor", "Olga", "Pia"):
        conversation = visitor_writes(db, settings, channel, name)
        offered.append(offered_to(db, conversation))
        end(db, conversation, now)  # each chat is over before the next: the loads stay equal
    assert offered == [alex, bea, alex, bea]  # never offered one: the first agent first


def test_an_agent_at_their_limit_is_skipped_and_a_full_desk_keeps_the_chat_waiting(
    db: Database, settings: Settings
) -> None:
    channel = chat_channel(db, settings)
    alex, bea = agent(db, "Alex Agent"), agent(db, "Bea Agent")
    now = utcnow()
    availability(db, alex, now, limit=1)
    availability(db, bea, now, limit=2)
    take(db, alex, visitor_writes(db, settings, channel, "Maria"), now)  # Alex: 1 of 1
    assert offered_to(db, visitor_writes(db, settings, channel, "Noor")) == bea  # Bea: 1 of 2
    assert offered_to(db, visitor_writes(db, settings, channel, "Olga")) == bea  # Bea: 2 of 2

    last = visitor_writes(db, settings, channel, "Pia")
    assert offered_to(db, last) is None
    assert chat(db, last).routing == "queued" and queue(db, channel)[-1] == last

    availability(db, alex, now, limit=2)  # room again: what waits is offered at once
    assert offered_to(db, last) == alex


def test_with_nobody_available_the_chat_is_left_as_a_message_and_the_desk_says_away(
    db: Database, settings: Settings
) -> None:
    channel = chat_channel(db, settings, away_message=AWAY_TEXT)
    alex, bea = agent(db, "Alex Agent"), agent(db, "Bea Agent")
    now = utcnow()
    availability(db, alex, now, status="away")

    said = desk(db, channel, now)
    assert (said.state, said.text, said.agents_present) == ("away", AWAY_TEXT, 0)
    left = visitor_writes(db, settings, channel, "Maria")
    message = chat(db, left)
    assert message.routing == "message" and message.state == "open"
    assert message.queued_at is None and message.offered_agent_id is None
    assert queue(db, channel) == []

    availability(db, bea, now)  # an agent coming back is not offered a left message
    assert offered_to(db, left) is None and chat(db, left).routing == "message"
    said = desk(db, channel, now)
    assert (said.state, said.text, said.agents_present) == ("open", "", 1)
    with db.unit_of_work() as session, pytest.raises(Conflict):
        found = session.get(Agent, bea)
        assert found is not None
        take_chat(session, found, left, now=now)


def test_outside_the_channels_business_hours_the_desk_is_away_and_chats_are_messages(
    db: Database, settings: Settings
) -> None:
    with db.unit_of_work() as session:
        calendar = BusinessCalendar(
            name="Shop hours",
            weekly_hours={day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")},
        )
        session.add(calendar)
        session.flush()
        calendar_id = calendar.id or 0
    channel = chat_channel(db, settings, calendar_id=calendar_id, away_message=AWAY_TEXT)
    alex = agent(db, "Alex Agent")
    wednesday_noon = datetime(2025, 3, 12, 12, 0, tzinfo=UTC)
    saturday_noon = datetime(2025, 3, 15, 12, 0, tzinfo=UTC)
    wednesday_night = datetime(2025, 3, 12, 20, 0, tzinfo=UTC)
    for when, state in (
        (wednesday_noon, "open"),
        (saturday_noon, "away"),
        (wednesday_night, "away"),
    ):
        availability(db, alex, when)  # at the console then, and available
        said = desk(db, channel, when)
        assert said.state == state, when
        assert said.text == ("" if state == "open" else AWAY_TEXT)
        assert said.agents_present == 1

    now = utcnow()
    closed = [(now + timedelta(days=d)).date().isoformat() for d in (-1, 0, 1)]
    with db.unit_of_work() as session:  # the shop is closed today, whatever the weekday
        session.execute(
            update(BusinessCalendar)
            .where(col(BusinessCalendar.id) == calendar_id)
            .values(weekly_hours=EVERY_DAY, closed_dates=closed)
        )
    availability(db, alex, now)
    assert desk(db, channel, now).state == "away"
    left = visitor_writes(db, settings, channel, "Maria")
    assert chat(db, left).routing == "message" and offered_to(db, left) is None


def test_a_queue_at_its_cap_tells_new_visitors_all_agents_are_busy(
    db: Database, settings: Settings
) -> None:
    channel = chat_channel(db, settings, queue_cap=2, busy_message=BUSY_TEXT)
    alex = agent(db, "Alex Agent")
    now = utcnow()
    availability(db, alex, now, limit=1)
    first = visitor_writes(db, settings, channel, "Maria")
    assert desk(db, channel, now).state == "open"  # one waits, the cap is two

    second = visitor_writes(db, settings, channel, "Noor")
    assert chat(db, second).routing == "queued" and queue(db, channel) == [first, second]
    said = desk(db, channel, now)
    assert (said.state, said.text, said.waiting) == ("busy", BUSY_TEXT, 2)

    third = visitor_writes(db, settings, channel, "Olga")
    assert chat(db, third).routing == "message" and queue(db, channel) == [first, second]

    take(db, alex, first, now)  # room in the queue again
    assert desk(db, channel, now).state == "open"


def test_an_offer_not_taken_in_time_moves_on_to_another_agent(
    db: Database, settings: Settings
) -> None:
    channel = chat_channel(db, settings, offer_seconds=30)
    alex, bea = agent(db, "Alex Agent"), agent(db, "Bea Agent")
    now = utcnow()
    availability(db, alex, now)
    availability(db, bea, now)
    conversation = visitor_writes(db, settings, channel, "Maria")
    first = offered_to(db, conversation)
    assert first in (alex, bea)
    offered_at = chat(db, conversation).offered_at
    assert offered_at is not None

    assert route(db, channel, offered_at + timedelta(seconds=29)) is False
    assert offered_to(db, conversation) == first

    later = offered_at + timedelta(seconds=31)
    assert route(db, channel, later) is True
    moved = chat(db, conversation)
    second = bea if first == alex else alex
    assert moved.offered_agent_id == second and moved.offered_at == later

    # Nobody else free (the first is away now): the lapsed offer comes back to whoever is left.
    availability(db, first or 0, later, status="away")
    assert route(db, channel, later + timedelta(seconds=31)) is True
    assert offered_to(db, conversation) == second


def test_the_offer_timer_moves_a_lapsed_offer_on_when_nothing_else_happens(
    db: Database, settings: Settings
) -> None:
    """The ``chat_offer`` timer fires through the scheduler and a worker, at the real time:
    the offer and its timer are set back a minute instead of waiting for it."""
    channel = chat_channel(db, settings)
    alex, bea = agent(db, "Alex Agent"), agent(db, "Bea Agent")
    now = utcnow()
    availability(db, alex, now)
    availability(db, bea, now)
    conversation = visitor_writes(db, settings, channel, "Maria")
    first = offered_to(db, conversation)
    minute_ago = utcnow() - timedelta(minutes=1)
    with db.unit_of_work() as session:
        session.execute(
            update(ChatConversation)
            .where(col(ChatConversation.id) == conversation)
            .values(offered_at=minute_ago)
        )
        session.execute(
            update(Timer).where(col(Timer.kind) == OFFER_TIMER).values(due_at=minute_ago)
        )

    fire_due_timers(settings)

    assert offered_to(db, conversation) == (bea if first == alex else alex)
    with db.reading() as session:
        timers = session.exec(select(Timer).where(Timer.kind == OFFER_TIMER)).all()
    assert sorted(t.state for t in timers) == ["fired", "pending"]  # the new offer has its own


def test_an_agent_whose_console_went_quiet_for_two_minutes_loses_the_offer(
    db: Database, settings: Settings
) -> None:
    channel = chat_channel(db, settings, offer_seconds=600)  # long offers: only the console counts
    alex, bea = agent(db, "Alex Agent"), agent(db, "Bea Agent")
    now = utcnow()
    availability(db, alex, now)
    availability(db, bea, now)
    conversation = visitor_writes(db, settings, channel, "Maria")
    first = offered_to(db, conversation)
    second = bea if first == alex else alex

    with db.unit_of_work() as session:  # heard from the first agent's console a minute later
        note_console(session, first or 0, now=now + timedelta(minutes=1))
    assert route(db, channel, now + timedelta(minutes=2, seconds=30)) is False
    assert offered_to(db, conversation) == first

    # The second agent's console is heard from; the first's has been quiet for over 2 minutes.
    with db.unit_of_work() as session:
        note_console(session, second, now=now + timedelta(minutes=3, seconds=5))
    assert offered_to(db, conversation) == second
    said = desk(db, channel, now + timedelta(minutes=3, seconds=5))
    assert said.agents_present == 1


def test_taking_a_chat_assigns_its_ticket_and_the_next_visitors_move_up(
    db: Database, settings: Settings
) -> None:
    channel = chat_channel(db, settings)
    alex, bea = agent(db, "Alex Agent"), agent(db, "Bea Agent")
    now = utcnow()
    availability(db, alex, now, limit=1)
    first, second, third = (visitor_writes(db, settings, channel, n) for n in ("A", "B", "C"))
    assert [place(db, c, now)[0] for c in (first, second, third)] == [1, 2, 3]
    assert place(db, second, now)[1] is None  # no chat taken lately: nothing to estimate by

    taken = take(db, bea, first, now + timedelta(seconds=40))  # not offered to Bea: she may

    assert taken.routing == "taken" and taken.agent_id == bea
    assert taken.taken_at == now + timedelta(seconds=40) and taken.offered_agent_id is None
    assert queue(db, channel) == [second, third]
    later = now + timedelta(seconds=41)
    assert place(db, second, later)[0] == 1 and place(db, third, later)[0] == 2
    assert place(db, third, later)[1] is not None  # the first chat's wait is something to go by
    with db.reading() as session:
        ticket = session.get(Ticket, taken.ticket_id)
        assert ticket is not None and ticket.assignee_id == bea
        texts = session.exec(select(ChatEntry.text).where(ChatEntry.conversation_id == first)).all()
    assert texts[-1] == "Bea Agent joined the chat."
    assert take(db, bea, first, later).taken_at == taken.taken_at  # taking it again: no change


def test_taking_a_chat_another_agent_took_is_a_conflict_naming_them(
    db: Database, settings: Settings
) -> None:
    channel = chat_channel(db, settings)
    alex, bea = agent(db, "Alex Agent"), agent(db, "Bea Agent")
    now = utcnow()
    availability(db, alex, now)
    availability(db, bea, now)
    conversation = visitor_writes(db, settings, channel, "Maria")
    take(db, alex, conversation, now)
    with pytest.raises(Conflict, match="Alex Agent"):
        take(db, bea, conversation, now)
    taken = chat(db, conversation)
    assert taken.agent_id == alex
    with db.reading() as session:
        ticket = session.get(Ticket, taken.ticket_id)
        assert ticket is not None and ticket.assignee_id == alex


def test_a_visitor_who_leaves_while_waiting_is_a_missed_chat_and_frees_the_agent(
    db: Database, settings: Settings
) -> None:
    channel = chat_channel(db, settings)
    alex = agent(db, "Alex Agent")
    now = utcnow()
    availability(db, alex, now, limit=1)
    first = visitor_writes(db, settings, channel, "Maria")
    second = visitor_writes(db, settings, channel, "Noor")
    assert offered_to(db, first) == alex and offered_to(db, second) is None

    end(db, first, now + timedelta(seconds=5))

    missed = chat(db, first)
    assert missed.state == "ended" and missed.taken_at is None and missed.agent_id is None
    assert missed.offered_agent_id is None
    assert queue(db, channel) == [second]
    assert offered_to(db, second) == alex  # Alex's place is free again
    assert place(db, second, now)[0] == 1

    take(db, alex, second, now + timedelta(seconds=10))
    third = visitor_writes(db, settings, channel, "Olga")
    assert offered_to(db, third) is None  # Alex is at his limit with the chat he took
    end(db, second, now + timedelta(seconds=20))  # a taken chat ends: Alex is free for the next
    assert offered_to(db, third) == alex


def test_a_team_channel_offers_chats_to_its_team_members_only(
    db: Database, settings: Settings
) -> None:
    alex, bea = agent(db, "Alex Agent"), agent(db, "Bea Agent")
    team = make_team(db, "Billing", bea)
    channel = chat_channel(db, settings, team_id=team)
    now = utcnow()
    availability(db, alex, now)
    availability(db, bea, now)
    conversation = visitor_writes(db, settings, channel, "Maria")
    assert chat(db, conversation).team_id == team
    assert offered_to(db, conversation) == bea

    availability(db, bea, now, status="away")  # Alex is there, but not of the team
    assert offered_to(db, conversation) is None
    said = desk(db, channel, now)
    assert (said.state, said.agents_present) == ("away", 0)
