"""SLA clocks on real tickets: set up through the real actions, replayed at chosen moments.

The desk works Monday to Friday, 09:00-17:00 in Berlin. Every story happens in a week a
little ahead of today, so nothing is due in the real present. Each step of a story happens
now and is then moved to the moment the story says; ``recompute_sla`` takes the present as
a parameter, and timers fire when the test moves the clock, never by sleeping.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import dramatiq
import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import update
from sqlmodel import col, select

from inbox.actions.sla.policies import (
    CalendarFields,
    PolicyFields,
    save_calendar,
    save_policy,
    tag_customer,
)
from inbox.app import create_app
from inbox.db import Database
from inbox.models import (
    AgentSession,
    BusinessCalendar,
    SlaClock,
    SlaPolicy,
    Ticket,
    Timer,
    utcnow,
)
from inbox.settings import Settings
from inbox.signing import hash_token, new_token
from inbox.web.auth import SESSION_COOKIE
from tests.support.desk import make_agent, make_channel
from tests.support.desks import InProcessDesk, drain
from tests.support.sla_story import Story
from workers.runtime import Runtime
from workers.timers import run_due_timers

Client = TestClient[Litestar]
BERLIN = ZoneInfo("Europe/Berlin")
OFFICE_HOURS = {day: [("09:00", "17:00")] for day in ("mon", "tue", "wed", "thu", "fri")}


def _monday() -> date:
    today = datetime.now(BERLIN).date()
    return today + timedelta(days=7 + (7 - today.weekday()) % 7)


MONDAY = _monday()


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """``day`` 0 is Monday of the story's week, Berlin time."""
    local = datetime.combine(MONDAY + timedelta(days=day), datetime.min.time())
    return local.replace(hour=hour, minute=minute, tzinfo=BERLIN).astimezone(UTC)


def _desk(db: Database, settings: Settings) -> Story:
    channel_id = make_channel(db, settings)
    make_agent(db, email="alex@example.com", role="admin")
    with db.unit_of_work() as session:
        office = save_calendar(
            session,
            CalendarFields(
                name="Berlin office", timezone="Europe/Berlin", weekly_hours=OFFICE_HOURS
            ),
            actor=None,
        )
        save_policy(
            session,
            PolicyFields(
                name="Urgent",
                position=0,
                priorities=["urgent"],
                calendar_id=office.id,
                first_response_minutes=15,
                next_response_minutes=30,
                resolution_minutes=120,
            ),
            actor=None,
        )
        standard = save_policy(
            session,
            PolicyFields(
                name="Standard",
                position=10,
                calendar_id=office.id,
                first_response_minutes=60,
                next_response_minutes=120,
                resolution_minutes=960,
            ),
            actor=None,
        )
    return Story(db, settings, channel_id, "alex@example.com", standard.id or 0)


@pytest.fixture
def story(db: Database, settings: Settings) -> Story:
    return _desk(db, settings)


def _due(sla: dict[str, dict[str, object]], target: str) -> datetime | None:
    value = sla[target]["due_at"]
    return datetime.fromisoformat(str(value)) if value else None


def test_a_new_ticket_has_running_clocks_due_in_business_hours(story: Story) -> None:
    story.opened(at(0, 9))
    sla = story.recompute(at(0, 9, 10))
    assert set(sla) == {"first_response", "resolution"}
    assert sla["first_response"]["state"] == "running"
    assert _due(sla, "first_response") == at(0, 10)
    assert sla["first_response"]["remaining_minutes"] == 50
    assert _due(sla, "resolution") == at(1, 17)  # 16 business hours: two working days
    assert story.due_at() == at(0, 10)


def test_a_ticket_opened_friday_afternoon_is_due_monday_morning(story: Story) -> None:
    story.opened(at(4, 16, 30))
    sla = story.recompute(at(4, 16, 31))
    assert _due(sla, "first_response") == at(7, 9, 30)


def test_an_agent_reply_meets_the_first_response_target(story: Story) -> None:
    story.opened(at(0, 9))
    story.agent_notes(at(0, 9, 20))  # an internal note is no answer
    assert story.recompute(at(0, 9, 25))["first_response"]["state"] == "running"
    story.agent_replies(at(0, 9, 40))
    sla = story.recompute(at(0, 9, 45))
    assert sla["first_response"]["state"] == "met"
    assert sla["first_response"]["remaining_minutes"] == 20
    assert story.due_at() == at(1, 17)  # only the resolution is left to run
    assert ("first_response", 1, "met", at(0, 9, 40)) in story.events()


