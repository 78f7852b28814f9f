"""A fresh desk has a default SLA policy, so clocks run and reports fill from the first
ticket: first-response and resolution targets per priority, round the clock until an
administrator sets business hours. It can be edited, not deleted while it is the only
policy, and ``inbox demo`` keeps its own policies."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from sqlmodel import col, select

from inbox.actions.sla.defaults import DEFAULT_TARGETS
from inbox.db import Database
from inbox.migrate import upgrade_database
from inbox.models import AuditEvent, BusinessCalendar, SlaClock, SlaPolicy
from inbox.queries.sla import list_policies
from tests.support.desk import (
    confirm_second_factor,
    make_agent,
    make_channel,
    new_ticket,
    ticket_by_reference,
)
from tests.support.desks import InProcessDesk
from tests.support.processes import run_cli
from tests.support.web import Client, csrf_token, sign_in


def test_a_new_database_starts_with_the_default_policy(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'desk' / 'inbox.sqlite3'}"
    upgrade_database(url)  # what `inbox db upgrade` and the first `inbox serve` do
    upgrade_database(url)
    db = Database(url)
    try:
        with db.reading() as session:
            (policy,) = list_policies(session)
            calendar = session.get(BusinessCalendar, policy.calendar_id)
    finally:
        db.dispose()
    assert (policy.name, policy.enabled, policy.position) == ("Default", True, 1000)
    assert policy.priorities == policy.channel_kinds == policy.team_ids == []  # every ticket
    assert policy.priority_targets == {
        priority: {"first_response": first, "resolution": resolution}
        for priority, (first, resolution) in DEFAULT_TARGETS.items()
    }
    assert calendar is not None and (calendar.name, calendar.always_open) == (
        "Business hours",
        True,
    )


def _clocks(client: Client, token: str, reference: str) -> dict[str, dict[str, object]]:
    ticket = client.get(
        f"/api/v1/tickets/{reference}", headers={"Authorization": f"Bearer {token}"}
    ).json()
    return ticket["sla"]


def _due(clock: dict[str, object]) -> datetime:
    return datetime.fromisoformat(str(clock["due_at"]))


def test_clocks_run_from_the_first_ticket_with_targets_by_priority(desk: InProcessDesk) -> None:
    db, settings, client = desk.db, desk.settings, desk.client
    token = make_agent(db, email="admin@example.com", role="admin", name="Ada Admin")[1]
    reference = new_ticket(db, settings, make_channel(db, settings, smtp_url=desk.peer.smtp_url()))
    desk.drain()
    created = ticket_by_reference(db, reference).created_at
    sla = _clocks(client, token, reference)
    assert set(sla) == {"first_response", "resolution"}
    assert sla["first_response"]["policy"] == "Default"
    # Round the clock: a normal ticket is due 8 hours and 3 days after it came in.
    assert _due(sla["first_response"]) - created == timedelta(hours=8)
    assert _due(sla["resolution"]) - created == timedelta(days=3)

    changed = client.patch(
        f"/api/v1/tickets/{reference}",
        json={"priority": "urgent"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert changed.status_code == 200, changed.text
    desk.drain()
    sla = _clocks(client, token, reference)
    assert _due(sla["first_response"]) - created == timedelta(hours=1)
    assert _due(sla["resolution"]) - created == timedelta(hours=8)

    # The report has the ticket from the start.
    today = date.today().isoformat()
    report = client.get(
        "/api/v1/reports/sla",
        params={"from": today, "to": today, "group_by": "policy"},
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    assert {(r["reference"], r["policy"]) for r in report["rows"]} == {(reference, "Default")}


def test_the_default_policy_is_edited_and_not_deleted_while_it_is_the_only_one(
    client: Client, db: Database
) -> None:
    admin_id = make_agent(db, email="admin@example.com", role="admin", name="Ada Admin")[0]
    sign_in(client, "admin@example.com")
    confirm_second_factor(db, admin_id)
    with db.reading() as session:
        default = session.exec(select(SlaPolicy)).one()
    page = client.get("/admin/sla")
    assert 'data-name="Default"' in page.text and 'data-name="Business hours"' in page.text
    token = csrf_token(page.text)

    refused = client.post(f"/admin/sla/policies/{default.id}/delete", data={"_csrf_token": token})
    assert refused.status_code == 409 and "only policy cannot be deleted" in refused.text
    form = client.get(f"/admin/sla/policies/{default.id}").text
    assert 'name="urgent_first_response" inputmode="numeric"' in form
    assert 'value="60"' in form  # urgent's first response, as set
    chat_target = form.split('name="chat_target_minutes"')[1].split(">")[0]
    assert 'value="2"' in chat_target  # the default policy's chat target
    saved = client.post(
        f"/admin/sla/policies/{default.id}",
        data={
            "name": "Default",
            "position": "1000",
            "enabled": "yes",
            "calendar_id": str(default.calendar_id),
            "first_response_minutes": "240",
            "resolution_minutes": "1440",
            "urgent_first_response": "30",
            "urgent_resolution": "240",
            "chat_target_minutes": "5",
            "warn_percents": "75 90",
            "_csrf_token": token,
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    with db.reading() as session:
        edited = session.get(SlaPolicy, default.id)
        assert edited is not None
        assert edited.priority_targets == {"urgent": {"first_response": 30, "resolution": 240}}
        assert (edited.first_response_minutes, edited.resolution_minutes) == (240, 1440)
        assert edited.chat_target_minutes == 5

    client.post(
        "/admin/sla/policies",
        data={"name": "Ours", "first_response_minutes": "60", "_csrf_token": token},
    )
    deleted = client.post(
        f"/admin/sla/policies/{default.id}/delete",
        data={"_csrf_token": token},
        follow_redirects=False,
    )
    assert deleted.status_code == 303
    page = client.get("/admin/sla").text
    assert 'data-name="Ours"' in page and 'data-name="Default"' not in page
    with db.reading() as session:
        audit = session.exec(
            select(AuditEvent).where(AuditEvent.action == "sla.policy_deleted")
        ).one()
        (ours,) = list_policies(session)
    assert audit.detail == {"name": "Default"} and audit.actor_label == "admin@example.com"
    # Now "Ours" is the only one left.
    assert (
        client.post(
            f"/admin/sla/policies/{ours.id}/delete", data={"_csrf_token": token}
        ).status_code
        == 409
    )


def test_demo_keeps_its_own_policies(env: dict[str, str], db: Database) -> None:
    run_cli(env, "demo")
    with db.reading() as session:
        names = [p.name for p in list_policies(session)]
        governing = set(
            session.exec(
                select(SlaPolicy.name).join(SlaClock, col(SlaClock.policy_id) == col(SlaPolicy.id))
            ).all()
        )
    assert names == ["Urgent", "Standard", "Default"]  # tried in this order: Default last
    assert governing and governing <= {"Urgent", "Standard"}
