"""The chat section of the manager's report, over HTTP, on chats written as live chat leaves
them (``tests.support.chat_report_desk``), all on day D ten days ago, times in UTC. The desk
has its default SLA policy: a chat target of 2 minutes.

Billing's queue (the manager Max is in Billing, with the agents Ann and Bob):

- C1: queued 09:00:00, Ann takes it 09:00:30 and answers 09:00:40; ends 09:30:30.
- C2: queued 09:05:00, Ann takes it 09:06:00 and answers 09:06:10; ends 09:36:00.
- C3: queued 09:10:00, Bob takes it 09:12:00 and answers 09:13:00 (late); ends 10:12:00.
- C4: queued 10:00:00, nobody takes it; the visitor leaves 10:05:00 (past the target).
- C5: queued 10:30:00, nobody takes it; the visitor leaves 10:30:45 (within the target).
- M1: left as a message at 22:00 while the desk was away (no queue).

Fraud's queue (the agent Fay):

- F1: queued 09:00:00, Fay takes it 09:10:00 and answers 09:10:30; ends 09:40:00.
- F2: queued 11:00:00, nobody takes it; the visitor leaves 11:10:00.

As live chat routing leaves them, the tickets are of no team: only the queue says whose
chats they are.
"""

from __future__ import annotations

import csv
import html
import io
import re
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from inbox.actions.chat.channels import add_chat_channel
from inbox.actions.sla.defaults import DEFAULT_POLICY
from inbox.actions.sla.policies import PolicyFields, save_policy
from inbox.db import Database
from inbox.errors import InvalidInput
from inbox.models import Agent, AgentSession, SlaPolicy, Team, TeamMember, utcnow
from inbox.settings import Settings
from inbox.signing import SecretBox, hash_token, new_token
from inbox.web.auth import SESSION_COOKIE
from tests.support.chat_report_desk import PastChat, add_past_chat
from tests.support.desk import make_agent
from tests.support.web import Client

DAY = utcnow().date() - timedelta(days=10)
RANGE = {"from": DAY.isoformat(), "to": DAY.isoformat(), "tz": "UTC"}