def test_a_call_that_reached_the_customer_is_a_response_and_no_answer_is_not(
    story: Story,
) -> None:
    story.opened(at(0, 9))
    story.agent_calls(at(0, 9, 10), outcome="no_answer")
    assert story.recompute(at(0, 9, 15))["first_response"]["state"] == "running"
    story.agent_calls(at(0, 9, 30), outcome="callback_needed")
    assert story.recompute(at(0, 9, 35))["first_response"]["state"] == "met"


def test_a_customer_reply_after_an_answer_starts_the_next_response_clock(story: Story) -> None:
    story.opened(at(0, 9))
    story.agent_replies(at(0, 9, 30))
    story.customer_writes(at(0, 11))
    sla = story.recompute(at(0, 11, 5))
    assert sla["next_response"]["state"] == "running"
    assert _due(sla, "next_response") == at(0, 13)
    assert story.due_at() == at(0, 13)
    story.agent_replies(at(0, 12))
    assert story.recompute(at(0, 12, 5))["next_response"]["state"] == "met"
    story.customer_writes(at(0, 16))
    sla = story.recompute(at(0, 16, 5))
    assert (sla["next_response"]["cycle"], sla["next_response"]["state"]) == (2, "running")
    assert _due(sla, "next_response") == at(1, 10)  # one hour today, one tomorrow
    kinds = [(t, c, k) for t, c, k, _ in story.events() if t == "next_response"]
    assert kinds == [
        ("next_response", 1, "started"),
        ("next_response", 1, "met"),
        ("next_response", 2, "started"),
    ]


def test_waiting_on_the_customer_pauses_and_their_answer_resumes(story: Story) -> None:
    story.opened(at(0, 9))
    story.agent_replies(at(0, 10), status_after="waiting on customer")
    sla = story.recompute(at(1, 12))
    assert sla["resolution"]["state"] == "paused"
    assert sla["resolution"]["due_at"] is None
    assert sla["resolution"]["remaining_minutes"] == 15 * 60  # one of sixteen hours used
    assert story.due_at() is None
    story.customer_writes(at(2, 9))  # Wednesday morning: the ticket opens again
    sla = story.recompute(at(2, 9, 1))
    assert sla["resolution"]["state"] == "running"
    assert _due(sla, "resolution") == at(3, 16)  # 15 hours: Wednesday and 7 on Thursday
    assert _due(sla, "next_response") == at(2, 11)
    resolution = [(k, when) for t, _, k, when in story.events() if t == "resolution"]
    assert resolution == [
        ("started", at(0, 9)),
        ("paused", at(0, 10)),
        ("resumed", at(2, 9)),
    ]


def test_resolving_stops_the_clock_and_reopening_resumes_it(story: Story) -> None:
    story.opened(at(0, 9))
    story.agent_replies(at(0, 9, 30))
    story.changed(at(0, 11), status="resolved")
    sla = story.recompute(at(1, 9))
    assert sla["resolution"]["state"] == "met"
    assert sla["resolution"]["remaining_minutes"] == 14 * 60
    assert story.due_at() is None
    story.changed(at(2, 9), status="open")
    sla = story.recompute(at(2, 9, 1))
    assert sla["resolution"]["state"] == "running"
    assert _due(sla, "resolution") == at(3, 15)  # the 14 hours left, from Wednesday 09:00
    assert story.due_at() == at(3, 15)


def test_a_missed_target_is_breached_at_its_deadline(story: Story) -> None:
    story.opened(at(0, 9))
    sla = story.recompute(at(0, 10, 30))
    assert sla["first_response"]["state"] == "breached"
    assert sla["first_response"]["remaining_minutes"] == -30
    story.agent_replies(at(0, 11))
    sla = story.recompute(at(0, 11, 5))
    assert sla["first_response"]["state"] == "breached"  # answered late stays breached
    assert ("first_response", 1, "breached", at(0, 10)) in story.events()


