"""What an administrator clicks: sign in with a password and an authenticator code."""

from __future__ import annotations

from typing import Any

from inbox.demo import DEMO_TOTP_SECRET
from inbox.models import utcnow
from inbox.rules.totp import hotp, time_step
from tests.support.browsing import SHOTS, submit_sign_in
from tests.support.processes import Deployment
from tests.support.served import load_demo_desk


def _sign_in(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/admin/audit")
    page.wait_for_url("**/login?next=/admin/audit")
    submit_sign_in(page, "admin@example.com")
    page.wait_for_url("**/login/two-factor?next=/admin/audit")


def test_admin_signs_in_with_totp_and_a_code_works_once(browser: Any, server: Deployment) -> None:
    load_demo_desk(server)
    page = browser.new_page()
    _sign_in(page, server.base_url)
    assert page.locator("h1").inner_text() == "Two-step sign-in"
    assert page.locator("header.top").count() == 0  # no way into the desk yet
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "two-factor.png"), full_page=True)

    code = hotp(DEMO_TOTP_SECRET, time_step(utcnow()))
    page.fill("form.totp input[name=code]", code)
    page.click("form.totp button")
    page.wait_for_url("**/admin/audit")
    assert page.locator("h1").inner_text() == "Audit log"
    assert page.locator("td.action", has_text="agent.second_factor").count() >= 1

    page.click("form.logout button")
    page.wait_for_url("**/login")
    _sign_in(page, server.base_url)
    page.fill("form.totp input[name=code]", code)  # the same code again: refused
    page.click("form.totp button")
    page.wait_for_selector("p.error")
    assert "used already" in page.locator("p.error").inner_text()
    assert "/login/two-factor" in page.url
    page.close()