def at(hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime.combine(DAY, time(hour, minute, second), tzinfo=UTC)


@pytest.fixture
def refs(db: Database, settings: Settings) -> dict[str, str]:
    """The desk of the module's story; the references of its chats by name."""
    make_agent(db, "admin@example.com", role="admin", name="Ada Admin")
    max_id, _ = make_agent(db, "manager@example.com", role="manager", name="Max Manager")
    ann, _ = make_agent(db, "ann@example.com", name="Ann Agent")
    bob, _ = make_agent(db, "bob@example.com", name="Bob Agent")
    fay, _ = make_agent(db, "fay@example.com", name="Fay Agent")
    make_agent(db, "agent@example.com", name="Alex Agent")
    with db.unit_of_work() as session:
        billing, fraud = Team(name="Billing"), Team(name="Fraud")
        session.add_all([billing, fraud])
        session.flush()
        for team, agent_id in ((billing, max_id), (billing, ann), (billing, bob), (fraud, fay)):
            session.add(TeamMember(team_id=team.id or 0, agent_id=agent_id))
        channel_id = (
            add_chat_channel(
                session, SecretBox(settings.secret_key), name="Website", origins=["https://x.test"]
            ).channel.id
            or 0
        )
        b, f = billing.id, fraud.id
        chats = {
            "C1": PastChat(
                "Card declined", at(9), b, ann, at(9, 0, 30), at(9, 0, 40), at(9, 30, 30)
            ),
            "C2": PastChat("Locked out", at(9, 5), b, ann, at(9, 6), at(9, 6, 10), at(9, 36)),
            "C3": PastChat("Refund", at(9, 10), b, bob, at(9, 12), at(9, 13), at(10, 12)),
            "C4": PastChat("Gone after five", at(10), b, ended=at(10, 5)),
            "C5": PastChat("Gone at once", at(10, 30), b, ended=at(10, 30, 45)),
            "M1": PastChat("Left a message", None, started=at(22)),
            "F1": PastChat("Chargeback", at(9), f, fay, at(9, 10), at(9, 10, 30), at(9, 40)),
            "F2": PastChat("Fraud gone", at(11), f, ended=at(11, 10)),
        }
        return {name: add_past_chat(session, channel_id, chat) for name, chat in chats.items()}


def sign_in_as(db: Database, client: Client, email: str) -> None:
    """A browser session that proved its second factor."""
    raw = new_token()
    with db.unit_of_work() as session:
        agent = session.exec(select(Agent).where(Agent.email == email)).one()
        session.add(
            AgentSession(
                token_hash=hash_token(raw),
                agent_id=agent.id or 0,
                expires_at=utcnow() + timedelta(hours=1),
                second_factor_at=utcnow(),
            )
        )
    client.cookies.set(SESSION_COOKIE, raw)


def chat_section(client: Client, **params: str) -> str:
    page = client.get("/reports", params={**RANGE, **params})
    assert page.status_code == 200, page.text
    section = page.text[page.text.index('id="chats"') :]
    return section[: section.index("</section>")]


def cells(section: str, row: str) -> list[str]:
    """The cells of the row whose header is ``row``, as text."""
    found = re.search(rf"<th scope=\"row\">{re.escape(row)}</th>(.*?)</tr>", section, re.S)
    assert found, f"no row {row!r} in {section[:3000]}"
    return [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<td>(.*?)</td>", found[1])]


def link(section: str, row: str, column: int = 0) -> str:
    """The address the ``column``-th cell of a row links to."""
    found = re.search(rf"<th scope=\"row\">{re.escape(row)}</th>(.*?)</tr>", section, re.S)
    assert found
    cell = re.findall(r"<td>(.*?)</td>", found[1])[column]
    href = re.search(r'href="([^"]+)"', cell)
    assert href, f"{row!r} has no link in column {column}: {cell}"
    return html.unescape(href[1])


def chats_behind(client: Client, address: str) -> set[str]:
    page = client.get(address)
    assert page.status_code == 200, page.text
    assert "Tickets behind the report" in page.text
    return set(re.findall(r'href="/tickets/([^"]+)"', page.text))


def named(refs: dict[str, str], *names: str) -> set[str]:
    return {refs[name] for name in names}


QUEUE = "Time in queue"
RESPONSE = "First response"
MISSED = "Missed"


def test_a_manager_reads_their_teams_chats_queued_taken_and_missed(
    refs: dict[str, str], db: Database, client: Client
) -> None:
    sign_in_as(db, client, "manager@example.com")
    section = chat_section(client)
    assert cells(section, "Started")[0] == "6"
    assert cells(section, "Queued for an agent")[0] == "5"
    assert cells(section, "Taken by an agent") == ["3", "60%"]
    assert cells(section, MISSED) == ["2", "40%"]
    assert cells(section, "Left as a message")[0] == "1"
    assert "Waiting now" not in section
    assert chats_behind(client, link(section, MISSED)) == named(refs, "C4", "C5")
    assert chats_behind(client, link(section, "Taken by an agent")) == named(refs, "C1", "C2", "C3")
    assert chats_behind(client, link(section, "Left as a message")) == {refs["M1"]}
    # Fraud's chats are not the manager's, even asked for by address.
    every = chats_behind(client, link(section, "Started"))
    assert every == named(refs, "C1", "C2", "C3", "C4", "C5", "M1")
    assert not every & named(refs, "F1", "F2")


def test_time_in_queue_and_first_response_in_seconds(
    refs: dict[str, str], db: Database, client: Client
) -> None:
    sign_in_as(db, client, "manager@example.com")
    section = chat_section(client)
    # Queued 30, 60 and 120 seconds; answered 40, 70 and 180 seconds after queueing.
    assert cells(section, QUEUE) == ["3", "60", "120"]
    assert cells(section, RESPONSE) == ["3", "70", "180"]
    assert chats_behind(client, link(section, RESPONSE)) == named(refs, "C1", "C2", "C3")
    # With Fraud's chat (600 seconds in the queue): the median of four, the 90th percentile
    # the largest (nearest rank).
    sign_in_as(db, client, "admin@example.com")
    section = chat_section(client)
    assert cells(section, QUEUE) == ["4", "90", "600"]
    assert cells(section, MISSED) == ["3", "42.9%"]


def test_chats_against_the_default_policys_chat_target(
    refs: dict[str, str], db: Database, client: Client
) -> None:
    sign_in_as(db, client, "manager@example.com")
    section = chat_section(client)
    assert "First response within 2 minutes (Default) of entering the queue." in section
    target = section[section.index("chat-target") :]
    counts = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td>(.*?)</td>", target)][:4]
    # C1 and C2 answered in time; C3 answered late and C4 left unanswered after 5 minutes;
    # C5's visitor left after 45 seconds, before the target passed.
    assert counts == ["2", "2", "1", "50%"]
    hrefs = [html.unescape(h) for h in re.findall(r'<td><a href="([^"]+)"', target)][:3]
    assert chats_behind(client, hrefs[0]) == named(refs, "C1", "C2")
    assert chats_behind(client, hrefs[1]) == named(refs, "C3", "C4")
    assert chats_behind(client, hrefs[2]) == named(refs, "C5")


def test_chats_per_agent_and_their_load(refs: dict[str, str], db: Database, client: Client) -> None:
    sign_in_as(db, client, "manager@example.com")
    section = chat_section(client)
    # Ann: two chats, answered after 40 and 70 seconds; both open from 09:06 to 09:30:30,
    # 3600 chat-seconds over the 2130 seconds she had any open.
    assert cells(section, "Ann Agent") == ["2", "55", "2", "1.69"]
    assert cells(section, "Bob Agent") == ["1", "180", "1", "1"]
    assert "Fay Agent" not in section
    assert chats_behind(client, link(section, "Ann Agent")) == named(refs, "C1", "C2")
    assert chats_behind(client, link(section, "Bob Agent")) == {refs["C3"]}


def test_concurrent_load_by_hour_of_the_day(
    refs: dict[str, str], db: Database, client: Client
) -> None:
    sign_in_as(db, client, "manager@example.com")
    section = chat_section(client)
    # 09:00-10:00: C1 and C2 open 30 minutes each, C3 48 minutes: 1.8 at once on average,
    # three at once from 09:12 to 09:30:30. 10:00-11:00: C3's last 12 minutes.
    assert cells(section, "09:00-10:00") == ["3", "1.8", "3"]
    assert cells(section, "10:00-11:00") == ["1", "0.2", "1"]
    rows = re.findall(r'<th scope="row">(\d\d:00-\d\d:00)</th>', section)
    assert rows == ["09:00-10:00", "10:00-11:00"]  # hours without chats are in the chart only
    assert chats_behind(client, link(section, "10:00-11:00")) == {refs["C3"]}
    assert section.count("<svg") == 1
    assert "/reports/tickets?" in section.split("<svg", 1)[1] and "hour=9" in section
    # Over the two days D and D+1 the average halves; the most at once stays.
    two_days = chat_section(client, to=(DAY + timedelta(days=1)).isoformat())
    assert cells(two_days, "09:00-10:00") == ["3", "0.9", "3"]
    # In Berlin the same chats fall in other hours of the day.
    berlin = ZoneInfo("Europe/Berlin")
    nine = at(9).astimezone(berlin).hour
    local = chat_section(client, tz="Europe/Berlin")
    assert cells(local, f"{nine:02d}:00-{nine + 1:02d}:00")[0] == "3"
    assert "Concurrent load by hour of the day (Europe/Berlin)" in local


def test_the_admin_sees_every_queue(refs: dict[str, str], db: Database, client: Client) -> None:
    sign_in_as(db, client, "admin@example.com")
    section = chat_section(client)
    assert cells(section, "Started")[0] == "8"
    assert cells(section, "Fay Agent") == ["1", "630", "1", "1"]
    # Fay's chat runs from 09:10 to 09:40: four open at once from 09:12 to 09:30:30.
    assert cells(section, "09:00-10:00") == ["4", "2.3", "4"]
    assert chats_behind(client, link(section, MISSED)) == named(refs, "C4", "C5", "F2")


def test_the_chats_download_has_a_row_per_chat_of_the_viewer(
    refs: dict[str, str], db: Database, client: Client
) -> None:
    sign_in_as(db, client, "manager@example.com")
    section = chat_section(client)
    found = re.search(r'href="(/reports/chats\.csv[^"]+)"', section)
    assert found
    download = client.get(html.unescape(found[1]))
    assert download.status_code == 200
    assert "attachment" in download.headers["content-disposition"]
    rows = {r["reference"]: r for r in csv.DictReader(io.StringIO(download.text))}
    assert set(rows) == named(refs, "C1", "C2", "C3", "C4", "C5", "M1")
    c3 = rows[refs["C3"]]
    assert (c3["team"], c3["agent"], c3["channel"]) == ("Billing", "Bob Agent", "Website")
    assert (c3["queue_seconds"], c3["first_response_seconds"]) == ("120", "180")
    assert (c3["policy"], c3["chat_target_minutes"], c3["chat_target"]) == (
        "Default",
        "2",
        "breached",
    )
    assert rows[refs["C4"]]["missed"] == "yes" and rows[refs["C4"]]["queue_seconds"] == ""
    assert rows[refs["M1"]]["routing"] == "message" and rows[refs["M1"]]["chat_target"] == ""


def test_agents_get_403_and_bad_drilldowns_422(
    refs: dict[str, str], db: Database, client: Client
) -> None:
    sign_in_as(db, client, "agent@example.com")
    assert client.get("/reports/chats.csv", params=RANGE).status_code == 403
    assert client.get("/reports/tickets", params={**RANGE, "chat": "missed"}).status_code == 403
    sign_in_as(db, client, "manager@example.com")
    for params in (
        {"chat": "bored"},
        {"chat": "load", "hour": "24"},
        {"chat": "taken", "agent": "x"},
    ):
        assert client.get("/reports/tickets", params={**RANGE, **params}).status_code == 422


def test_a_range_without_chats_says_so(db: Database, client: Client) -> None:
    make_agent(db, "manager@example.com", role="manager", name="Max Manager")
    sign_in_as(db, client, "manager@example.com")
    section = chat_section(client)
    assert "No chats started in this range." in section
    assert "<svg" not in section


def test_the_default_policys_chat_target_is_edited_with_the_policy(db: Database) -> None:
    with db.unit_of_work() as session:
        policy = session.exec(select(SlaPolicy).where(SlaPolicy.name == DEFAULT_POLICY)).one()
        assert policy.chat_target_minutes == 2
        fields = PolicyFields(name=DEFAULT_POLICY, position=1000, first_response_minutes=240)
        for target in (0, 60 * 24 * 366):
            with pytest.raises(InvalidInput):
                save_policy(
                    session,
                    replace(fields, chat_target_minutes=target),
                    actor=None,
                    policy_id=policy.id,
                )
        save_policy(
            session, replace(fields, chat_target_minutes=5), actor=None, policy_id=policy.id
        )
    with db.reading() as session:
        policy = session.exec(select(SlaPolicy).where(SlaPolicy.name == DEFAULT_POLICY)).one()
        assert (policy.first_response_minutes, policy.chat_target_minutes) == (240, 5)
    with db.unit_of_work() as session:  # sent whole: no chat target is none
        save_policy(session, fields, actor=None, policy_id=policy.id)
    with db.reading() as session:
        assert session.get(SlaPolicy, policy.id).chat_target_minutes is None  # type: ignore[union-attr]
