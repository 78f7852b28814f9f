"""The desk configured as code: teams, agents, SLA policies and calendars through ``/api/v1``
with an administrator's token, with the checks and audit entries of the admin pages, and
request bodies that take their declared fields only."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import col, select

from inbox.db import Database
from inbox.models import AuditEvent
from tests.support.desk import PASSWORD, make_agent
from tests.support.web import Client, sign_in


@pytest.fixture
def admin(db: Database) -> dict[str, str]:
    token = make_agent(db, email="admin@example.com", role="admin", name="Ada Admin")[1]
    return {"Authorization": f"Bearer {token}"}


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if status != 204 else None


def _audit(db: Database, *actions: str) -> list[tuple[str, str]]:
    with db.reading() as session:
        rows = session.exec(
            select(AuditEvent.action, AuditEvent.actor_label)
            .where(col(AuditEvent.action).in_(actions))
            .order_by(col(AuditEvent.id))
        ).all()
    return [(a, b) for a, b in rows]


def test_teams_and_agents_as_code(client: Client, db: Database, admin: dict[str, str]) -> None:
    cards = _ok(client.post("/api/v1/teams", json={"name": "Cards"}, headers=admin), 201)
    assert cards == {"id": cards["id"], "name": "Cards", "members": []}
    _ok(client.post("/api/v1/teams", json={"name": "Loans"}, headers=admin), 201)
    taken = client.post("/api/v1/teams", json={"name": "Cards"}, headers=admin)
    assert taken.status_code == 409 and taken.json()["error"] == "conflict"
    renamed = client.patch(
        f"/api/v1/teams/{cards['id']}", json={"name": "Card team"}, headers=admin
    )
    assert _ok(renamed)["name"] == "Card team"

    nora = _ok(
        client.post(
            "/api/v1/agents",
            json={
                "email": "Nora@Example.com",
                "name": "Nora New",
                "password": PASSWORD,
                "role": "manager",
                "teams": ["Card team"],
            },
            headers=admin,
        ),
        201,
    )
    assert {k: nora[k] for k in ("email", "role", "active", "teams", "two_factor")} == {
        "email": "nora@example.com",
        "role": "manager",
        "active": True,
        "teams": ["Card team"],
        "two_factor": False,
    }
    assert sign_in(client, "nora@example.com").status_code == 303  # her password works
    client.cookies.clear()
    teams = _ok(client.get("/api/v1/teams", headers=admin))["items"]
    assert {t["name"]: t["members"] for t in teams} == {
        "Card team": ["nora@example.com"],
        "Loans": [],
    }

    changed = client.patch(
        f"/api/v1/agents/{nora['id']}",
        json={"role": "agent", "teams": ["Loans", "Card team"]},
        headers=admin,
    )
    assert _ok(changed)["role"] == "agent" and changed.json()["teams"] == ["Card team", "Loans"]
    # One refused change and none is made.
    refused = client.patch(
        f"/api/v1/agents/{nora['id']}", json={"teams": [], "role": "boss"}, headers=admin
    )
    assert refused.status_code == 422
    assert _ok(client.get(f"/api/v1/agents/{nora['id']}", headers=admin))["teams"] == [
        "Card team",
        "Loans",
    ]
    nora_token = make_agent(db, email="nora2@example.com", name="Nora Two")[1]
    nora2 = next(
        a
        for a in _ok(client.get("/api/v1/agents", headers=admin))["items"]
        if a["email"] == "nora2@example.com"
    )
    _ok(client.patch(f"/api/v1/agents/{nora2['id']}", json={"active": False}, headers=admin))
    gone = client.get("/api/v1/tickets", headers={"Authorization": f"Bearer {nora_token}"})
    assert gone.status_code == 401  # deactivated: the token ends with the agent

    by_admin = [
        action
        for action, actor in _audit(
            db,
            "team.created",
            "team.renamed",
            "agent.create",
            "agent.teams_changed",
            "agent.role_changed",
            "agent.deactivated",
        )
        if actor == "admin@example.com"
    ]
    assert by_admin == [
        "team.created",
        "team.created",
        "team.renamed",
        "agent.create",
        "agent.teams_changed",
        "agent.teams_changed",
        "agent.role_changed",
        "agent.deactivated",
    ]


def test_only_administrators_configure_the_desk(
    client: Client, db: Database, admin: dict[str, str]
) -> None:
    for role in ("agent", "manager"):
        token = make_agent(db, email=f"{role}@example.com", role=role, name="Sam Someone")[1]
        headers = {"Authorization": f"Bearer {token}"}
        for method, path, body in [
            ("GET", "/api/v1/teams", None),
            ("POST", "/api/v1/teams", {"name": "Mine"}),
            ("GET", "/api/v1/agents", None),
            (
                "POST",
                "/api/v1/agents",
                {"email": "x@example.com", "name": "X", "password": PASSWORD},
            ),
            ("GET", "/api/v1/sla/policies", None),
            ("POST", "/api/v1/sla/calendars", {"name": "Mine"}),
        ]:
            answer = client.request(method, path, json=body, headers=headers)
            assert answer.status_code == 403, (role, path)
            assert answer.json()["error"] == "forbidden"
    # A browser session never opens the API.
    sign_in(client, "agent@example.com")
    assert client.get("/api/v1/teams").status_code == 401


def test_bodies_take_their_declared_fields_only(
    client: Client, db: Database, admin: dict[str, str]
) -> None:
    sneaky = client.post(
        "/api/v1/agents",
        json={
            "email": "eve@example.com",
            "name": "Eve",
            "password": PASSWORD,
            "may_unlock_accounts": True,
        },
        headers=admin,
    )
    assert sneaky.status_code == 422
    assert sneaky.json() == {"error": "invalid", "detail": "unknown field(s): may_unlock_accounts"}
    agent_id = make_agent(db)[0]
    for body in ({"password_hash": "x"}, {"is_active": False}, {"email": "new@example.com"}):
        answer = client.patch(f"/api/v1/agents/{agent_id}", json=body, headers=admin)
        assert answer.status_code == 422, body
    policy = client.post(
        "/api/v1/sla/policies",
        json={"name": "P", "first_response_minutes": 60, "deleted_at": "2020-01-01"},
        headers=admin,
    )
    assert policy.status_code == 422
    schema = client.get("/schema/openapi.json").json()
    components = schema["components"]["schemas"]
    for body in ("NewAgent", "AgentChange", "NewTeam", "SlaPolicyBody", "CalendarBody"):
        assert components[body]["additionalProperties"] is False, body
    for shape in ("Agent", "Team", "SlaPolicy", "BusinessCalendar"):
        assert shape in components
    assert {
        "/api/v1/teams",
        "/api/v1/agents/{agent_id}",
        "/api/v1/sla/policies/{policy_id}",
        "/api/v1/sla/calendars",
    } <= set(schema["paths"])


def test_the_last_administrator_stays(client: Client, db: Database, admin: dict[str, str]) -> None:
    me = next(
        a
        for a in _ok(client.get("/api/v1/agents", headers=admin))["items"]
        if a["email"] == "admin@example.com"
    )
    demoted = client.patch(f"/api/v1/agents/{me['id']}", json={"role": "agent"}, headers=admin)
    assert demoted.status_code == 409 and "needs an administrator" in demoted.json()["detail"]
    assert _ok(client.get(f"/api/v1/agents/{me['id']}", headers=admin))["role"] == "admin"


def test_sla_policies_and_calendars_as_code(
    client: Client, db: Database, admin: dict[str, str]
) -> None:
    _ok(client.post("/api/v1/teams", json={"name": "Cards"}, headers=admin), 201)
    office = _ok(
        client.post(
            "/api/v1/sla/calendars",
            json={
                "name": "Berlin office",
                "timezone": "Europe/Berlin",
                "weekly_hours": {"mon": [["09:00", "12:00"], ["13:00", "17:00"]]},
                "holiday_country": "DE",
                "holiday_subdivision": "BE",
                "closed_dates": ["2030-12-24"],
            },
            headers=admin,
        ),
        201,
    )
    assert office["weekly_hours"] == {"mon": [["09:00", "12:00"], ["13:00", "17:00"]]}
    bad_hours = client.post(
        "/api/v1/sla/calendars",
        json={"name": "Bad", "weekly_hours": {"someday": [["09:00", "17:00"]]}},
        headers=admin,
    )
    assert bad_hours.status_code == 422 and "weekday" in bad_hours.json()["detail"]

    body = {
        "name": "Cards",
        "position": 5,
        "teams": ["Cards"],
        "calendar": "Berlin office",
        "first_response_minutes": 120,
        "resolution_minutes": 960,
        "priority_targets": {"urgent": {"first_response": 30}},
        "chat_target_minutes": 3,
    }
    cards = _ok(client.post("/api/v1/sla/policies", json=body, headers=admin), 201)
    assert cards["chat_target_minutes"] == 3
    assert (cards["teams"], cards["calendar"], cards["priority_targets"]) == (
        ["Cards"],
        "Berlin office",
        {"urgent": {"first_response": 30}},
    )
    listed = _ok(client.get("/api/v1/sla/policies", headers=admin))["items"]
    assert [p["name"] for p in listed] == ["Cards", "Default"]  # the default is tried last
    default = listed[1]
    assert default["calendar"] == "Business hours"
    assert default["priority_targets"]["urgent"] == {"first_response": 60, "resolution": 480}
    assert default["chat_target_minutes"] == 2

    for wrong in (
        {**body, "priority_targets": {"someday": {"first_response": 1}}},
        {**body, "priority_targets": {"urgent": {"lunch": 1}}},
        {**body, "calendar": "Nowhere"},
        {**body, "teams": ["Nobody"]},
        {**body, "first_response_minutes": 0},
        {**body, "chat_target_minutes": 0},
    ):
        answer = client.put(f"/api/v1/sla/policies/{cards['id']}", json=wrong, headers=admin)
        assert answer.status_code == 422, wrong
    replaced = client.put(
        f"/api/v1/sla/policies/{cards['id']}",
        json={**body, "calendar": None, "resolution_minutes": None},
        headers=admin,
    )
    assert (_ok(replaced)["calendar"], replaced.json()["resolution_minutes"]) == (None, None)

    _ok(client.delete(f"/api/v1/sla/policies/{default['id']}", headers=admin), 204)
    assert client.get(f"/api/v1/sla/policies/{default['id']}", headers=admin).status_code == 404
    last = client.delete(f"/api/v1/sla/policies/{cards['id']}", headers=admin)
    assert last.status_code == 409 and "only policy" in last.json()["detail"]
    assert [p["name"] for p in _ok(client.get("/api/v1/sla/policies", headers=admin))["items"]] == [
        "Cards"
    ]
    calendars = _ok(client.get("/api/v1/sla/calendars", headers=admin))["items"]
    assert [c["name"] for c in calendars] == ["Berlin office", "Business hours"]
    assert _audit(db, "sla.calendar_saved", "sla.policy_saved", "sla.policy_deleted")[-4:] == [
        ("sla.calendar_saved", "admin@example.com"),
        ("sla.policy_saved", "admin@example.com"),
        ("sla.policy_saved", "admin@example.com"),
        ("sla.policy_deleted", "admin@example.com"),
    ]
