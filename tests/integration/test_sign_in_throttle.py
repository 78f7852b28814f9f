"""Sign-in attacks from one network address, against real ``inbox serve`` processes sharing
one database: an attacker who sprays passwords over many accounts (known or not), guesses
second-factor codes or floods password reset requests is answered 429 with Retry-After once
the address has used up its attempts, whichever web process it asks and whatever it writes in
X-Forwarded-For; the answer never depends on the account; other addresses sign in as usual.

The clients connect from different loopback addresses (127.0.0.2, 127.0.0.3, ...), so the
server sees different peers, as it would see different machines."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from inbox.db import Database
from inbox.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET
from inbox.models import utcnow
from inbox.models.agents import SignInAttempt
from inbox.rules.sign_in_limits import FAILED_SIGN_INS, RESET_REQUESTS
from inbox.rules.totp import hotp, time_step
from inbox.settings import load_settings
from tests.support.processes import Deployment, web_process

ATTACKER = "127.0.0.2"
COLLEAGUE = "127.0.0.3"
AGENT = "agent@example.com"  # the demo's agents, all with DEMO_PASSWORD
MANAGER = "manager@example.com"  # signs in with DEMO_TOTP_SECRET as second factor
pytestmark = pytest.mark.server(demo=True)  # the demo desk: its agents, their passwords
SAME_ANSWER = "Wrong address or password, or the account is locked."
RESET_SENT = "If that address belongs to an agent"


@pytest.fixture
def other_web(server: Deployment, tmp_path: Path) -> Iterator[str]:
    with web_process(server.env, tmp_path / "serve2.log") as address:
        yield address


def browser(address: str, source: str) -> httpx.Client:
    """A browser on the machine with address ``source``."""
    transport = httpx.HTTPTransport(local_address=source)
    return httpx.Client(base_url=address, transport=transport, timeout=30)


def _csrf(client: httpx.Client, path: str) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', client.get(path).text)
    assert found, f"no form on {path}"
    return found.group(1)


def sign_in(
    client: httpx.Client, email: str, password: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    data = {"email": email, "password": password, "next": "/tickets"}
    return client.post(
        "/login", data={**data, "_csrf_token": _csrf(client, "/login")}, headers=headers
    )


def ask_for_reset(client: httpx.Client, email: str) -> httpx.Response:
    token = _csrf(client, "/password/forgot")
    return client.post("/password/forgot", data={"email": email, "_csrf_token": token})


def prove_totp(client: httpx.Client, code: str) -> httpx.Response:
    token = _csrf(client, "/login/two-factor")
    data = {"method": "totp", "code": code, "next": "/tickets", "_csrf_token": token}
    return client.post("/login/two-factor", data=data)


def without_tokens(html: str) -> str:
    """A page with what changes from one request to the next (CSRF tokens, the minutes left)
    blanked, to compare answers."""
    html = re.sub(r'value="[^"]*"|"x-csrftoken": "[^"]*"', "", html)
    return re.sub(r"in \d+ minutes?", "in some minutes", html)


def retry_after(response: httpx.Response, most: timedelta) -> int:
    assert response.status_code == 429, response.text
    seconds = int(response.headers["retry-after"])
    assert 0 < seconds <= most.total_seconds()
    return seconds


def wind_clock(env: dict[str, str], by: timedelta) -> None:
    """Time passes for the throttle: every attempt counted so far happened ``by`` earlier."""
    db = Database(load_settings(env).database_url)
    with db.unit_of_work() as session:
        for attempt in session.exec(select(SignInAttempt)).all():
            attempt.created_at -= by
            session.add(attempt)
    db.dispose()


def test_spraying_accounts_from_one_address_gets_429_from_every_web_process_alike(
    server: Deployment, other_web: str
) -> None:
    webs = [browser(server.base_url, ATTACKER), browser(other_web, ATTACKER)]
    victims = [f"nobody{n}@example.com" for n in range(FAILED_SIGN_INS.limit - 4)]
    victims += [AGENT] * 4  # a real account too, though short of its own lockout of five
    for n, email in enumerate(victims):
        # Rewriting X-Forwarded-For does not make a new client: no proxy is trusted here.
        forged = {"X-Forwarded-For": f"203.0.113.{n}"}
        answer = sign_in(webs[n % 2], email, "wrong password 123", headers=forged)
        assert answer.status_code == 400 and SAME_ANSWER in answer.text

    unknown = sign_in(webs[0], "nobody@example.com", DEMO_PASSWORD)
    known = sign_in(webs[1], AGENT, DEMO_PASSWORD)  # the right password, not even tried now
    for answer in (unknown, known):
        retry_after(answer, FAILED_SIGN_INS.window)
        assert "Too many attempts from your network" in answer.text
        assert "inbox_session" not in answer.cookies
    assert without_tokens(unknown.text) == without_tokens(known.text)

    colleague = browser(other_web, COLLEAGUE)  # the same desk, another machine
    signed_in = sign_in(colleague, AGENT, DEMO_PASSWORD)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/tickets"
    assert colleague.get("/tickets").status_code == 200

    # Temporary: once the window has passed, the address is answered as before.
    wind_clock(server.env, FAILED_SIGN_INS.window)
    assert sign_in(webs[0], "nobody@example.com", "wrong").status_code == 400
    assert sign_in(webs[1], AGENT, DEMO_PASSWORD).status_code == 303


@pytest.mark.slow
def test_guessing_second_factor_codes_counts_against_the_address(
    server: Deployment, other_web: str
) -> None:
    attacker = browser(server.base_url, ATTACKER)
    for n in range(FAILED_SIGN_INS.limit - 4):
        assert sign_in(attacker, f"nobody{n}@example.com", "wrong").status_code == 400
    # The password of the manager is known to the attacker; codes are guessed, four of them,
    # on the other web process: one short of the account's own lockout.
    attacker_elsewhere = browser(other_web, ATTACKER)
    challenge = sign_in(attacker_elsewhere, MANAGER, DEMO_PASSWORD)
    assert challenge.headers["location"].startswith("/login/two-factor")
    right = hotp(DEMO_TOTP_SECRET, time_step(utcnow()))
    wrong = f"{(int(right) + 500_000) % 10**6:06d}"
    for _ in range(4):
        assert prove_totp(attacker_elsewhere, wrong).status_code == 400

    blocked = prove_totp(attacker_elsewhere, right)  # the right code, not even tried now
    retry_after(blocked, FAILED_SIGN_INS.window)
    assert "Too many attempts from your network" in blocked.text
    assert attacker_elsewhere.get("/tickets").status_code == 303  # still not signed in

    colleague = browser(server.base_url, COLLEAGUE)
    assert sign_in(colleague, MANAGER, DEMO_PASSWORD).status_code == 303
    assert prove_totp(colleague, right).status_code == 303
    assert colleague.get("/tickets").status_code == 200


@pytest.mark.slow
def test_password_reset_requests_are_throttled_per_address_whatever_the_email(
    server: Deployment, other_web: str
) -> None:
    webs = [browser(server.base_url, ATTACKER), browser(other_web, ATTACKER)]
    for n in range(RESET_REQUESTS.limit):
        email = AGENT if n % 3 == 0 else f"nobody{n}@example.com"
        answer = ask_for_reset(webs[n % 2], email)
        assert answer.status_code == 200 and RESET_SENT in answer.text

    unknown = ask_for_reset(webs[0], "nobody@example.com")
    known = ask_for_reset(webs[1], MANAGER)
    for answer in (unknown, known):
        retry_after(answer, RESET_REQUESTS.window)
        assert RESET_SENT not in answer.text
    assert without_tokens(unknown.text) == without_tokens(known.text)

    colleague = browser(server.base_url, COLLEAGUE)
    assert RESET_SENT in ask_for_reset(colleague, MANAGER).text


@pytest.mark.slow
def test_behind_a_trusted_proxy_the_client_is_the_address_the_proxy_appended(
    server: Deployment, tmp_path: Path
) -> None:
    behind_proxy = {**server.env, "INBOX_TRUSTED_PROXY_HOPS": "1"}
    with web_process(behind_proxy, tmp_path / "proxied.log") as address:
        proxy = browser(address, ATTACKER)  # every request arrives from the proxy's address
        for n in range(FAILED_SIGN_INS.limit):
            # The attacker writes the first entry; the proxy appends the peer it saw.
            hops = {"X-Forwarded-For": f"198.51.100.{n}, 203.0.113.9"}
            assert sign_in(proxy, f"nobody{n}@example.com", "wrong", hops).status_code == 400
        blocked = sign_in(proxy, AGENT, DEMO_PASSWORD, {"X-Forwarded-For": "203.0.113.9"})
        retry_after(blocked, FAILED_SIGN_INS.window)

        # Another client behind the same proxy signs in.
        other = sign_in(proxy, AGENT, DEMO_PASSWORD, {"X-Forwarded-For": "203.0.113.10"})
        assert other.status_code == 303