def test_changing_the_policy_mid_flight_recomputes_the_due_time(story: Story) -> None:
    story.opened(at(0, 9))
    assert _due(story.recompute(at(0, 9, 10)), "first_response") == at(0, 10)
    with story.db.unit_of_work() as session:
        standard = session.get(SlaPolicy, story.standard_id)
        assert standard is not None
        save_policy(
            session,
            PolicyFields(
                name="Standard",
                position=10,
                calendar_id=standard.calendar_id,
                first_response_minutes=30,
                next_response_minutes=120,
                resolution_minutes=960,
            ),
            actor=None,
            policy_id=standard.id,
        )
    sla = story.recompute(at(0, 9, 20))
    assert _due(sla, "first_response") == at(0, 9, 30)
    assert story.due_at() == at(0, 9, 30)


def test_a_priority_change_picks_another_policy(story: Story) -> None:
    story.opened(at(0, 9))
    story.recompute(at(0, 9, 1))
    story.changed(at(0, 9, 5), priority="urgent")
    sla = story.recompute(at(0, 9, 6))
    assert sla["first_response"]["policy"] == "Urgent"
    assert _due(sla, "first_response") == at(0, 9, 15)
    assert any(k == "policy_changed" for _, _, k, _ in story.events())


def test_a_customer_tag_picks_its_policy(story: Story) -> None:
    story.opened(at(0, 9))
    with story.db.unit_of_work() as session:
        save_policy(
            session,
            PolicyFields(name="VIP", position=5, customer_tags=["vip"], first_response_minutes=5),
            actor=None,
        )
        ticket = session.get(Ticket, story.ticket_id)
        assert ticket is not None
        tag_customer(session, ticket.customer_id, "VIP")
    sla = story.recompute(at(0, 9, 1))
    assert set(sla) == {"first_response"}
    assert _due(sla, "first_response") == at(0, 9, 5)  # no calendar: round the clock


def test_recomputing_twice_changes_nothing(story: Story) -> None:
    story.opened(at(0, 9))
    story.agent_replies(at(0, 9, 30))
    first = story.recompute(at(0, 9, 40))
    events = story.events()
    with story.db.reading() as session:
        timers = session.exec(select(Timer.key, Timer.due_at, Timer.state)).all()
    assert story.recompute(at(0, 9, 40)) == first
    assert story.events() == events
    with story.db.reading() as session:
        assert session.exec(select(Timer.key, Timer.due_at, Timer.state)).all() == timers
        assert len(session.exec(select(SlaClock)).all()) == 2


# --- warnings and breaches on a worker --------------------------------------------------


@pytest.fixture
def worker_story(desk: InProcessDesk) -> tuple[Story, Runtime, dramatiq.Worker]:
    return _desk(desk.db, desk.settings), desk.rt, desk.worker


def _sla_timers(db: Database) -> list[tuple[str, str, datetime]]:
    with db.reading() as session:
        return [
            (t.key or "", t.state, t.due_at)
            for t in session.exec(
                select(Timer)
                .where(col(Timer.kind).in_(("sla_warning", "sla_breach")))
                .order_by(col(Timer.due_at))
            )
        ]


def test_warnings_and_the_breach_fire_once_each(
    worker_story: tuple[Story, Runtime, dramatiq.Worker],
) -> None:
    story, rt, worker = worker_story
    story.opened(at(0, 9))
    drain(worker)
    with rt.db.reading() as session:  # the committed new ticket was recomputed by a worker
        assert len(session.exec(select(SlaClock)).all()) == 2
    story.recompute(at(0, 9, 1))
    timers = _sla_timers(rt.db)
    first = [(key.split(":", 2)[2], due) for key, _, due in timers if ":first_response:" in key]
    assert first == [
        ("first_response:1:warn75", at(0, 9, 45)),
        ("first_response:1:warn90", at(0, 9, 54)),
        ("first_response:1:breach", at(0, 10)),
    ]
    assert run_due_timers(rt, now=at(0, 9, 44)) == 0
    assert run_due_timers(rt, now=at(0, 9, 46)) == 1
    drain(worker)
    assert run_due_timers(rt, now=at(0, 9, 46)) == 0  # fired, not again
    assert run_due_timers(rt, now=at(0, 10, 1)) == 2  # 90 %, then the deadline
    drain(worker)
    assert run_due_timers(rt, now=at(0, 11)) == 0
    lines = story.system_lines()
    assert sum("75% of the first response target" in line for line in lines) == 1
    assert sum("First response target missed" in line for line in lines) == 1
    kinds = [k for t, _, k, _ in story.events() if t == "first_response"]
    assert kinds.count("breached") == 1 and kinds.count("warning_75") == 1


