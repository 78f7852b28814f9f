"""The agent's chat console at /chats: setting availability, a chat offered and taken, the
agent's own chats, ending one; a team's queue is not shown to another team's agents; and
a channel's routing set with ``inbox channel chat-routing``; a live chat left idle ends."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlmodel import select

from inbox.actions.chat.messages import take_visitor_message
from inbox.actions.chat.routing import IDLE_TIMER, end_if_idle, set_availability, transfer_chat
from inbox.blobs import BlobStore
from inbox.db import Database
from inbox.models import (
    Agent,
    AgentChatStatus,
    AuditEvent,
    BusinessCalendar,
    Channel,
    ChatConversation,
    ChatEntry,
    ChatVisitor,
    Message,
    Ticket,
    Timer,
    utcnow,
)
from inbox.queries.chat_queue import desk_availability
from inbox.settings import Settings
from tests.support.chat_desk import chat_channel, visitor_writes
from tests.support.desk import make_agent, make_team
from tests.support.processes import run_cli, run_cli_unchecked
from tests.support.web import Client, csrf_token, post_form, sign_in

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _chat_channel(db: Database, settings: Settings, **config: object) -> int:
    return chat_channel(db, settings, name="Website", **config)


def _visitor_writes(db: Database, settings: Settings, channel_id: int, name: str) -> str:
    """A new visitor's first message; the reference of the ticket it opened."""
    return visitor_writes(db, settings, channel_id, name, text=f"{name} cannot sign in").reference


def _conversation(db: Database, reference: str) -> ChatConversation:
    with db.reading() as session:
        return session.exec(
            select(ChatConversation)
            .join(Ticket, Ticket.id == ChatConversation.ticket_id)  # type: ignore[arg-type]
            .where(Ticket.reference == reference)
        ).one()


def test_an_available_agent_is_offered_a_chat_takes_it_and_ends_it(
    db: Database, settings: Settings, client: Client
) -> None:
    agent_id, _ = make_agent(db, email="ann@example.com", name="Ann Agent")
    channel_id = _chat_channel(db, settings)
    sign_in(client, "ann@example.com")
    page = client.get("/chats")
    assert page.status_code == 200
    assert "You are offline: no chats are offered to you." in page.text

    # Nobody available: the chat is left as a message, not queued.
    early = _visitor_writes(db, settings, channel_id, "Early Bird")
    assert _conversation(db, early).routing == "message"

    answer = post_form(
        client, "/chats/availability", "/chats", {"status": "available", "limit": "2"}
    )
    assert answer.status_code == 303
    with db.reading() as session:
        status = session.get(AgentChatStatus, agent_id)
        assert status is not None and (status.status, status.chat_limit) == ("available", 2)
    assert "You are offered new chats, up to 2 at once." in client.get("/chats").text

    reference = _visitor_writes(db, settings, channel_id, "Maria Lopez")
    waiting = _conversation(db, reference)
    assert (waiting.routing, waiting.offered_agent_id) == ("queued", agent_id)
    panel = client.get("/chats/panel").text
    offered = panel.split('id="offered-heading"')[1].split("</section>")[0]
    assert "Maria Lopez" in offered and "Take chat" in offered
    assert "Early Bird" not in panel  # a message left while away is not a chat to take

    taken = post_form(client, f"/chats/{waiting.id}/take", "/chats", {})
    assert taken.status_code == 303 and taken.headers["location"] == f"/tickets/{reference}"
    conversation = _conversation(db, reference)
    assert (conversation.routing, conversation.agent_id) == ("taken", agent_id)
    with db.reading() as session:
        ticket = session.exec(select(Ticket).where(Ticket.reference == reference)).one()
        assert ticket.assignee_id == agent_id
        said = [
            e.text
            for e in session.exec(
                select(ChatEntry).where(ChatEntry.conversation_id == conversation.id)
            )
        ]
    assert "Ann Agent joined the chat." in said
    mine = client.get("/chats").text.split('id="mine-heading"')[1].split("</section>")[0]
    assert reference in mine and "Maria Lopez" in mine

    ended = post_form(client, f"/tickets/{reference}/chat/end", "/chats", {"back": "chats"})
    assert ended.status_code == 303 and ended.headers["location"] == "/chats"
    assert _conversation(db, reference).state == "ended"
    assert "You have no open chat." in client.get("/chats").text


def test_a_limit_out_of_range_is_refused_on_the_page(
    db: Database, settings: Settings, client: Client
) -> None:
    make_agent(db, email="ann@example.com", name="Ann Agent")
    sign_in(client, "ann@example.com")
    refused = post_form(client, "/chats/availability", "/chats", {"limit": "50"})
    assert refused.status_code == 422
    assert "a chat limit is 1 to 20" in refused.text


