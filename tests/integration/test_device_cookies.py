"""An attacker who guesses an agent's password, or floods the desk from the agent's own
network, must not lock the agent out: a browser that signed in before holds a device cookie
(OWASP, "Slow Down Online Guessing Attacks with Device Cookies"), and what others do never
locks out or throttles it. ``inbox agent unlock`` lets an agent in at once whatever kept them
out; administrators see the throttled addresses and lift them.

Every browser here is a ``TestClient`` of the same app, all at the same network address, as
colleagues behind one office NAT with an attacker among them."""

from __future__ import annotations

import re

from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import select

from inbox.db import Database
from inbox.models import AuditEvent
from inbox.settings import Settings
from inbox.web.auth import SESSION_COOKIE
from tests.support.desk import PASSWORD, agent_by_email, make_agent
from tests.support.processes import run_cli
from tests.support.signing_in import give_totp, prove_totp, sign_in_fully, sign_out, totp_code
from tests.support.web import Client, csrf_token, post_form, sign_in

AGENT = "agent@example.com"
DEVICE_COOKIE = "inbox_device"
FAILED_SIGN_INS_LIMIT = 20  # per address in 15 minutes (README)
RESET_REQUESTS_LIMIT = 10  # per address in an hour
WRONG = "wrong password 123"


def flood(attacker: Client, email: str) -> None:
    """The attacker's browser sends wrong passwords for ``email`` until its address (the
    address of everyone here) is throttled."""
    for _ in range(FAILED_SIGN_INS_LIMIT):
        assert sign_in(attacker, email, WRONG).status_code == 400


def audit_actions(db: Database) -> list[AuditEvent]:
    with db.reading() as session:
        return list(session.exec(select(AuditEvent)).all())


def test_a_browser_that_signed_in_before_gets_in_whatever_others_tried(
    client: Client, db: Database, app: Litestar
) -> None:
    make_agent(db)
    make_agent(db, email="mallory@example.com", name="Mallory Insider")
    assert sign_in(client).status_code == 303
    own_device = client.cookies[DEVICE_COOKIE]
    sign_out(client)

    with TestClient(app) as mallory:  # a colleague with a device cookie of her own
        assert sign_in(mallory, "mallory@example.com").status_code == 303
        sign_out(mallory)
        for _ in range(FAILED_SIGN_INS_LIMIT):
            assert sign_in(mallory, AGENT, WRONG).status_code == 400
        assert sign_in(mallory, AGENT, PASSWORD).status_code == 429  # her cookie is not his
    assert agent_by_email(db, AGENT).locked_until is not None
    with TestClient(app) as forger:  # a device cookie made up, or another agent's
        agent_id = agent_by_email(db, AGENT).id
        for forged in (f"{agent_id}.made-up.{'0' * 64}", own_device.replace(".", ".x", 1)):
            forger.cookies.set(DEVICE_COOKIE, forged)
            assert sign_in(forger, AGENT, PASSWORD).status_code == 429
    with TestClient(app) as new_browser:  # the agent himself, on a browser new to the desk
        assert sign_in(new_browser, AGENT, PASSWORD).status_code == 429

    answer = sign_in(client)  # his own browser: neither the lockout nor the throttle
    assert answer.status_code == 303 and answer.headers["location"] == "/tickets"
    assert client.get("/tickets").status_code == 200
    assert client.cookies[DEVICE_COOKIE] == own_device  # the same device, renewed


def test_a_device_cookie_comes_with_the_second_factor_and_lets_a_manager_in(
    client: Client, db: Database, settings: Settings, app: Litestar
) -> None:
    make_agent(db, email="manager@example.com", role="manager", name="Max Manager")
    give_totp(db, settings, "manager@example.com")
    pending = sign_in(client, "manager@example.com")
    assert pending.headers["location"].startswith("/login/two-factor")
    assert DEVICE_COOKIE not in client.cookies  # the password alone earns no device cookie
    assert prove_totp(client, totp_code(db, "manager@example.com")).status_code == 303
    assert DEVICE_COOKIE in client.cookies
    sign_out(client)

    with TestClient(app) as attacker:
        flood(attacker, "manager@example.com")
    with TestClient(app) as new_browser:
        assert sign_in(new_browser, "manager@example.com").status_code == 429

    assert sign_in_fully(client, db, "manager@example.com").status_code == 303
    assert client.get("/tickets").status_code == 200


