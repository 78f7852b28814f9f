"""``/admin``, the administrators' landing page, and the pages for the desk's people: teams,
adding an agent, an agent's role, teams and access. Every change is audited; other roles
get 403."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import col, select

from inbox.db import Database
from inbox.models import Agent, AgentSession, ApiToken, AuditEvent, TeamMember, utcnow
from tests.support.desk import PASSWORD, confirm_second_factor, make_agent, make_team
from tests.support.web import Client, csrf_token, sign_in

AREAS = {
    "agents": "/admin/agents",
    "teams": "/admin/teams",
    "channels": "/admin/health#channels",
    "sla": "/admin/sla",
    "statuses": "/admin/statuses",
    "macros": "/admin/macros",
    "followups": "/admin/followups",
    "audit": "/admin/audit",
    "health": "/admin/health",
}


def _admin(client: Client, db: Database, email: str = "admin@example.com") -> int:
    admin_id = make_agent(db, email=email, role="admin", name="Ada Admin")[0]
    sign_in(client, email)
    confirm_second_factor(db, admin_id)
    return admin_id


def _audit(db: Database, action: str) -> list[AuditEvent]:
    with db.reading() as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


def test_admin_is_the_administrators_landing_page(client: Client, db: Database) -> None:
    _admin(client, db)
    page = client.get("/admin")
    assert page.status_code == 200
    for area, link in AREAS.items():
        assert re.search(rf'data-area="{area}"><a href="{re.escape(link)}">', page.text), area
        target = client.get(link.partition("#")[0])
        assert target.status_code == 200, link
    # In the main navigation of every page, and each area in the administration's own.
    main_nav = re.search(r'<nav aria-label="Main">(.*?)</nav>', client.get("/tickets").text, re.S)
    assert main_nav and '<a href="/admin">' in main_nav.group(1)
    admin_nav = re.search(
        r'<nav class="subnav" aria-label="Administration">(.*?)</nav>', page.text, re.S
    )
    assert admin_nav and '<a href="/admin" aria-current="page">Overview</a>' in admin_nav.group(1)
    for link in AREAS.values():
        assert f'href="{link.partition("#")[0]}"' in admin_nav.group(1), link


@pytest.mark.parametrize("role", ["agent", "manager"])
def test_other_roles_get_403_on_admin(client: Client, db: Database, role: str) -> None:
    agent_id = make_agent(db, email=f"{role}@example.com", role=role, name="Sam Someone")[0]
    sign_in(client, f"{role}@example.com")
    confirm_second_factor(db, agent_id)
    for path in ("/admin", "/admin/teams", "/admin/agents/new", f"/admin/agents/{agent_id}"):
        assert client.get(path, follow_redirects=False).status_code == 403, path
    assert '<a href="/admin">' not in client.get("/tickets").text


def test_signed_out_browsers_are_sent_to_sign_in(client: Client) -> None:
    answer = client.get("/admin", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login?next=/admin"


def test_an_administrator_adds_and_renames_a_team(client: Client, db: Database) -> None:
    _admin(client, db)
    token = csrf_token(client.get("/admin/teams").text)
    added = client.post("/admin/teams", data={"name": "  Card   disputes ", "_csrf_token": token})
    assert added.status_code == 200 and 'data-team="Card disputes"' in added.text
    taken = client.post("/admin/teams", data={"name": "Card disputes", "_csrf_token": token})
    assert taken.status_code == 409 and "exists" in taken.text
    (created,) = _audit(db, "team.created")
    renamed = client.post(
        f"/admin/teams/{created.target_id}/rename", data={"name": "Disputes", "_csrf_token": token}
    )
    assert 'data-team="Disputes"' in renamed.text
    (audit,) = _audit(db, "team.renamed")
    assert audit.detail == {"from": "Card disputes", "to": "Disputes"}
    assert audit.actor_label == "admin@example.com"


def test_an_administrator_adds_an_agent_with_teams_after_a_fresh_second_factor(
    client: Client, db: Database
) -> None:
    _admin(client, db)
    cards = make_team(db, "Cards")
    page = client.get("/admin/agents/new")
    form = {
        "name": "Nora New",
        "email": "Nora@Example.com",
        "role": "manager",
        "password": PASSWORD,
        "team_ids": str(cards),
        "_csrf_token": csrf_token(page.text),
    }
    weak = client.post("/admin/agents/new", data={**form, "password": "short"})
    assert weak.status_code == 422 and "12 characters" in weak.text
    assert PASSWORD not in weak.text
    added = client.post("/admin/agents/new", data=form, follow_redirects=False)
    assert added.status_code == 303
    with db.reading() as session:
        nora = session.exec(select(Agent).where(Agent.email == "nora@example.com")).one()
        teams = session.exec(select(TeamMember.team_id).where(TeamMember.agent_id == nora.id))
        assert (nora.role, list(teams)) == ("manager", [cards])
    assert added.headers["location"] == f"/admin/agents/{nora.id}"
    assert [e.target_id for e in _audit(db, "agent.create")][-1] == str(nora.id)
    # The new agent signs in with that password.
    other = Client(client.app)
    assert sign_in(other, "nora@example.com").status_code == 303


def test_adding_an_agent_needs_a_second_factor_proved_just_now(
    client: Client, db: Database
) -> None:
    make_agent(db, email="admin@example.com", role="admin", name="Ada Admin")
    sign_in(client, "admin@example.com")
    with db.unit_of_work() as session:
        row = session.exec(select(AgentSession)).one()
        row.second_factor_at = utcnow() - timedelta(hours=1)
        session.add(row)
    page = client.get("/admin/agents/new")
    answer = client.post(
        "/admin/agents/new",
        data={
            "name": "Eve",
            "email": "eve@example.com",
            "role": "admin",
            "password": PASSWORD,
            "_csrf_token": csrf_token(page.text),
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/account/verify")
    with db.reading() as session:
        assert session.exec(select(Agent).where(Agent.email == "eve@example.com")).first() is None


def test_role_teams_and_access_of_an_agent(client: Client, db: Database) -> None:
    admin_id = _admin(client, db)
    alex_id, alex_token = make_agent(db)
    cards, loans = make_team(db, "Cards"), make_team(db, "Loans")
    alex_browser = Client(client.app)
    sign_in(alex_browser, "agent@example.com")
    page = client.get(f"/admin/agents/{alex_id}")
    assert page.status_code == 200 and 'data-email="agent@example.com"' in page.text
    token = csrf_token(page.text)

    client.post(
        f"/admin/agents/{alex_id}/teams",
        data={"team_ids": [str(cards), str(loans)], "_csrf_token": token},
    )
    client.post(f"/admin/agents/{alex_id}/role", data={"role": "manager", "_csrf_token": token})
    with db.reading() as session:
        alex = session.get(Agent, alex_id)
        assert alex is not None and alex.role == "manager"
        teams = set(session.exec(select(TeamMember.team_id).where(TeamMember.agent_id == alex_id)))
        assert teams == {cards, loans}
        # A new role is a privilege change: the agent signs in again.
        assert not session.exec(
            select(AgentSession).where(AgentSession.agent_id == alex_id)
        ).first()
    assert _audit(db, "agent.role_changed")[0].detail == {"from": "agent", "to": "manager"}
    assert _audit(db, "agent.teams_changed")[0].detail == {"teams": ["Cards", "Loans"]}

    client.post(f"/admin/agents/{alex_id}/active", data={"active": "no", "_csrf_token": token})
    with db.reading() as session:
        tokens = session.exec(select(ApiToken).where(ApiToken.agent_id == alex_id)).all()
        assert all(t.revoked_at is not None for t in tokens)
    api = client.get("/api/v1/tickets", headers={"Authorization": f"Bearer {alex_token}"})
    assert api.status_code == 401
    assert "deactivated" in client.get(f"/admin/agents/{alex_id}").text
    assert [e.target_id for e in _audit(db, "agent.deactivated")] == [str(alex_id)]

    # The last administrator can be neither demoted nor deactivated.
    demoted = client.post(
        f"/admin/agents/{admin_id}/role", data={"role": "agent", "_csrf_token": token}
    )
    assert demoted.status_code == 409 and "needs an administrator" in demoted.text
    with db.reading() as session:
        admin = session.get(Agent, admin_id)
        assert admin is not None and (admin.role, admin.is_active) == ("admin", True)
        assert not session.exec(
            select(AuditEvent)
            .where(col(AuditEvent.target_id) == str(admin_id))
            .where(AuditEvent.action == "agent.role_changed")
        ).first()
