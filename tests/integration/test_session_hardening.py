"""Sessions and pages hardened: a Content-Security-Policy and the other security headers on
every answer."""

from __future__ import annotations

from inbox.db import Database
from tests.support.desk import make_agent
from tests.support.web import Client, sign_in


def test_every_answer_carries_the_content_security_policy_and_security_headers(
    client: Client, db: Database
) -> None:
    _, token = make_agent(db)
    api = {"Authorization": f"Bearer {token}"}
    answers = {"/login": client.get("/login"), "/healthz": client.get("/healthz")}
    answers["/static/app.css"] = client.get("/static/app.css")
    answers["/schema"] = client.get("/schema")
    answers["/no/such/page"] = client.get("/no/such/page", headers={"accept": "text/html"})
    answers["/api/v1/tickets"] = client.get("/api/v1/tickets", headers=api)
    sign_in(client)
    answers["/tickets"] = client.get("/tickets")
    answers["/admin/agents (403)"] = client.get("/admin/agents", headers={"accept": "text/html"})
    for path, answer in answers.items():
        policy = answer.headers.get("content-security-policy", "")
        directives = {
            part.split()[0]: " ".join(part.split()[1:])
            for part in policy.split(";")
            if part.strip()
        }
        assert directives.get("script-src") == "'self'", (path, policy)
        assert directives.get("frame-ancestors") == "'none'", (path, policy)
        assert directives.get("object-src") == "'none'", (path, policy)
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, (path, policy)
        assert answer.headers.get("x-content-type-options") == "nosniff", path
        assert answer.headers.get("referrer-policy") == "same-origin", path
    # The schema is the schema, not a viewer built from another site's scripts.
    assert answers["/schema"].json()["info"]["title"] == "Inbox"