def test_a_timer_of_a_ticket_answered_meanwhile_does_nothing(
    worker_story: tuple[Story, Runtime, dramatiq.Worker],
) -> None:
    story, rt, worker = worker_story
    story.opened(at(0, 9))
    drain(worker)
    story.recompute(at(0, 9, 1))
    story.agent_calls(at(0, 9, 30))
    drain(worker)
    # As if the recompute after the call had not run yet: the timers are still pending.
    with rt.db.unit_of_work() as session:
        session.execute(
            update(Timer).where(col(Timer.ticket_id) == story.ticket_id).values(state="pending")
        )
    assert run_due_timers(rt, now=at(0, 10, 1)) == 3  # two warnings and the deadline
    drain(worker)
    assert not [line for line in story.system_lines() if line.startswith("SLA")]
    assert not [e for e in story.events() if e[2] in ("breached", "warning_75", "warning_90")]
    assert run_due_timers(rt, now=at(0, 11)) == 0


# --- over HTTP: the API's sla field, the ticket's clocks, the administration page ----------


@pytest.fixture
def web(settings: Settings) -> Iterator[tuple[Story, Client]]:
    app = create_app(settings, background=False)
    db = Database(settings.database_url)
    with TestClient(app) as client:
        yield _desk(db, settings), client
    db.dispose()


def _sign_in(story: Story, client: Client, email: str, role: str) -> str:
    """A browser session past its second factor; returns an API token of the same agent."""
    agent_id, api_token = make_agent(story.db, email=email, role=role, name=role.title())
    raw = new_token()
    with story.db.unit_of_work() as session:
        session.add(
            AgentSession(
                token_hash=hash_token(raw),
                agent_id=agent_id,
                expires_at=utcnow() + timedelta(hours=1),
                second_factor_at=utcnow(),
            )
        )
    client.cookies.set(SESSION_COOKIE, raw)
    return api_token


def _csrf(html: str) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert found, "form without a CSRF token"
    return found.group(1)


def test_the_api_shows_each_target_with_due_time_state_and_minutes_left(
    web: tuple[Story, Client],
) -> None:
    story, client = web
    token = _sign_in(story, client, "boss@example.com", "admin")
    story.opened(utcnow() - timedelta(minutes=1))
    with story.db.unit_of_work() as session:  # the story's calendar: round the clock now
        for policy in session.exec(select(SlaPolicy)):
            policy.calendar_id = None
            session.add(policy)
    story.recompute(utcnow())
    auth = {"Authorization": f"Bearer {token}"}
    body = client.get(f"/api/v1/tickets/{story.reference}", headers=auth).json()
    first = body["sla"]["first_response"]
    assert first["state"] == "running"
    assert 57 <= first["remaining_minutes"] <= 59
    assert datetime.fromisoformat(first["due_at"]) == story.due_at()
    assert body["sla"]["resolution"]["state"] == "running"
    listed = client.get("/api/v1/tickets", headers=auth).json()["items"]
    assert listed[0]["sla"]["first_response"]["state"] == "running"
    assert set(body) >= {"reference", "status", "customer", "messages", "sla"}