def test_a_teams_queue_is_offered_and_shown_to_its_members_only(
    db: Database, settings: Settings, client: Client
) -> None:
    member_id, _ = make_agent(db, email="mia@example.com", name="Mia Member")
    make_agent(db, email="otto@example.com", name="Otto Other")
    team_id = make_team(db, "Payments", member_id)
    channel_id = _chat_channel(db, settings, team_id=team_id)
    sign_in(client, "otto@example.com")
    post_form(client, "/chats/availability", "/chats", {"status": "available"})
    with db.unit_of_work() as session:  # Mia is at her console too
        mia = session.get(Agent, member_id)
        assert mia is not None
        set_availability(session, mia, status="available", now=utcnow())

    reference = _visitor_writes(db, settings, channel_id, "Maria Lopez")
    assert _conversation(db, reference).offered_agent_id == member_id
    assert "Maria Lopez" not in client.get("/chats/panel").text
    assert "Nobody is waiting." in client.get("/chats/panel").text


def test_chat_routing_is_set_from_the_command_line_and_changes_what_visitors_are_told(
    env: dict[str, str], db: Database, settings: Settings
) -> None:
    channel_id = _chat_channel(db, settings)
    make_team(db, "Payments")
    with db.unit_of_work() as session:
        today = utcnow().date()
        session.add(  # open every day, but closed today (and either side of midnight)
            BusinessCalendar(
                name="Never",
                weekly_hours={d: [["00:00", "23:59"]] for d in WEEKDAYS},
                closed_dates=[(today + timedelta(days=n)).isoformat() for n in (-1, 0, 1)],
            )
        )
    out = run_cli(
        env,
        "channel",
        "chat-routing",
        "--name",
        "Website",
        "--team",
        "Payments",
        "--calendar",
        "Never",
        "--queue-cap",
        "5",
        "--away-message",
        "Back at nine; leave a message.",
    )
    assert "queue: team Payments" in out and "hours: calendar Never" in out
    assert "queue cap: 5" in out and "away message: Back at nine; leave a message." in out
    with db.reading() as session:
        channel = session.get(Channel, channel_id)
        assert channel is not None
        told = desk_availability(session, channel, utcnow())
        audited = session.exec(select(AuditEvent.action)).all()
    assert (told.state, told.text) == ("away", "Back at nine; leave a message.")
    assert "channel.chat_routing" in audited
    refused = run_cli_unchecked(
        env, "channel", "chat-routing", "--name", "Website", "--team", "Nope"
    )
    assert refused.returncode != 0 and "no team named 'Nope'" in refused.stderr


def test_a_live_chat_idle_for_the_channels_idle_time_ends_and_leaves_the_queue(
    db: Database, settings: Settings
) -> None:
    agent_id, _ = make_agent(db, email="ann@example.com", name="Ann Agent")
    channel_id = _chat_channel(db, settings, idle_seconds=600)
    with db.unit_of_work() as session:
        ann = session.get(Agent, agent_id)
        assert ann is not None
        set_availability(session, ann, status="available", now=utcnow())
    reference = _visitor_writes(db, settings, channel_id, "Maria Lopez")
    waiting = _conversation(db, reference)
    assert waiting.offered_agent_id == agent_id
    with db.reading() as session:
        timer = session.exec(
            select(Timer).where(Timer.kind == IDLE_TIMER, Timer.ticket_id == waiting.ticket_id)
        ).one()
    assert abs(timer.due_at - waiting.last_activity_at - timedelta(seconds=600)) < timedelta(
        seconds=1
    )

    with db.unit_of_work() as session:  # not idle yet: looked at again when it would be
        again = end_if_idle(session, waiting.id or 0, now=utcnow() + timedelta(seconds=300))
    assert again == waiting.last_activity_at + timedelta(seconds=600)
    assert _conversation(db, reference).state == "open"

    with db.unit_of_work() as session:
        later = utcnow() + timedelta(seconds=601)
        assert end_if_idle(session, waiting.id or 0, now=later) is None
    ended = _conversation(db, reference)
    assert (ended.state, ended.offered_agent_id, ended.taken_at) == ("ended", None, None)
    with db.reading() as session:
        lines = session.exec(select(Message.body_text).where(Message.ticket_id == ended.ticket_id))
        assert any("chat ended by its idle time" in line for line in lines)


