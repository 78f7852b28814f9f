"""Help-centre articles through ``/api/v1/help/articles``: managers and administrators write
and publish, agents read drafts and all; bodies take their declared fields only; every
change is audited; ``/schema`` describes it all."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import col, select

from inbox.db import Database
from inbox.models import AuditEvent
from tests.support.desk import make_agent
from tests.support.web import Client


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def manager(db: Database) -> dict[str, str]:
    return _bearer(make_agent(db, email="manager@example.com", role="manager", name="Meg")[1])


@pytest.fixture
def agent(db: Database) -> dict[str, str]:
    return _bearer(make_agent(db, email="agent@example.com", role="agent", name="Alex")[1])


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if status != 204 else None


def test_a_manager_writes_a_draft_publishes_it_and_deletes_it(
    client: Client, db: Database, manager: dict[str, str]
) -> None:
    draft = _ok(
        client.post(
            "/api/v1/help/articles",
            json={
                "title": "Reset your password",
                "body_markdown": "Use **Forgot password**.",
                "category": "Signing in",
            },
            headers=manager,
        ),
        201,
    )
    assert {k: draft[k] for k in ("title", "slug", "category", "locale", "status")} == {
        "title": "Reset your password",
        "slug": "reset-your-password",
        "category": "Signing in",
        "locale": "en",
        "status": "draft",
    }
    assert draft["url"] == "http://127.0.0.1:8000/help/articles/reset-your-password"
    assert client.get("/help/articles/reset-your-password").status_code == 404
    path = f"/api/v1/help/articles/{draft['id']}"
    published = _ok(client.patch(path, json={"status": "published"}, headers=manager))
    assert published["status"] == "published" and published["published_at"]
    assert "Forgot password" in client.get("/help/articles/reset-your-password").text
    edited = _ok(client.patch(path, json={"title": "Reset a password"}, headers=manager))
    assert edited["title"] == "Reset a password" and edited["slug"] == "reset-your-password"
    assert _ok(client.get(path, headers=manager))["title"] == "Reset a password"
    _ok(client.delete(path, headers=manager), 204)
    assert client.get(path, headers=manager).status_code == 404
    assert client.get("/help/articles/reset-your-password").status_code == 404
    with db.reading() as session:
        audited = session.exec(
            select(AuditEvent.action, AuditEvent.actor_label)
            .where(col(AuditEvent.action).startswith("help_article."))
            .order_by(col(AuditEvent.id))
        ).all()
    assert [(a, b) for a, b in audited] == [
        ("help_article.created", "manager@example.com"),
        ("help_article.published", "manager@example.com"),
        ("help_article.edited", "manager@example.com"),
        ("help_article.deleted", "manager@example.com"),
    ]


def test_agents_read_every_article_but_change_none(
    client: Client, manager: dict[str, str], agent: dict[str, str]
) -> None:
    made = _ok(client.post("/api/v1/help/articles", json={"title": "Draft"}, headers=manager), 201)
    listed = _ok(client.get("/api/v1/help/articles", headers=agent))["items"]
    assert [a["title"] for a in listed] == ["Draft"]
    assert _ok(client.get("/api/v1/help/articles?status=published", headers=agent)) == {"items": []}
    path = f"/api/v1/help/articles/{made['id']}"
    for refused in (
        client.post("/api/v1/help/articles", json={"title": "Mine"}, headers=agent),
        client.patch(path, json={"status": "published"}, headers=agent),
        client.delete(path, headers=agent),
    ):
        assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
    assert _ok(client.get(path, headers=agent))["status"] == "draft"
    assert client.get("/api/v1/help/articles").status_code == 401


def test_bodies_refuse_unknown_fields_and_bad_values(
    client: Client, manager: dict[str, str]
) -> None:
    sneaky = client.post(
        "/api/v1/help/articles", json={"title": "T", "views": 1000}, headers=manager
    )
    assert sneaky.status_code == 422
    assert (
        client.post(
            "/api/v1/help/articles", json={"title": "T", "status": "live"}, headers=manager
        ).status_code
        == 422
    )
    assert (
        client.post(
            "/api/v1/help/articles", json={"title": "T", "slug": "No Spaces"}, headers=manager
        ).status_code
        == 422
    )
    _ok(client.post("/api/v1/help/articles", json={"title": "Taken"}, headers=manager), 201)
    again = client.post("/api/v1/help/articles", json={"title": "Taken"}, headers=manager)
    assert again.status_code == 409
    # The same address in another locale is its translation.
    _ok(
        client.post(
            "/api/v1/help/articles", json={"title": "Taken", "locale": "de"}, headers=manager
        ),
        201,
    )


def test_the_schema_describes_the_article_api(client: Client) -> None:
    schema = client.get("/schema/openapi.json").json()
    paths = schema["paths"]
    assert set(paths["/api/v1/help/articles"]) == {"get", "post"}
    assert set(paths["/api/v1/help/articles/{article_id}"]) == {"get", "patch", "delete"}
    components = schema["components"]["schemas"]
    article = next(v for k, v in components.items() if k.endswith("HelpArticle"))
    assert {"title", "slug", "body_markdown", "category", "locale", "status"} <= set(
        article["properties"]
    )
    new = next(v for k, v in components.items() if k.endswith("NewArticle"))
    assert new["additionalProperties"] is False