def test_a_device_cookie_s_own_failures_lock_that_browser_alone_until_an_unlock(
    client: Client, db: Database, app: Litestar, env: dict[str, str]
) -> None:
    make_agent(db)
    assert sign_in(client).status_code == 303
    sign_out(client)
    for _ in range(5):
        assert sign_in(client, AGENT, WRONG).status_code == 400
    assert sign_in(client).status_code == 400  # this browser is locked out now
    assert agent_by_email(db, AGENT).locked_until is None  # the account is not
    with TestClient(app) as other_browser:  # and nothing was counted against the address
        assert sign_in(other_browser).status_code == 303

    run_cli(env, "agent", "unlock", "--email", AGENT)
    assert sign_in(client).status_code == 303
    unlock = [e for e in audit_actions(db) if e.action == "agent.unlock"]
    assert unlock[-1].detail["devices_unlocked"] == 1


def test_agent_unlock_lets_the_agent_in_at_once_whatever_locked_or_throttled_them(
    client: Client, db: Database, app: Litestar, env: dict[str, str]
) -> None:
    make_agent(db)
    with TestClient(app) as attacker:
        flood(attacker, AGENT)  # the account locked, the office's address throttled
        assert sign_in(client).status_code == 429

        out = run_cli(env, "agent", "unlock", "--email", AGENT)
        assert f"unlocked {AGENT}" in out

        answer = sign_in(client)  # a browser new to the desk, at the throttled address
        assert answer.status_code == 303 and SESSION_COOKIE in client.cookies
        assert client.get("/tickets").status_code == 200
        assert sign_in(attacker, "nobody@example.com", WRONG).status_code == 429  # still held
    unlock = [e for e in audit_actions(db) if e.action == "agent.unlock"][-1]
    assert unlock.actor_label.startswith("cli:") and unlock.detail["was_locked"] is True


def test_administrators_see_the_address_throttles_in_force_and_lift_them(
    client: Client, db: Database, settings: Settings, app: Litestar
) -> None:
    make_agent(db)
    make_agent(db, email="admin@example.com", role="admin", name="Ada Admin")
    give_totp(db, settings, "admin@example.com")
    assert sign_in_fully(client, db, "admin@example.com").status_code == 303
    with TestClient(app) as agent_browser:
        assert sign_in(agent_browser).status_code == 303
        assert agent_browser.get("/admin/throttles").status_code == 403  # administrators only
    assert "No address is throttled" in client.get("/admin/throttles").text

    with TestClient(app) as attacker:
        flood(attacker, "nobody@example.com")
        for _ in range(RESET_REQUESTS_LIMIT):
            post_form(attacker, "/password/forgot", "/password/forgot", {"email": AGENT})
        page = client.get("/admin/throttles")
        rows = re.findall(
            r'<tr class="throttle-row" data-address="([^"]+)" data-kind="([^"]+)">', page.text
        )
        assert sorted(rows) == [("testclient", "password_reset"), ("testclient", "sign_in_failed")]
        assert "failed sign-ins" in page.text and "password reset requests" in page.text

        lifted = client.post(
            "/admin/throttles/lift",
            data={
                "kind": "sign_in_failed",
                "address": "testclient",
                "_csrf_token": csrf_token(page.text),
            },
            follow_redirects=False,
        )
        assert lifted.status_code == 303
        page = client.get("/admin/throttles")
        assert 'data-kind="sign_in_failed"' not in page.text
        assert 'data-kind="password_reset"' in page.text
        assert sign_in(attacker, "nobody@example.com", WRONG).status_code == 400  # answered
    lift = [e for e in audit_actions(db) if e.action == "throttle.lift"]
    assert len(lift) == 1 and lift[0].actor_label == "admin@example.com"
    assert lift[0].target_id == "testclient"
    assert lift[0].detail == {"kind": "sign_in_failed", "attempts": FAILED_SIGN_INS_LIMIT}
