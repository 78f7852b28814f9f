"""Agent accounts under attack, over HTTP against the real app: lockout, look-alike failures,
two-factor sign-in (TOTP with replay protection, recovery codes, mailed codes), session
fixation, CSRF, password reset links, and the administrator pages."""

from __future__ import annotations

import re
import statistics
import time
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage

from httpx import Response
from litestar import Litestar
from litestar.testing import TestClient
from sqlmodel import col, select

from inbox.actions.audit import record_audit
from inbox.actions.signin.two_factor import can_unlock_accounts
from inbox.db import Database
from inbox.models import AgentSession, OneTimeCode, Outbox, utcnow
from inbox.rules.totp import hotp, time_step
from inbox.settings import Settings
from inbox.web.auth import SESSION_COOKIE
from tests.support.desk import PASSWORD, agent_by_email, make_agent, make_channel, outbox_mail
from tests.support.web import Client, csrf_token, post_form, sign_in

SIGNED_IN_PAGE = "/account/two-factor"  # any page that needs a full session
SAME_ANSWER = "Wrong address or password, or the account is locked."


def _field(html: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert found, f"no field {name}"
    return found.group(1)


def login(client: Client, email: str = "agent@example.com", password: str = PASSWORD) -> Response:
    return sign_in(client, email, password, next="/quarantine")


def reset_password(client: Client, token: str, password: str) -> Response:
    """Sets a new password with a reset link's token, typed twice alike."""
    return client.post(
        "/password/reset",
        data={
            "token": token,
            "password": password,
            "confirm": password,
            "_csrf_token": csrf_token(client.get("/password/forgot").text),
        },
    )


def prove(client: Client, method: str, code: str) -> Response:
    return post_form(
        client,
        "/login/two-factor",
        "/login/two-factor",
        {"method": method, "code": code, "next": "/quarantine"},
    )


def current_code(secret: str, ahead: int = 0) -> str:
    return hotp(secret, time_step(utcnow()) + ahead)


def enrol_totp(client: Client) -> tuple[str, list[str]]:
    """Sets up an authenticator from the account page; returns its key and the recovery codes."""
    page = client.get("/account/two-factor")
    secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', page.text)
    assert secret and "otpauth://totp/" in page.text
    shown = client.post(
        "/account/two-factor",
        data={
            "sealed": _field(page.text, "sealed"),
            "code": current_code(secret.group(1)),
            "_csrf_token": csrf_token(page.text),
        },
    )
    assert shown.status_code == 200 and shown.headers["cache-control"] == "no-store"
    codes = re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", shown.text)
    assert len(codes) == 10
    return secret.group(1), codes


def enrol_at_challenge(client: Client) -> tuple[str, Response]:
    """Sets up an authenticator on the challenge after the password, as the first sign-in of a
    manager or admin without any factor and without mail does; returns its key and the answer."""
    page = client.get("/login/two-factor")
    secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', page.text)
    assert secret
    shown = client.post(
        "/login/two-factor",
        data={
            "method": "enrol",
            "sealed": _field(page.text, "sealed"),
            "code": current_code(secret.group(1)),
            "next": "/quarantine",
            "_csrf_token": csrf_token(page.text),
        },
    )
    return secret.group(1), shown


def bootstrap_second_factor(client: Client, email: str) -> tuple[str, list[str]]:
    """A manager or admin without any factor and without mail: the first sign-in sets one up."""
    assert login(client, email).headers["location"].startswith("/login/two-factor")
    secret, shown = enrol_at_challenge(client)
    assert shown.status_code == 200
    codes = re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", shown.text)
    return secret, codes


def logout(client: Client) -> None:
    page = client.get(SIGNED_IN_PAGE)
    client.post("/logout", headers={"x-csrftoken": csrf_token(page.text)})
    client.cookies.clear()


def mails_to(db: Database, settings: Settings, address: str, kind: str) -> list[EmailMessage]:
    with db.reading() as session:
        rows = session.exec(
            select(Outbox)
            .where(Outbox.recipient == address, Outbox.kind == kind)
            .order_by(col(Outbox.id))
        ).all()
    return [message_from_bytes(outbox_mail(settings, row), policy=policy.default) for row in rows]


def body(mail: EmailMessage) -> str:
    content = mail.get_content()
    assert isinstance(content, str)
    return content


def signed_in(client: Client) -> bool:
    return client.get(SIGNED_IN_PAGE, follow_redirects=False).status_code == 200


# --- TOTP itself ------------------------------------------------------------------------


def test_totp_codes_match_the_rfc_6238_test_vectors() -> None:
    secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # "12345678901234567890" in base32
    assert hotp(secret, 59 // 30, digits=8) == "94287082"
    assert hotp(secret, 1111111109 // 30, digits=8) == "07081804"
    assert hotp(secret, 1234567890 // 30, digits=8) == "89005924"
    assert hotp(secret, 20000000000 // 30, digits=8) == "65353130"


# --- passwords and lockout ------------------------------------------------------------


def test_unknown_address_wrong_password_and_locked_account_look_alike(
    client: Client, db: Database
) -> None:
    make_agent(db)
    make_agent(db, email="locked@example.com", name="Lee Locked")
    for _ in range(5):
        login(client, "locked@example.com", "wrong password 123")

    def attempt(email: str, password: str) -> tuple[int, str, float]:
        csrf = csrf_token(client.get("/login").text)
        started = time.perf_counter()
        response = client.post(
            "/login",
            data={"email": email, "password": password, "next": "/quarantine"},
            headers={"x-csrftoken": csrf},
        )
        elapsed = time.perf_counter() - started
        text = re.sub(r'value="[^"]*"', "", response.text)  # CSRF tokens differ per page
        return response.status_code, text, elapsed

    cases = {
        "unknown": ("nobody@example.com", PASSWORD),
        "wrong": ("agent@example.com", "wrong password 123"),
        "locked": ("locked@example.com", PASSWORD),  # the right password, but locked
    }
    results: dict[str, list[tuple[int, str, float]]] = {name: [] for name in cases}
    for _ in range(4):  # interleaved, so a busy moment of the machine hits every case alike
        for name, case in cases.items():
            results[name].append(attempt(*case))
    answers = {(status, text) for runs in results.values() for status, text, _ in runs}
    assert len(answers) == 1
    status, text = answers.pop()
    assert status == 400 and SAME_ANSWER in text
    medians = [statistics.median(t for *_, t in runs) for runs in results.values()]
    assert max(medians) < 2 * min(medians), f"timings differ: {medians}"


def test_five_wrong_passwords_lock_the_account_until_an_admin_unlocks_it(
    client: Client, db: Database, app: Litestar
) -> None:
    make_agent(db)
    make_agent(db, email="admin@example.com", role="admin", name="Ada Admin")
    for _ in range(5):
        assert login(client, password="wrong password 123").status_code == 400
    assert login(client).status_code == 400  # right password, locked

    with TestClient(app) as admin:
        bootstrap_second_factor(admin, "admin@example.com")
        page = admin.get("/admin/agents")
        assert page.status_code == 200
        row = re.search(r'data-email="agent@example.com">.*?</tr>', page.text, re.S)
        assert row and "locked until" in row.group(0)
        action = re.search(r'action="(/admin/agents/\d+/unlock)"', row.group(0))
        assert action
        unlocked = admin.post(
            action.group(1), data={"_csrf_token": csrf_token(page.text)}, follow_redirects=False
        )
        assert unlocked.status_code == 303
        audit = admin.get("/admin/audit?action=agent.unlock").text
        assert "admin@example.com" in audit and "was_locked=True" in audit

    assert login(client).status_code == 303


def test_the_strength_policy_applies_to_new_passwords(
    client: Client, db: Database, settings: Settings
) -> None:
    make_agent(db)
    make_channel(db, settings)
    post_form(client, "/password/forgot", "/password/forgot", {"email": "agent@example.com"})
    [reset] = mails_to(db, settings, "agent@example.com", "password_reset")
    link = re.search(r"/password/reset\?token=\S+", body(reset))
    assert link
    form = client.get(link.group(0))
    for weak, reason in [
        ("short pw 1", "at least 12 characters"),
        ("alex agent forever", "must not contain your name"),
        ("aaaaaaaaaaaaaaaa", "more variety"),
    ]:
        refused = client.post(
            "/password/reset",
            data={
                "token": _field(form.text, "token"),
                "password": weak,
                "confirm": weak,
                "_csrf_token": csrf_token(form.text),
            },
        )
        assert refused.status_code == 400 and reason in refused.text
    assert login(client).status_code == 303  # the old password still works: nothing was spent


# --- the second factor ------------------------------------------------------------------


def test_a_manager_reaches_nothing_until_a_second_factor_is_proven(
    client: Client, db: Database
) -> None:
    make_agent(db, email="manager@example.com", role="manager", name="Max Manager")
    response = login(client, "manager@example.com")
    assert response.status_code == 303
    assert response.headers["location"] == "/login/two-factor?next=/quarantine"
    for path in ("/quarantine", SIGNED_IN_PAGE, "/admin/audit"):
        assert client.get(path, follow_redirects=False).status_code == 303
    assert (
        client.get("/login", follow_redirects=False)
        .headers["location"]
        .startswith("/login/two-factor")
    )
    nope = client.post("/account/two-factor/recovery-codes", headers={"x-csrftoken": "x"})
    assert nope.status_code in (401, 403)

    secret, codes = bootstrap_second_factor(client, "manager@example.com")
    assert secret and len(codes) == 10
    assert signed_in(client)
    assert client.get("/quarantine").status_code == 200


def test_session_id_changes_at_sign_in_and_again_after_the_second_factor(
    client: Client, db: Database, app: Litestar
) -> None:
    make_agent(db, email="manager@example.com", role="manager", name="Max Manager")
    client.cookies.set(SESSION_COOKIE, "planted-by-attacker", domain="testserver.local")
    login(client, "manager@example.com")
    after_password = client.cookies[SESSION_COOKIE]
    assert after_password != "planted-by-attacker"
    enrol_at_challenge(client)
    after_second_factor = client.cookies[SESSION_COOKIE]
    assert after_second_factor not in (after_password, "planted-by-attacker")
    assert signed_in(client)
    with TestClient(app) as attacker:  # whoever saw the pending session id gets nothing
        attacker.cookies.set(SESSION_COOKIE, after_password)
        assert attacker.get(SIGNED_IN_PAGE, follow_redirects=False).status_code == 303
        assert attacker.get("/login/two-factor", follow_redirects=False).status_code == 303


def test_a_totp_code_is_accepted_once(client: Client, db: Database) -> None:
    make_agent(db)
    login(client)
    secret, _ = enrol_totp(client)
    logout(client)

    assert login(client).headers["location"].startswith("/login/two-factor")
    code = current_code(secret, ahead=1)  # the enrolment spent the current step
    accepted = prove(client, "totp", code)
    assert accepted.status_code == 303 and accepted.headers["location"] == "/quarantine"
    logout(client)

    login(client)
    replayed = prove(client, "totp", code)
    assert replayed.status_code == 400 and "wrong or was used already" in replayed.text
    assert not signed_in(client)
    assert prove(client, "totp", current_code(secret)).status_code == 400  # an older step too


def test_a_recovery_code_works_once(client: Client, db: Database) -> None:
    make_agent(db)
    login(client)
    _, codes = enrol_totp(client)
    logout(client)

    login(client)
    assert prove(client, "recovery", codes[3].upper()).status_code == 303
    logout(client)
    login(client)
    assert prove(client, "recovery", codes[3]).status_code == 400
    assert prove(client, "recovery", "aaaaa-bbbbb").status_code == 400
    assert prove(client, "recovery", codes[4]).status_code == 303
    assert "8 unused recovery codes left" in client.get(SIGNED_IN_PAGE).text


def test_wrong_codes_count_towards_the_lockout(client: Client, db: Database) -> None:
    make_agent(db)
    login(client)
    secret, _ = enrol_totp(client)
    logout(client)
    login(client)
    right = current_code(secret, ahead=1)
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    for _ in range(5):
        assert prove(client, "totp", wrong).status_code == 400
    assert prove(client, "totp", right).status_code == 400  # locked now
    assert not signed_in(client)
    assert agent_by_email(db, "agent@example.com").locked_until is not None


def test_a_mailed_code_signs_a_manager_in_once(
    client: Client, db: Database, settings: Settings
) -> None:
    make_channel(db, settings)
    make_agent(db, email="manager@example.com", role="manager", name="Max Manager")
    login(client, "manager@example.com")
    challenge = client.get("/login/two-factor")
    assert "Email me a code" in challenge.text and 'name="sealed"' not in challenge.text
    sent = post_form(client, "/login/two-factor/email", "/login/two-factor", {})
    assert sent.status_code == 200 and "on its way" in sent.text
    mail = mails_to(db, settings, "manager@example.com", "sign_in_code")[-1]
    assert mail["From"].addresses[0].addr_spec == "support@example.com"
    assert mail["Auto-Submitted"] == "auto-generated"
    code = re.search(r"\b(\d{6})\b", body(mail))
    assert code
    assert prove(client, "email", code.group(1)).status_code == 303
    assert signed_in(client)
    logout(client)

    login(client, "manager@example.com")
    assert prove(client, "email", code.group(1)).status_code == 400


def test_mailed_codes_are_throttled(client: Client, db: Database, settings: Settings) -> None:
    make_channel(db, settings)
    make_agent(db, email="manager@example.com", role="manager", name="Max Manager")
    login(client, "manager@example.com")
    for _ in range(3):
        assert (
            post_form(client, "/login/two-factor/email", "/login/two-factor", {}).status_code == 200
        )
    fourth = post_form(client, "/login/two-factor/email", "/login/two-factor", {})
    assert fourth.status_code == 429
    assert len(mails_to(db, settings, "manager@example.com", "sign_in_code")) == 3


def test_re_verification_refreshes_the_second_factor(
    client: Client, db: Database, app: Litestar
) -> None:
    make_agent(db, email="admin@example.com", role="admin", name="Ada Admin")
    make_agent(db, email="other@example.com", role="admin", name="Oli Other")
    secret, _ = bootstrap_second_factor(client, "admin@example.com")
    with TestClient(app) as other:
        bootstrap_second_factor(other, "other@example.com")
    with db.unit_of_work() as session:  # the proof is old now
        for row in session.exec(select(AgentSession)).all():
            row.second_factor_at = utcnow() - timedelta(minutes=30)
            session.add(row)
    other_id = agent_by_email(db, "other@example.com").id
    page = client.get("/admin/agents")
    reset = client.post(
        f"/admin/agents/{other_id}/two-factor/reset",
        data={"_csrf_token": csrf_token(page.text)},
        follow_redirects=False,
    )
    assert reset.headers["location"] == "/account/verify?next=/admin/agents"
    assert agent_by_email(db, "other@example.com").totp_secret_encrypted  # nothing happened
    before = client.cookies[SESSION_COOKIE]
    verified = post_form(
        client,
        "/account/verify",
        "/account/verify?next=/admin/agents",
        {"method": "totp", "code": current_code(secret, ahead=1), "next": "/admin/agents"},
    )
    assert verified.status_code == 303 and verified.headers["location"] == "/admin/agents"
    assert client.cookies[SESSION_COOKIE] != before
    page = client.get("/admin/agents")
    reset = client.post(
        f"/admin/agents/{other_id}/two-factor/reset",
        data={"_csrf_token": csrf_token(page.text)},
        follow_redirects=False,
    )
    assert reset.status_code == 303 and reset.headers["location"] == "/admin/agents"
    assert agent_by_email(db, "other@example.com").totp_secret_encrypted is None
    assert "agent.two_factor_reset" in client.get("/admin/audit").text


# --- CSRF ---------------------------------------------------------------------------------


def test_new_forms_refuse_a_missing_or_forged_csrf_token(
    client: Client, db: Database, settings: Settings
) -> None:
    make_channel(db, settings)
    make_agent(db, email="admin@example.com", role="admin", name="Ada Admin")
    make_agent(db)
    client.get("/login")  # a CSRF cookie exists; the request just does not carry the token
    public = {
        "/password/forgot": {"email": "agent@example.com"},
        "/password/reset": {"token": "x", "password": "p" * 14, "confirm": "p" * 14},
    }
    for path, data in public.items():
        assert client.post(path, data=data).status_code == 403
        assert client.post(path, data={**data, "_csrf_token": "forged"}).status_code == 403
    assert mails_to(db, settings, "agent@example.com", "password_reset") == []

    login(client, "admin@example.com")
    for path in ("/login/two-factor", "/login/two-factor/email"):
        assert client.post(path, data={"method": "email", "code": "1"}).status_code == 403
        assert client.post(path, data={"_csrf_token": "forged"}).status_code == 403
    post_form(client, "/login/two-factor/email", "/login/two-factor", {})
    mail = mails_to(db, settings, "admin@example.com", "sign_in_code")[-1]
    code = re.search(r"\b(\d{6})\b", body(mail))
    assert code and prove(client, "email", code.group(1)).status_code == 303

    agent_id = agent_by_email(db, "agent@example.com").id
    protected = [
        "/account/two-factor",
        "/account/two-factor/recovery-codes",
        f"/admin/agents/{agent_id}/unlock",
        f"/admin/agents/{agent_id}/two-factor/reset",
        "/account/verify",
        "/account/verify/email",
    ]
    for path in protected:
        assert client.post(path, data={}).status_code == 403, path
        assert client.post(path, headers={"x-csrftoken": "forged"}).status_code == 403, path
    assert len(mails_to(db, settings, "admin@example.com", "sign_in_code")) == 1


# --- password reset -----------------------------------------------------------------------


def test_reset_link_works_once_and_signs_the_agent_out_everywhere(
    client: Client, db: Database, settings: Settings, app: Litestar
) -> None:
    make_channel(db, settings)
    make_agent(db)
    with TestClient(app) as elsewhere:  # the agent is signed in on another machine
        assert login(elsewhere).status_code == 303 and signed_in(elsewhere)

        page = client.get("/password/forgot")
        answers = [
            client.post(
                "/password/forgot",
                data={"email": email, "_csrf_token": csrf_token(page.text)},
                headers={"host": "evil.example"},
            )
            for email in ("agent@example.com", "nobody@example.com")
        ]
        assert {a.status_code for a in answers} == {200}
        assert len({re.sub(r'value="[^"]*"', "", a.text) for a in answers}) == 1
        assert "on its way" in answers[0].text
        mails = mails_to(db, settings, "agent@example.com", "password_reset")
        assert len(mails) == 1
        assert mails_to(db, settings, "nobody@example.com", "password_reset") == []
        link = re.search(r"(\S+/password/reset\?token=)(\S+)", body(mails[0]))
        assert link and link.group(1) == f"{settings.base_url}/password/reset?token="
        path = f"/password/reset?token={link.group(2)}"

        form = client.get(path)
        assert form.status_code == 200 and form.headers["referrer-policy"] == "no-referrer"
        new = "a whole new passphrase 2026"
        done = client.post(
            "/password/reset",
            data={
                "token": link.group(2),
                "password": new,
                "confirm": new,
                "_csrf_token": csrf_token(form.text),
            },
        )
        assert done.status_code == 200 and "Password changed" in done.text
        assert not signed_in(elsewhere)

    assert login(client).status_code == 400
    assert login(client, password=new).status_code == 303
    again = client.get(path)
    assert again.status_code == 400 and "invalid, used or expired" in again.text
    reused = reset_password(client, link.group(2), "yet another passphrase")
    assert reused.status_code == 400 and "invalid, used or expired" in reused.text
    assert login(client, password=new).status_code == 303


def test_reset_link_expires(client: Client, db: Database, settings: Settings) -> None:
    make_channel(db, settings)
    make_agent(db)
    post_form(client, "/password/forgot", "/password/forgot", {"email": "agent@example.com"})
    [reset] = mails_to(db, settings, "agent@example.com", "password_reset")
    link = re.search(r"token=(\S+)", body(reset))
    assert link
    with db.unit_of_work() as session:
        row = session.exec(select(OneTimeCode)).one()
        row.expires_at = utcnow() - timedelta(seconds=1)
        session.add(row)
    page = client.get(f"/password/reset?token={link.group(1)}")
    assert page.status_code == 400 and "invalid, used or expired" in page.text
    refused = reset_password(client, link.group(1), "a whole new passphrase")
    assert refused.status_code == 400
    assert login(client).status_code == 303  # the old password stands


def test_reset_requests_are_throttled_per_agent(
    client: Client, db: Database, settings: Settings
) -> None:
    make_channel(db, settings)
    make_agent(db)
    for _ in range(5):
        answer = post_form(
            client, "/password/forgot", "/password/forgot", {"email": "agent@example.com"}
        )
        assert answer.status_code == 200
    assert len(mails_to(db, settings, "agent@example.com", "password_reset")) == 3


# --- administration -----------------------------------------------------------------------


def test_admin_pages_are_forbidden_to_agents_and_managers(
    client: Client, db: Database, app: Litestar
) -> None:
    make_agent(db)
    make_agent(db, email="manager@example.com", role="manager", name="Max Manager")
    agent_id = agent_by_email(db, "agent@example.com").id
    login(client)
    with TestClient(app) as manager:
        bootstrap_second_factor(manager, "manager@example.com")
        for browser in (client, manager):
            page = browser.get(SIGNED_IN_PAGE)
            assert "/admin/audit" not in page.text  # not even offered
            for path in ("/admin/agents", "/admin/audit", "/admin/audit?action=agent.login"):
                assert browser.get(path, headers={"accept": "text/html"}).status_code == 403
            forbidden = browser.post(
                f"/admin/agents/{agent_id}/unlock", data={"_csrf_token": csrf_token(page.text)}
            )
            assert forbidden.status_code == 403


def test_audit_log_pages_and_filters(client: Client, db: Database) -> None:
    make_agent(db, email="admin@example.com", role="admin", name="Ada Admin")
    with db.unit_of_work() as session:
        for n in range(60):
            record_audit(session, "test.tick", target_type="thing", target_id=n)
    bootstrap_second_factor(client, "admin@example.com")
    first = client.get("/admin/audit?action=test.tick")
    rows = re.findall(r"<td>thing (\d+)</td>", first.text)
    assert rows[:2] == ["59", "58"] and len(rows) == 50
    older = re.search(r'class="older" href="([^"]+)"', first.text)
    assert older
    second = client.get(older.group(1).replace("&amp;", "&"))
    assert re.findall(r"<td>thing (\d+)</td>", second.text) == [str(n) for n in range(9, -1, -1)]
    assert 'class="older"' not in second.text
    everything = client.get("/admin/audit").text
    assert "agent.login" in everything and "agent.second_factor" in everything


def test_an_agent_allowed_to_unlock_accounts_must_use_a_second_factor(
    client: Client, db: Database, app: Litestar
) -> None:
    make_agent(db)
    make_agent(db, email="admin@example.com", role="admin", name="Ada Admin")
    assert login(client).headers["location"] == "/quarantine"  # password alone, so far
    assert signed_in(client)
    with TestClient(app) as admin:
        bootstrap_second_factor(admin, "admin@example.com")
        page = admin.get("/admin/agents")
        row = re.search(r'data-email="agent@example.com">.*?</tr>', page.text, re.S)
        assert row and "Allow unlocking customer accounts" in row.group(0)
        action = re.search(r'action="(/admin/agents/\d+/unlock-permission)"', row.group(0))
        assert action
        granted = admin.post(
            action.group(1),
            data={"allowed": "yes", "_csrf_token": csrf_token(page.text)},
            follow_redirects=False,
        )
        assert granted.status_code == 303
        assert "may unlock accounts" in admin.get("/admin/agents").text

    assert can_unlock_accounts(agent_by_email(db, "agent@example.com"))
    assert not signed_in(client)  # a privilege change ends the agent's sessions
    assert login(client).headers["location"].startswith("/login/two-factor")
    assert not signed_in(client)


def test_an_api_token_never_becomes_a_browser_session(client: Client, db: Database) -> None:
    _, token = make_agent(db, email="admin@example.com", role="admin", name="Ada Admin")
    bearer = {"authorization": f"Bearer {token}", "accept": "text/html"}
    for path in ("/login/two-factor", "/account/verify", "/account/two-factor", "/admin/audit"):
        assert client.get(path, headers=bearer).status_code == 403, path
    csrf = csrf_token(client.get("/login").text)
    proved = client.post(
        "/login/two-factor",
        data={"method": "email", "code": "000000", "_csrf_token": csrf},
        headers=bearer,
    )
    assert proved.status_code == 403 and SESSION_COOKIE not in client.cookies


def test_new_recovery_codes_need_a_fresh_second_factor_and_replace_the_old_ones(
    client: Client, db: Database
) -> None:
    make_agent(db)
    login(client)
    secret, old_codes = enrol_totp(client)
    assert signed_in(client)  # setting up the app proved it: this session goes on
    with db.unit_of_work() as session:  # the proof is old now
        for row in session.exec(select(AgentSession)).all():
            row.second_factor_at = utcnow() - timedelta(minutes=30)
            session.add(row)
    page = client.get(SIGNED_IN_PAGE)
    asked = client.post(
        "/account/two-factor/recovery-codes",
        data={"_csrf_token": csrf_token(page.text)},
        follow_redirects=False,
    )
    assert asked.headers["location"] == "/account/verify?next=/account/two-factor"
    verified = post_form(
        client,
        "/account/verify",
        "/account/verify?next=/account/two-factor",
        {"method": "totp", "code": current_code(secret, ahead=1), "next": "/account/two-factor"},
    )
    assert verified.headers["location"] == "/account/two-factor"
    page = client.get(SIGNED_IN_PAGE)
    shown = client.post(
        "/account/two-factor/recovery-codes", data={"_csrf_token": csrf_token(page.text)}
    )
    new_codes = re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", shown.text)
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    logout(client)
    login(client)
    assert prove(client, "recovery", old_codes[0]).status_code == 400
    assert prove(client, "recovery", new_codes[0]).status_code == 303


def test_after_the_second_factor_only_local_paths_are_followed(
    client: Client, db: Database
) -> None:
    make_agent(db)
    login(client)
    secret, _ = enrol_totp(client)
    logout(client)
    login(client)
    assert 'value="/tickets"' in client.get("/login/two-factor?next=//evil.example/").text
    done = post_form(
        client,
        "/login/two-factor",
        "/login/two-factor",
        {"method": "totp", "code": current_code(secret, ahead=1), "next": "https://evil.example/"},
    )
    assert done.status_code == 303 and done.headers["location"] == "/tickets"