def test_the_ticket_page_fragment_shows_clocks_and_their_history(
    web: tuple[Story, Client],
) -> None:
    story, client = web
    _sign_in(story, client, "alex2@example.com", "agent")
    story.opened(at(0, 9))
    story.agent_replies(at(0, 9, 30))
    story.recompute(at(0, 9, 40))
    fragment = client.get(f"/tickets/{story.reference}/sla", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert 'data-target="first_response"' in fragment.text
    assert "sla-met" in fragment.text and "Policy: Standard" in fragment.text
    assert "first response: met" in fragment.text
    page = client.get(f"/tickets/{story.reference}/sla")
    assert "<html" in page.text and "Clock history" in page.text
    assert client.get("/tickets/HD-0000-00000/sla").status_code == 404


def test_administrators_add_and_edit_policies_and_calendars(web: tuple[Story, Client]) -> None:
    story, client = web
    _sign_in(story, client, "boss@example.com", "admin")
    page = client.get("/admin/sla")
    assert page.status_code == 200 and 'data-name="Standard"' in page.text
    added = client.post(
        "/admin/sla/calendars",
        data={
            "_csrf_token": _csrf(page.text),
            "name": "London",
            "timezone": "Europe/London",
            "weekly_hours": "mon 08:00-12:00 13:00-17:00\nfri 08:00-16:00",
            "holiday_country": "GB",
            "holiday_subdivision": "ENG",
            "closed_dates": "2027-12-24",
        },
        follow_redirects=False,
    )
    assert added.status_code == 303
    page = client.get("/admin/sla")
    assert 'data-name="London"' in page.text and "GB-ENG" in page.text
    with story.db.reading() as session:
        london = session.exec(
            select(BusinessCalendar).where(BusinessCalendar.name == "London")
        ).one()
    assert london.weekly_hours == {
        "mon": [["08:00", "12:00"], ["13:00", "17:00"]],
        "fri": [["08:00", "16:00"]],
    }
    added = client.post(
        "/admin/sla/policies",
        data={
            "_csrf_token": _csrf(page.text),
            "name": "Phone VIPs",
            "position": "1",
            "enabled": "yes",
            "channel_kinds": "phone",
            "priorities": ["high", "urgent"],
            "customer_tags": "vip",
            "first_response_minutes": "10",
            "resolution_minutes": "240",
            "warn_percents": "50 80",
            "calendar_id": str(london.id),
        },
        follow_redirects=False,
    )
    assert added.status_code == 303
    with story.db.reading() as session:
        vip = session.exec(select(SlaPolicy).where(SlaPolicy.name == "Phone VIPs")).one()
    assert (vip.priorities, vip.channel_kinds, vip.customer_tags) == (
        ["high", "urgent"],
        ["phone"],
        ["vip"],
    )
    assert (vip.warn_percents, vip.next_response_minutes, vip.calendar_id) == (
        [50, 80],
        None,
        london.id,
    )
    form = client.get(f"/admin/sla/policies/{vip.id}")
    assert 'value="Phone VIPs"' in form.text
    edited = client.post(
        f"/admin/sla/policies/{vip.id}",
        data={"_csrf_token": _csrf(form.text), "name": "Phone VIPs", "first_response_minutes": "5"},
        follow_redirects=False,
    )
    assert edited.status_code == 303
    with story.db.reading() as session:
        vip = session.exec(select(SlaPolicy).where(SlaPolicy.name == "Phone VIPs")).one()
    assert (vip.first_response_minutes, vip.enabled, vip.priorities) == (5, False, [])
    refused = client.post(
        "/admin/sla/calendars",
        data={"_csrf_token": _csrf(form.text), "name": "Mars", "timezone": "Mars/Olympus"},
    )
    assert refused.status_code == 422 and "unknown time zone" in refused.text
    assert client.post("/admin/sla/policies", data={"name": "x"}).status_code == 403  # no token


def test_only_administrators_see_the_sla_administration(web: tuple[Story, Client]) -> None:
    story, client = web
    _sign_in(story, client, "max@example.com", "manager")
    assert client.get("/admin/sla").status_code == 403
    page = client.get("/calls/new")
    forged = client.post(
        "/admin/sla/policies",
        data={"_csrf_token": _csrf(page.text), "name": "Mine", "first_response_minutes": "1"},
    )
    assert forged.status_code == 403
    with story.db.reading() as session:
        assert session.exec(select(SlaPolicy).where(SlaPolicy.name == "Mine")).first() is None


def test_editing_a_policy_recomputes_the_open_tickets_on_a_worker(
    worker_story: tuple[Story, Runtime, dramatiq.Worker],
) -> None:
    story, rt, worker = worker_story
    story.opened(at(0, 9))
    drain(worker)
    with rt.db.unit_of_work() as session:
        standard = session.get(SlaPolicy, story.standard_id)
        assert standard is not None
        fields = PolicyFields(
            name="Standard",
            position=10,
            calendar_id=standard.calendar_id,
            first_response_minutes=30,
            resolution_minutes=960,
        )
        save_policy(session, fields, actor=None, policy_id=standard.id)
    drain(worker)
    assert story.due_at() == at(0, 9, 30)
