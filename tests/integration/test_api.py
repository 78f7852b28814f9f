"""The HTTP API as an integrator uses it: tokens, tickets, replies, notes, errors."""

from __future__ import annotations

from typing import Any

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
    assert mass.status_code == 422
    assert mass.json() == {"error": "invalid", "detail": "unknown field(s): customer_id"}
    smuggled = client.post(
        f"/api/v1/tickets/{reference}/replies",
        json={"body": "Done.", "author_id": 1},
        headers=headers,
    )
    assert smuggled.status_code == 422
    assert smuggled.json() == {"error": "invalid", "detail": "unknown field(s): author_id"}
    no_body = client.post(f"/api/v1/tickets/{reference}/replies", json={}, headers=headers)
    assert no_body.status_code == 422
    assert no_body.json() == {"error": "invalid", "detail": "missing field(s): body"}
    for wrong in ({"tags": "vip"}, {"priority": 3}, {"status": ["open"]}):
        refused = client.patch(f"/api/v1/tickets/{reference}", json=wrong, headers=headers)
        assert refused.status_code == 422 and set(refused.json()) == {"error", "detail"}
        assert refused.json()["error"] == "invalid"
    not_an_object = client.patch(f"/api/v1/tickets/{reference}", json=[1], headers=headers)
    assert not_an_object.status_code == 422 and not_an_object.json()["error"] == "invalid"
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
    assert set(items[0]) == {
        "id", "channel", "received_at", "state", "reason", "size", "sender", "subject",
    }  # fmt: skip
    with db.reading() as session:
        assert session.exec(select(InboundItem.state)).one() == "quarantined"


def test_openapi_schema_describes_the_api_without_a_token(client: Client) -> None:
    paths = set(client.get("/schema/openapi.json").json()["paths"])
    assert {"/api/v1/tickets", "/api/v1/tickets/{reference}", "/api/v1/quarantine"} <= paths
    assert not {p for p in paths if not p.startswith(("/api/", "/healthz"))}


def test_messages_carry_the_fields_of_their_direction_only(
    client: Client, db: Database, settings: Settings, token: str
) -> None:
    reference = ingest(db, settings, make_channel(db, settings), mail()).ticket_reference
    headers = _auth(token)
    client.post(f"/api/v1/tickets/{reference}/replies", json={"body": "Hi."}, headers=headers)
    ticket = client.get(f"/api/v1/tickets/{reference}", headers=headers).json()
    messages = ticket["messages"]
    common = {
        "id", "kind", "direction", "channel", "author", "subject", "body_text", "display_text",
        "has_html", "created_at", "automatic", "attachments",
    }  # fmt: skip
    assert [m["direction"] for m in messages] == ["inbound", "outbound", "outbound"]
    assert set(messages[0]) == common | {"thread_reason", "verification"}
    assert all(set(m) == common | {"delivery"} for m in messages[1:])
    assert ticket["customer"]["identities"] == [{"kind": "email", "value": "maria@example.org"}]

    assigned = client.patch(
        f"/api/v1/tickets/{reference}", json={"assignee": "agent@example.com"}, headers=headers
    )
    assert assigned.json()["assignee"] == "agent@example.com"
    untouched = client.patch(f"/api/v1/tickets/{reference}", json={}, headers=headers)
    assert untouched.json()["assignee"] == "agent@example.com"
    cleared = client.patch(f"/api/v1/tickets/{reference}", json={"assignee": None}, headers=headers)
    assert cleared.status_code == 200 and cleared.json()["assignee"] is None


def test_the_schema_names_every_ticket_shape_and_refuses_unknown_fields(client: Client) -> None:
    schema = client.get("/schema/openapi.json").json()
    components = schema["components"]["schemas"]
    ticket = schema["paths"]["/api/v1/tickets/{reference}"]
    change = ticket["patch"]
    reply = schema["paths"]["/api/v1/tickets/{reference}/replies"]["post"]
    listing = schema["paths"]["/api/v1/tickets"]["get"]

    def ref(content: dict[str, Any]) -> str:
        return str(content["content"]["application/json"]["schema"]["$ref"]).rsplit("/", 1)[-1]

    assert ref(ticket["get"]["responses"]["200"]) == "Ticket"
    assert ref(listing["responses"]["200"]) == "TicketPage"
    assert ref(change["requestBody"]) == "TicketChange"
    assert ref(change["responses"]["200"]) == "Ticket"
    assert ref(reply["requestBody"]) == "NewReply"
    assert ref(reply["responses"]["201"]) == "Message"
    for status in ("404", "422"):
        assert ref(change["responses"][status]) == "ErrorBody"
    assert {"error", "detail"} <= set(components["ErrorBody"]["required"])
    assert {"reference", "sla", "customer", "messages"} <= set(components["Ticket"]["properties"])
    assert {"items", "next_cursor"} == set(components["TicketPage"]["properties"])
    assert components["TicketChange"]["additionalProperties"] is False
    assert components["NewReply"]["additionalProperties"] is False
    assert components["NewReply"]["required"] == ["body"]
    report = schema["paths"]["/api/v1/reports/sla"]["get"]["responses"]["200"]
    assert ref(report) == "SlaReport" and "from" in components["SlaReport"]["properties"]


def test_a_reply_repeated_with_its_idempotency_key_is_queued_once(
    client: Client, db: Database, settings: Settings, token: str
) -> None:
    channel = make_channel(db, settings)
    reference = ingest(db, settings, channel, mail()).ticket_reference
    path = f"/api/v1/tickets/{reference}/replies"
    headers = _auth(token)
    reply = {"body": "Your account is unlocked.", "idempotency_key": "retry-4f1c-0001"}

    first = client.post(path, json=reply, headers=headers)
    again = client.post(path, json=reply, headers=headers)
    by_header = client.post(
        path,
        json={"body": reply["body"]},
        headers={**headers, "Idempotency-Key": "retry-4f1c-0001"},
    )
    assert [r.status_code for r in (first, again, by_header)] == [201, 201, 201]
    assert first.json()["id"] == again.json()["id"] == by_header.json()["id"]
    with db.reading() as session:
        replies = session.exec(select(Outbox).where(Outbox.kind == "reply")).all()
    assert len(replies) == 1

    other_text = client.post(
        path, json={**reply, "body": "Something else entirely."}, headers=headers
    )
    assert other_text.status_code == 409 and "another reply" in other_text.json()["detail"]
    too_short = client.post(path, json={**reply, "idempotency_key": "abc"}, headers=headers)
    assert too_short.status_code == 422
    someone_else = make_agent(db, "colleague@example.com")[1]  # keys are each agent's own
    theirs = client.post(path, json=reply, headers=_auth(someone_else))
    assert theirs.status_code == 201 and theirs.json()["id"] != first.json()["id"]
