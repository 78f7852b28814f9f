"""Failing work ends in a dead letter instead of retrying forever, and the desk shows and
tells it: ``/admin/health`` with retry and discard, ``GET /healthz?deep=1`` for monitoring,
and a mail to the administrators when something turns red, at most one an hour per cause.

The timers fail in a real worker of this process; alerts leave through the outbox to a real
SMTP peer. Runs unchanged on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, select

from inbox.actions.outbox import MAX_ATTEMPTS as OUTBOX_ATTEMPTS
from inbox.actions.outbox import claim_deliveries, sweep_due_outbox
from inbox.actions.replies import reply_to_customer
from inbox.actions.tickets import access_ticket
from inbox.actions.timers import MAX_ATTEMPTS, claim_timer, set_timer, sweep_due_timers
from inbox.db import Database
from inbox.models import (
    Agent,
    AuditEvent,
    Channel,
    InboundItem,
    Message,
    Outbox,
    Timer,
    utcnow,
)
from inbox.settings import Settings
from tests.support.desk import (
    confirm_second_factor,
    ingest,
    make_agent,
    make_channel,
    new_ticket,
)
from tests.support.desks import InProcessDesk
from tests.support.web import Client, csrf_token, sign_in
from workers.health import probe_broker, watch_health
from workers.runtime import Runtime
from workers.timers import fire_timer, timer_handler

FAR = "2999-01-01T00:00:00+00:00"
calls: list[str] = []
failing = {"on": True}


@timer_handler("test_flaky")
def _flaky(rt: Runtime, timer: object) -> datetime | None:
    calls.append("fired")
    if failing["on"]:
        raise RuntimeError("the account service said no")
    return None


def _timer(db: Database, kind: str = "test_flaky", *, due: datetime | None = None) -> int:
    with db.unit_of_work() as session:
        return set_timer(session, kind=kind, due_at=due or utcnow() + timedelta(days=1)).id or 0


def _timer_row(db: Database, timer_id: int) -> Timer:
    with db.reading() as session:
        timer = session.get(Timer, timer_id)
        assert timer is not None
        return timer


def _dead_timer(db: Database) -> int:
    """A timer whose handler failed on every attempt, fired as a worker fires it."""
    failing["on"] = True
    timer_id = _timer(db)
    for _ in range(MAX_ATTEMPTS + 3):
        fire_timer.fn(timer_id, FAR)
    return timer_id


def _admin(client: Client, db: Database) -> str:
    admin_id, token = make_agent(db, email="admin@example.com", role="admin", name="Ada Admin")
    sign_in(client, "admin@example.com")
    confirm_second_factor(db, admin_id)
    return token


def test_a_timer_that_keeps_failing_becomes_a_dead_letter(desk: InProcessDesk) -> None:
    calls.clear()
    timer_id = _dead_timer(desk.db)
    assert len(calls) == MAX_ATTEMPTS  # then never again
    timer = _timer_row(desk.db, timer_id)
    assert (timer.state, timer.attempts) == ("dead", MAX_ATTEMPTS)
    assert timer.last_error == "RuntimeError: the account service said no"
    with desk.db.unit_of_work() as session:
        assert timer_id not in sweep_due_timers(session, now=utcnow() + timedelta(days=365))


def test_the_delays_between_failed_firings_grow(desk: InProcessDesk) -> None:
    failing["on"] = True
    timer_id = _timer(desk.db)
    delays = []
    for _ in range(3):
        before = utcnow()
        fire_timer.fn(timer_id, FAR)
        delays.append((_timer_row(desk.db, timer_id).due_at - before).total_seconds())
    assert [round(d / 60) for d in delays] == [1, 2, 4]
    failing["on"] = False
    fire_timer.fn(timer_id, FAR)  # a success forgets the failures
    assert (_timer_row(desk.db, timer_id).state, _timer_row(desk.db, timer_id).attempts) == (
        "fired",
        0,
    )


def test_a_timer_whose_worker_dies_every_time_becomes_a_dead_letter(db: Database) -> None:
    """Each claim counts an attempt; a worker that dies leaves the lease to run out, and the
    sweep gives the timer up once it used every attempt, instead of enqueueing it forever."""
    timer_id = _timer(db, "test_flaky", due=utcnow() - timedelta(minutes=1))
    for _ in range(MAX_ATTEMPTS):
        with db.unit_of_work() as session:
            assert claim_timer(session, timer_id, due_by=utcnow()) is not None
            # the worker died: its lease runs out
            session.execute(
                update(Timer)
                .where(col(Timer.id) == timer_id)
                .values(lease_until=utcnow() - timedelta(seconds=1))
            )
    with db.unit_of_work() as session:
        assert sweep_due_timers(session, now=utcnow()) == []
    timer = _timer_row(db, timer_id)
    assert timer.state == "dead"
    assert "worker stopped" in (timer.last_error or "")


def test_an_outbound_message_whose_worker_dies_every_time_is_given_up(
    db: Database, settings: Settings
) -> None:
    channel_id = make_channel(db, settings)
    reference = new_ticket(db, settings, channel_id)
    agent_id, _ = make_agent(db)
    with db.unit_of_work() as session:
        agent = session.get(Agent, agent_id)
        assert agent is not None
        reply = reply_to_customer(
            session,
            settings,
            ticket=access_ticket(session, agent, reference, settings.reference_prefix),
            author=agent,
            body="On it.",
        )
        reply_id = reply.id
    with db.reading() as session:
        outbox_id = session.exec(select(Outbox.id).where(Outbox.message_id == reply_id)).one()
    for _ in range(OUTBOX_ATTEMPTS):
        with db.unit_of_work() as session:
            assert claim_deliveries(session, [outbox_id or 0])
            session.execute(
                update(Outbox)
                .where(col(Outbox.id) == outbox_id)
                .values(lease_until=utcnow() - timedelta(seconds=1))
            )
    with db.unit_of_work() as session:
        assert outbox_id not in sweep_due_outbox(session)
    with db.reading() as session:
        item = session.get(Outbox, outbox_id)
        message = session.get(Message, reply_id)
        assert item is not None and message is not None
        assert item.state == "failed" and "worker stopped" in (item.last_error or "")
        assert message.delivery == "failed"  # the agent sees it on the ticket


def _failed_outbound(db: Database, settings: Settings, channel_id: int) -> int:
    reference = new_ticket(db, settings, channel_id)
    with db.unit_of_work() as session:
        agent = session.exec(select(Agent)).first()
        assert agent is not None
        reply = reply_to_customer(
            session,
            settings,
            ticket=access_ticket(session, agent, reference, settings.reference_prefix),
            author=agent,
            body="On it.",
        )
        session.flush()
        session.execute(
            update(Outbox)
            .where(col(Outbox.message_id) == reply.id)
            .values(state="failed", attempts=10, last_error="550 no such user")
        )
        session.execute(
            update(Message).where(col(Message.id) == reply.id).values(delivery="failed")
        )
        return session.exec(select(Outbox.id).where(Outbox.message_id == reply.id)).one() or 0


def test_the_health_page_shows_what_fails_and_retries_or_discards_it(
    desk: InProcessDesk,
) -> None:
    db, settings, client = desk.db, desk.settings, desk.client
    _admin(client, db)
    channel_id = make_channel(db, settings, smtp_url=desk.peer.smtp_url())
    with db.unit_of_work() as session:
        broken = Channel(kind="email", name="Billing", address="billing@example.com")
        broken.health, broken.health_detail = "failing", "LOGIN refused: wrong password"
        session.add(broken)
    ingest(db, settings, channel_id, b"\x00\x01" * 100)  # quarantined
    dead_id = _dead_timer(db)
    outbox_id = _failed_outbound(db, settings, channel_id)

    page = client.get("/admin/health")
    assert page.status_code == 200
    html = page.text
    assert 'data-status="red"' in html
    assert 'data-cause="timers:dead" data-level="red"' in html
    assert 'data-cause="outbox:failed" data-level="red"' in html
    assert 'data-cause="quarantine" data-level="warning"' in html
    assert 'data-channel="Billing" data-level="red"' in html and "LOGIN refused" in html
    assert 'data-channel="Support" data-level="ok"' in html
    assert '<a href="/quarantine">1 inbound item</a>' in html
    assert f'data-timer="{dead_id}"' in html and "the account service said no" in html
    assert f'data-outbox="{outbox_id}"' in html and "550 no such user" in html
    assert 'data-service="broker"' in html and 'data-service="realtime"' in html

    # Retry: the timer fires again at once, now that its cause is gone.
    failing["on"] = False
    calls.clear()
    token = csrf_token(html)
    retried = client.post(
        f"/admin/health/timers/{dead_id}/retry", data={"_csrf_token": token}, follow_redirects=False
    )
    assert retried.status_code == 303
    desk.drain()
    assert calls == ["fired"] and _timer_row(db, dead_id).state == "fired"
    # Discard: the failed message leaves the page; its ticket still says it failed.
    discarded = client.post(
        f"/admin/health/outbox/{outbox_id}/discard",
        data={"_csrf_token": token},
        follow_redirects=False,
    )
    assert discarded.status_code == 303
    html = client.get("/admin/health").text
    assert f'data-timer="{dead_id}"' not in html and f'data-outbox="{outbox_id}"' not in html
    assert 'data-cause="timers:dead" data-level="ok"' in html
    # Retrying what is not a dead letter any more is refused, and nothing changes.
    again = client.post(f"/admin/health/outbox/{outbox_id}/retry", data={"_csrf_token": token})
    assert again.status_code == 409
    with db.reading() as session:
        audit = session.exec(
            select(AuditEvent.action, AuditEvent.target_id, AuditEvent.actor_label).where(
                col(AuditEvent.action).in_(["timer.retried", "outbox.discarded"])
            )
        ).all()
        discarded_row = session.get(Outbox, outbox_id)
        assert discarded_row is not None and discarded_row.state == "discarded"
    assert sorted(audit) == [
        ("outbox.discarded", str(outbox_id), "admin@example.com"),
        ("timer.retried", str(dead_id), "admin@example.com"),
    ]


def test_only_administrators_see_health_and_act_on_it(client: Client, db: Database) -> None:
    timer_id = _timer(db)
    manager_id = make_agent(db, email="max@example.com", role="manager", name="Max Manager")[0]
    sign_in(client, "max@example.com")
    confirm_second_factor(db, manager_id)
    assert client.get("/admin/health", follow_redirects=False).status_code == 403
    token = csrf_token(client.get("/tickets").text)
    refused = client.post(f"/admin/health/timers/{timer_id}/discard", data={"_csrf_token": token})
    assert refused.status_code == 403
    assert _timer_row(db, timer_id).state == "pending"


def test_healthz_deep_answers_the_page_in_json_for_an_administrators_token(
    client: Client, db: Database, settings: Settings
) -> None:
    admin_token = make_agent(db, email="admin@example.com", role="admin", name="Ada Admin")[1]
    agent_token = make_agent(db)[1]
    assert client.get("/healthz").json() == {"status": "ok"}  # liveness: no token
    assert client.get("/healthz?deep=1").status_code == 401
    bad = client.get("/healthz?deep=1", headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401
    as_agent = client.get("/healthz?deep=1", headers={"Authorization": f"Bearer {agent_token}"})
    assert as_agent.status_code == 403

    admin = {"Authorization": f"Bearer {admin_token}"}
    healthy = client.get("/healthz?deep=1", headers=admin)
    assert healthy.status_code == 200, healthy.text
    body = healthy.json()
    assert body["status"] == "ok"
    assert {c["cause"] for c in body["checks"]} >= {
        "quarantine",
        "outbox:failed",
        "outbox:stuck",
        "timers:stuck",
        "timers:dead",
        "broker",
        "realtime",
    }
    # A timer left unfired for an hour: nobody is firing timers.
    _timer(db, "test_flaky", due=utcnow() - timedelta(hours=1))
    stuck = client.get("/healthz?deep=1", headers=admin)
    assert stuck.status_code == 503
    body = stuck.json()
    assert body["status"] == "red" and body["stuck_timers"] == 1
    assert {c["cause"]: c["level"] for c in body["checks"]}["timers:stuck"] == "red"
    assert "/healthz" in client.get("/schema/openapi.json").json()["paths"]


def test_administrators_get_one_alert_mail_per_cause_an_hour(desk: InProcessDesk) -> None:
    db, settings = desk.db, desk.settings
    make_channel(db, settings, smtp_url=desk.peer.smtp_url())
    make_agent(db, email="admin@example.com", role="admin", name="Ada Admin")
    make_agent(db, email="root@example.com", role="admin", name="Rob Root")
    make_agent(db)  # an agent: never alerted
    rt = desk.rt
    t0 = utcnow()

    assert watch_health(rt, now=t0) == []  # all well: nothing to say
    dead_id = _dead_timer(db)
    mailed = watch_health(rt, now=t0 + timedelta(minutes=1))
    assert [c.cause for c in mailed] == ["timers:dead"]
    desk.drain()
    received = desk.peer.wait_for(2)
    assert sorted(r.rcpt_tos for r in received) == [("admin@example.com",), ("root@example.com",)]
    message = received[0].message
    assert message["Subject"] == "Desk health: Dead letters needs attention"
    assert message["Auto-Submitted"] == "auto-generated"
    assert f"{settings.base_url}/admin/health" in message.get_content()

    # Still red: told already. Cleared and red again within the hour: not told again yet.
    assert watch_health(rt, now=t0 + timedelta(minutes=2)) == []
    with db.unit_of_work() as session:
        session.execute(update(Timer).where(col(Timer.id) == dead_id).values(state="discarded"))
    assert watch_health(rt, now=t0 + timedelta(minutes=3)) == []
    _dead_timer(db)
    assert watch_health(rt, now=t0 + timedelta(minutes=4)) == []
    # After the hour, the new red spell is told.
    assert [c.cause for c in watch_health(rt, now=t0 + timedelta(minutes=62))] == ["timers:dead"]
    with db.reading() as session:
        kinds = session.exec(select(Outbox.kind, Outbox.recipient)).all()
    assert (
        sorted(kinds)
        == [("health_alert", "admin@example.com")] * 2 + [("health_alert", "root@example.com")] * 2
    )


def test_an_unreachable_broker_is_red() -> None:
    assert probe_broker(None).level == "ok"
    down = probe_broker("redis://127.0.0.1:1/0")
    assert down.level == "red" and "unreachable" in down.detail
    assert probe_broker("amqp://guest:guest@127.0.0.1:1/").level == "red"


def test_quarantined_mail_counts_on_the_page(
    client: Client, db: Database, settings: Settings
) -> None:
    _admin(client, db)
    channel_id = make_channel(db, settings)
    ingest(db, settings, channel_id, b"\x00\x01" * 100)
    with db.reading() as session:
        assert session.exec(select(InboundItem.state)).all() == ["quarantined"]
    assert '<a href="/quarantine">1 inbound item</a>' in client.get("/admin/health").text


def test_a_failed_message_whose_secret_was_wiped_is_not_sent_again(desk: InProcessDesk) -> None:
    """A one-time code or reset link is wiped once its mail fails: a retry would send nothing,
    and the code would not work any more. The person asks for a new one instead."""
    db, settings, client = desk.db, desk.settings, desk.client
    _admin(client, db)
    outbox_id = _failed_outbound(db, settings, make_channel(db, settings))
    with db.unit_of_work() as session:
        session.execute(
            update(Outbox).where(col(Outbox.id) == outbox_id).values(payload=b"", wiped_at=utcnow())
        )
    token = csrf_token(client.get("/admin/health").text)

    refused = client.post(f"/admin/health/outbox/{outbox_id}/retry", data={"_csrf_token": token})

    assert refused.status_code == 409
    assert "wiped" in refused.text
    with db.reading() as session:
        row = session.get(Outbox, outbox_id)
        assert row is not None and row.state == "failed"
