"""The HTTP API as an integrator uses it: tokens, tickets, replies, notes, errors."""

from __future__ import annotations

import pytest
from sqlmodel import select

from inbox.db import Database
from inbox.models import InboundItem, Outbox
from inbox.settings import Settings
from tests.support.desk import ingest, mail, make_agent, make_channel
from tests.support.web import Client


@pytest.fixture
def token(db: Database) -> str:
    return make_agent(db)[1]


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_healthz_answers_without_authentication(client: Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_api_without_token_is_401_json(client: Client) -> None:
    response = client.get("/api/v1/tickets")
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert client.get("/api/v1/tickets", headers=_auth("nonsense")).status_code == 401


def test_ticket_list_detail_and_tolerated_reference_spelling(
    client: Client,
    db: Database,
    settings: Settings,
    token: str,
) -> None:
    channel = make_channel(db, settings)
    outcome = ingest(db, settings, channel, mail(subject="Locked out", body="please help"))
    reference = outcome.ticket_reference or ""

    listing = client.get("/api/v1/tickets", headers=_auth(token)).json()
    assert [t["reference"] for t in listing["items"]] == [reference]
    assert listing["next_cursor"] is None

    sloppy = reference.lower().replace("-", " ").replace("0", "o")
    ticket = client.get(f"/api/v1/tickets/{sloppy}", headers=_auth(token)).json()
    assert ticket["reference"] == reference
    assert ticket["status_category"] == "new"
    assert ticket["customer"]["identities"] == [{"kind": "email", "value": "maria@example.org"}]
    kinds = [(m["kind"], m["direction"]) for m in ticket["messages"]]
    assert kinds == [("email", "inbound"), ("email", "outbound")]
    assert ticket["messages"][0]["thread_reason"] == "new_ticket"
    assert ticket["messages"][1]["delivery"] == "queued"


def test_reply_note_and_patch(
    client: Client,
    db: Database,
    settings: Settings,
    token: str,
) -> None:
    channel = make_channel(db, settings)
    reference = ingest(db, settings, channel, mail()).ticket_reference
    headers = _auth(token)

    reply = client.post(
        f"/api/v1/tickets/{reference}/replies", json={"body": "Unlocked."}, headers=headers
    )
    assert reply.status_code == 201 and reply.json()["delivery"] == "queued"
    note = client.post(
        f"/api/v1/tickets/{reference}/notes", json={"body": "called"}, headers=headers
    )
    assert note.status_code == 201 and note.json()["kind"] == "internal_note"

    patched = client.patch(
        f"/api/v1/tickets/{reference}",
        json={
            "status": "waiting on customer",
            "priority": "high",
            "assignee": "agent@example.com",
            "tags": ["Locked-Out", "vip"],
        },
        headers=headers,
    ).json()
    assert patched["status"] == "waiting on customer"
    assert patched["status_category"] == "waiting_on_customer"
    assert patched["priority"] == "high"
    assert patched["assignee"] == "agent@example.com"
    assert patched["tags"] == ["locked-out", "vip"]
    with db.reading() as session:
        kinds = session.exec(select(Outbox.kind)).all()
    assert sorted(kinds) == ["acknowledgement", "reply"]


def test_undeclared_fields_and_bad_values_are_refused(
    client: Client,
    db: Database,
    settings: Settings,
    token: str,
) -> None:
    reference = ingest(db, settings, make_channel(db, settings), mail()).ticket_reference
    headers = _auth(token)
    mass = client.patch(f"/api/v1/tickets/{reference}", json={"customer_id": 99}, headers=headers)
    assert mass.status_code == 422 and mass.json()["error"] == "invalid"
    bad = client.patch(
        f"/api/v1/tickets/{reference}", json={"priority": "whenever"}, headers=headers
    )
    assert bad.status_code == 422
    empty = client.post(
        f"/api/v1/tickets/{reference}/replies", json={"body": "  "}, headers=headers
    )
    assert empty.status_code == 422
    missing = client.get("/api/v1/tickets/HD-0000-00000", headers=headers)
    assert missing.status_code == 404 and missing.json()["error"] == "not_found"


def test_quarantine_lists_what_could_not_be_parsed(
    client: Client,
    db: Database,
    settings: Settings,
    token: str,
) -> None:
    ingest(db, settings, make_channel(db, settings), b"\x00\x01" * 100)
    items = client.get("/api/v1/quarantine", headers=_auth(token)).json()["items"]
    assert len(items) == 1
    assert set(items[0]) == {"id", "channel", "received_at", "reason", "size"}
    with db.reading() as session:
        assert session.exec(select(InboundItem.state)).one() == "quarantined"


def test_openapi_schema_describes_the_api_without_a_token(client: Client) -> None:
    paths = set(client.get("/schema/openapi.json").json()["paths"])
    assert {"/api/v1/tickets", "/api/v1/tickets/{reference}", "/api/v1/quarantine"} <= paths
    assert not {p for p in paths if not p.startswith(("/api/", "/healthz"))}