def test_an_agent_passes_a_chat_to_a_colleague_who_passes_it_to_a_teams_queue(
    db: Database, settings: Settings, client: Client
) -> None:
    ann_id, _ = make_agent(db, email="ann@example.com", name="Ann Agent")
    bea_id, _ = make_agent(db, email="bea@example.com", name="Bea Agent")
    mia_id, _ = make_agent(db, email="mia@example.com", name="Mia Member")
    team_id = make_team(db, "Payments", mia_id)
    channel_id = _chat_channel(db, settings)
    with db.unit_of_work() as session:
        for agent_id in (ann_id, mia_id):
            found = session.get(Agent, agent_id)
            assert found is not None
            set_availability(session, found, status="available", now=utcnow())
    reference = _visitor_writes(db, settings, channel_id, "Maria Lopez")
    sign_in(client, "ann@example.com")
    post_form(client, f"/chats/{_conversation(db, reference).id}/take", "/chats", {})
    page = client.get(f"/tickets/{reference}").text
    assert "Pass the chat to" in page and f'value="agent:{bea_id}"' in page
    ticket_page = f"/tickets/{reference}"
    refused = post_form(client, f"{ticket_page}/chat/transfer", ticket_page, {"to": "nobody"})
    assert refused.status_code == 422

    passed = post_form(
        client, f"{ticket_page}/chat/transfer", ticket_page, {"to": f"agent:{bea_id}"}
    )
    assert passed.status_code == 303
    chat = _conversation(db, reference)
    assert (chat.routing, chat.agent_id) == ("taken", bea_id)
    with db.reading() as session:
        ticket = session.exec(select(Ticket).where(Ticket.reference == reference)).one()
        said = list(
            session.exec(select(ChatEntry.text).where(ChatEntry.conversation_id == chat.id))
        )
    assert ticket.assignee_id == bea_id
    assert "Ann Agent passed the chat to Bea Agent." in said

    with db.unit_of_work() as session:  # Bea passes it on to the team's queue
        bea = session.get(Agent, bea_id)
        assert bea is not None
        transfer_chat(session, bea, chat.id or 0, now=utcnow(), to_team_id=team_id)
    chat = _conversation(db, reference)
    assert (chat.routing, chat.agent_id, chat.team_id) == ("queued", None, team_id)
    assert chat.offered_agent_id == mia_id  # the team's available member, not Ann


def test_the_console_sits_in_the_inbox_panes_and_a_chat_taken_there_opens_beside_it(
    db: Database, settings: Settings, client: Client
) -> None:
    make_agent(db, email="ann@example.com", name="Ann Agent")
    sign_in(client, "ann@example.com")
    assert 'data-view="chats"' not in client.get("/tickets").text  # a desk without chat

    channel_id = _chat_channel(db, settings)
    post_form(client, "/chats/availability", "/chats", {"status": "available"})
    first = _visitor_writes(db, settings, channel_id, "Maria Lopez")
    _visitor_writes(db, settings, channel_id, "Omar Haddad")

    page = client.get("/chats").text
    assert 'class="views"' in page and 'id="ticket-pane"' in page and "No chat open" in page
    entry = page.split('data-view="chats"')[1].split("</li>")[0]
    assert "Chat console" in entry and '<span class="count"' in entry
    assert entry.split('<span class="count"')[1].split(">")[1].startswith("2<")  # two waiting
    inbox_entry = client.get("/tickets").text.split('data-view="chats"')[1].split("</li>")[0]
    assert '<span class="count"' in inbox_entry

    taken = client.post(
        f"/chats/{_conversation(db, first).id}/take",
        data={"open_in": "pane", "_csrf_token": csrf_token(page)},
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver.local/chats"},
    )
    assert taken.status_code == 200
    opened = json.loads(taken.headers["HX-Location"])
    assert opened == {"path": f"/tickets/{first}", "target": "#ticket-pane", "select": "#ticket"}
    assert taken.headers["HX-Trigger"] == "chats-changed"
    panel = client.get("/chats/panel").text
    mine = panel.split('id="mine-heading"')[1].split("</section>")[0]
    assert f'data-reference="{first}"' in mine and 'hx-target="#ticket-pane"' in mine
    sidebar = panel.split('id="chats-view"')[1].split("</li>")[0]  # sent along out of band
    assert 'hx-swap-oob="outerHTML"' in sidebar and ">2</span>" in sidebar

    client.get(f"/tickets/{first}")  # Ann reads the chat, then Maria writes again
    with db.unit_of_work() as session:
        visitor = session.get(ChatVisitor, _conversation(db, first).visitor_id)
        assert visitor is not None
        take_visitor_message(
            session,
            settings,
            BlobStore(settings.blob_dir),
            visitor=visitor,
            client_id="again",
            text="Are you there?",
        )
    counts = client.get("/inbox/counts", params={"current": "/chats"}).text
    item, entry = counts.split('data-view="chats"')[:2]
    assert 'class="view current"' in item.rsplit("<li", 1)[1]
    assert "1<span" in entry.split('title="unread chat messages">')[1]
    assert entry.split('<span class="count"')[1].split(">")[1].startswith("2<")  # 1 + 1
