"""Sessions and pages hardened: ``__Host-`` cookies over HTTPS, a Content-Security-Policy and
the other security headers on every answer, a sign-in that waits for its second factor for
five minutes only, and password hashes brought up to today's argon2 parameters."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

from argon2 import PasswordHasher
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import select

from inbox.db import Database
from inbox.models import Agent, AgentSession
from inbox.settings import Settings
from inbox.web.auth import SESSION_COOKIE
from tests.support.apps import app_for
from tests.support.desk import PASSWORD, agent_by_email, make_agent
from tests.support.signing_in import give_totp, prove_totp, signed_in, totp_code
from tests.support.web import Client, sign_in

HTTPS_BASE = "https://desk.example.com"


def set_cookies(answer: object) -> dict[str, str]:
    """Each cookie an answer sets, by name: its whole Set-Cookie line."""
    lines = answer.headers.get_list("set-cookie")  # type: ignore[attr-defined]
    return {line.split("=", 1)[0]: line for line in lines}


def test_over_https_the_session_cookie_is_host_prefixed_and_secure(
    db: Database, settings: Settings
) -> None:
    make_agent(db)
    app = app_for(replace(settings, base_url=HTTPS_BASE))[0]
    with TestClient(app, base_url="https://testserver.local") as browser:
        form = browser.get("/login")
        assert "__Host-inbox_csrf" in set_cookies(form)
        signed = sign_in(browser)
        assert signed.status_code == 303
        cookies = set_cookies(signed)
        for name in ("__Host-inbox_session", "__Host-inbox_device"):
            line = cookies[name].lower()
            assert "; secure" in line and "; path=/" in line and "domain=" not in line, line
            assert "; httponly" in line
        assert SESSION_COOKIE not in cookies  # no cookie without the prefix
        assert browser.get("/tickets", follow_redirects=False).status_code == 200

        token = browser.cookies["__Host-inbox_session"]
    with TestClient(app, base_url="https://testserver.local") as tossed:
        # A cookie without the prefix may come from a plain-HTTP page or a sibling domain:
        # over HTTPS the desk does not believe it, whatever it carries.
        tossed.cookies.set(SESSION_COOKIE, token)
        assert tossed.get("/tickets", follow_redirects=False).status_code == 303


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


def test_a_sign_in_waiting_for_its_second_factor_expires_after_five_minutes(
    client: Client, db: Database, settings: Settings
) -> None:
    make_agent(db, email="manager@example.com", role="manager", name="Max Manager")
    give_totp(db, settings, "manager@example.com")
    pending = sign_in(client, "manager@example.com")
    assert pending.headers["location"].startswith("/login/two-factor")
    assert "max-age=300" in set_cookies(pending)[SESSION_COOKIE].lower()
    assert client.get("/login/two-factor", follow_redirects=False).status_code == 200

    with db.unit_of_work() as session:  # five minutes and a second pass
        for row in session.exec(select(AgentSession)).all():
            row.created_at -= timedelta(minutes=5, seconds=1)
            row.expires_at -= timedelta(minutes=5, seconds=1)
            session.add(row)

    gone = client.get("/login/two-factor", follow_redirects=False)
    assert gone.status_code == 303 and gone.headers["location"].startswith("/login?")
    assert client.get("/login", follow_redirects=False).status_code == 200  # no way around
    refused = prove_totp(client, totp_code(db, "manager@example.com"))
    assert refused.status_code == 401
    assert not signed_in(client)


def test_a_password_hash_with_older_argon2_parameters_is_upgraded_at_the_next_sign_in(
    client: Client, db: Database, app: Litestar
) -> None:
    make_agent(db)
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    with db.unit_of_work() as session:
        agent = session.exec(select(Agent).where(Agent.email == "agent@example.com")).one()
        agent.password_hash = weak.hash(PASSWORD)
        session.add(agent)
    current = PasswordHasher()
    assert current.check_needs_rehash(agent_by_email(db, "agent@example.com").password_hash)

    assert sign_in(client).status_code == 303
    upgraded = agent_by_email(db, "agent@example.com").password_hash
    assert not current.check_needs_rehash(upgraded)
    assert re.match(r"\$argon2id\$v=19\$m=65536,t=3,p=4\$", upgraded)
    with TestClient(app) as again:  # the new hash holds the same password
        assert sign_in(again).status_code == 303
        assert sign_in(again, password="wrong password 123").status_code == 400
