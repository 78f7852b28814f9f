"""An agent outside a ticket's team cannot open it by any road: page, API, message HTML or
attachment. It answers exactly as a ticket that does not exist."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from sqlmodel import select

from inbox.actions.tickets import update_ticket
from inbox.db import Database
from inbox.models import Agent, Attachment, Message, Team, TeamMember, Ticket
from inbox.settings import Settings
from tests.support.desk import (
    change_ticket,
    ingest,
    make_agent,
    make_channel,
    make_team,
    new_ticket,
)
from tests.support.web import Client, sign_in


def _mail_with_attachment() -> bytes:
    message = EmailMessage()
    message["From"] = "Victim <victim@example.org>"
    message["To"] = "support@example.com"
    message["Subject"] = "Fraud report"
    message.set_content("Someone used my card.")
    message.add_alternative("<p>Someone used my <b>card</b>.</p>", subtype="html")
    message.add_attachment(b"statement", maintype="text", subtype="plain", filename="s.txt")
    return message.as_bytes()


@pytest.fixture
def fraud_ticket(db: Database, settings: Settings) -> tuple[str, int, int]:
    """A Fraud team ticket: (reference, inbound message id, attachment id)."""
    channel = make_channel(db, settings)
    reference = ingest(db, settings, channel, _mail_with_attachment()).ticket_reference
    assert reference
    make_agent(db, "admin@example.com", role="admin")
    make_agent(db, "agent@example.com")
    with db.unit_of_work() as session:
        billing, fraud = Team(name="Billing"), Team(name="Fraud")
        session.add_all([billing, fraud])
        session.flush()
        agent = session.exec(select(Agent).where(Agent.email == "agent@example.com")).one()
        admin = session.exec(select(Agent).where(Agent.email == "admin@example.com")).one()
        session.add(TeamMember(team_id=billing.id or 0, agent_id=agent.id or 0))
        ticket = session.exec(select(Ticket).where(Ticket.reference == reference)).one()
        update_ticket(session, ticket, actor=admin, team="Fraud")
        message = session.exec(select(Message).where(Message.ticket_id == ticket.id)).first()
        attachment = session.exec(select(Attachment)).one()
        return reference, message.id or 0 if message else 0, attachment.id or 0


def _login(client: Client, email: str) -> None:
    response = sign_in(client, email, follow_redirects=True)
    assert response.status_code == 200 and "/login" not in str(response.url)


def test_another_teams_ticket_answers_as_if_it_did_not_exist(
    client: Client, db: Database, fraud_ticket: tuple[str, int, int]
) -> None:
    reference, message_id, attachment_id = fraud_ticket
    token = make_agent(db, "agent2@example.com")[1]  # in no team at all
    with db.unit_of_work() as session:
        billing = session.exec(select(Team).where(Team.name == "Billing")).one()
        agent2 = session.exec(select(Agent).where(Agent.email == "agent2@example.com")).one()
        session.add(TeamMember(team_id=billing.id or 0, agent_id=agent2.id or 0))
    api = {"Authorization": f"Bearer {token}"}
    missing = client.get("/api/v1/tickets/HD-0000-0000A", headers=api)
    for response in (
        client.get(f"/api/v1/tickets/{reference}", headers=api),
        client.patch(f"/api/v1/tickets/{reference}", json={"priority": "low"}, headers=api),
        client.post(f"/api/v1/tickets/{reference}/replies", json={"body": "hi"}, headers=api),
        client.post(f"/api/v1/tickets/{reference}/notes", json={"body": "hi"}, headers=api),
    ):
        assert response.status_code == 404, response.text
        assert response.json()["error"] == missing.json()["error"]
    _login(client, "agent@example.com")
    for path in (
        f"/tickets/{reference}",
        f"/messages/{message_id}/html",
        f"/attachments/{attachment_id}",
    ):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Someone used my" not in response.text and "statement" not in response.text
    with db.reading() as session:
        ticket = session.exec(select(Ticket).where(Ticket.reference == reference)).one()
        bodies = session.exec(select(Message.body_text).where(Message.ticket_id == ticket.id)).all()
    assert ticket.priority == "normal" and "hi" not in bodies  # nothing was changed or added


def test_the_team_the_assignee_and_administrators_open_it(
    client: Client, db: Database, fraud_ticket: tuple[str, int, int]
) -> None:
    reference, message_id, attachment_id = fraud_ticket
    with db.unit_of_work() as session:
        from inbox.actions.signin.agents import create_api_token

        admin = session.exec(select(Agent).where(Agent.email == "admin@example.com")).one()
        admin_token = create_api_token(session, admin)
    api = {"Authorization": f"Bearer {admin_token}"}
    assert client.get(f"/api/v1/tickets/{reference}", headers=api).status_code == 200
    with db.unit_of_work() as session:
        admin = session.exec(select(Agent).where(Agent.email == "admin@example.com")).one()
        ticket = session.exec(select(Ticket).where(Ticket.reference == reference)).one()
        update_ticket(session, ticket, actor=admin, assignee_email="agent@example.com")
    _login(client, "agent@example.com")  # not in Fraud, but the ticket is theirs now
    assert client.get(f"/tickets/{reference}").status_code == 200
    assert client.get(f"/messages/{message_id}/html").status_code == 200
    assert client.get(f"/attachments/{attachment_id}").status_code == 200


def test_customer_panel_lists_only_the_tickets_the_agent_may_open_and_counts_the_rest(
    client: Client, db: Database, settings: Settings
) -> None:
    channel = make_channel(db, settings)
    agent_id = make_agent(db, "agent@example.com")[0]
    colleague_id = make_agent(db, "fraud.and.billing@example.com")[0]
    make_agent(db, "admin@example.com", role="admin")
    make_team(db, "Billing", agent_id, colleague_id)
    make_team(db, "Fraud", colleague_id)
    current = new_ticket(db, settings, channel, subject="Where is my refund")
    billing = new_ticket(db, settings, channel, subject="Invoice copy")
    fraud = new_ticket(db, settings, channel, subject="Card stolen in Lisbon")
    change_ticket(db, billing, "admin@example.com", team="Billing")
    change_ticket(db, fraud, "admin@example.com", team="Fraud")
    htmx = {"HX-Request": "true"}

    _login(client, "agent@example.com")
    panel = client.get(f"/tickets/{current}/customer", headers=htmx)
    assert panel.status_code == 200
    assert f'href="/tickets/{billing}"' in panel.text and "Invoice copy" in panel.text
    assert fraud not in panel.text and "Card stolen" not in panel.text
    assert "1 other ticket in teams you do not work in" in panel.text

    client.cookies.clear()
    _login(client, "fraud.and.billing@example.com")  # in both teams: sees both
    panel = client.get(f"/tickets/{current}/customer", headers=htmx)
    assert f'href="/tickets/{fraud}"' in panel.text and f'href="/tickets/{billing}"' in panel.text
    assert "teams you do not work in" not in panel.text
