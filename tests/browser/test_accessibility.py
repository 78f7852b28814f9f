"""axe-core finds no serious or critical accessibility violation on the pages people use:
sign-in and the two-step sign-in, the inbox, a ticket, reports, notifications, the quarantine,
the administration pages and the agent's own two-factor page, in the light and the dark
colour scheme (the page's ``prefers-color-scheme``).

All pages are checked before the test fails, so one run lists everything to fix."""

from __future__ import annotations

from typing import Any

import pytest

from inbox.demo import DEMO_TOTP_SECRET
from inbox.models import utcnow
from inbox.rules.totp import hotp, time_step
from tests.support.accessibility import accessibility_problems
from tests.support.browsing import submit_sign_in
from tests.support.processes import Deployment

pytestmark = pytest.mark.server(demo=True)
SCHEMES = ("light", "dark")


class Checks:
    """Runs axe-core on a page in both colour schemes and keeps what it found."""

    def __init__(self, page: Any, base_url: str) -> None:
        self.page = page
        self.base_url = base_url
        self.problems: list[str] = []
        self.checked: list[str] = []

    def here(self, what: str) -> None:
        self.page.wait_for_load_state("networkidle")  # htmx has filled in the page
        for scheme in SCHEMES:
            self.page.emulate_media(color_scheme=scheme)
            if problems := accessibility_problems(self.page, what):
                self.problems.append(problems)
        self.checked.append(what)

    def open(self, path: str) -> None:
        answer = self.page.goto(self.base_url + path)
        assert answer is not None and answer.ok, (path, answer and answer.status)
        # axe-core is added under the policy the page really has (tests.support.accessibility).
        assert "script-src 'self'" in answer.headers["content-security-policy"], path
        self.here(path)


def links_under(page: Any, prefix: str) -> list[str]:
    """The pages of ``prefix`` the current page links to, each once, in page order."""
    hrefs = page.eval_on_selector_all(
        f"a[href^='{prefix}']", "links => links.map(a => a.getAttribute('href'))"
    )
    return list(dict.fromkeys(h.split("#")[0] for h in hrefs if "?" not in h))


@pytest.mark.slow
def test_pages_have_no_serious_or_critical_violations_in_either_scheme(
    browser: Any, server: Deployment
) -> None:
    page = browser.new_context(color_scheme="light").new_page()
    checks = Checks(page, server.base_url)

    checks.open("/login")
    submit_sign_in(page, "admin@example.com")
    page.wait_for_url("**/login/two-factor**")
    checks.here("/login/two-factor")
    page.fill("form.totp input[name=code]", hotp(DEMO_TOTP_SECRET, time_step(utcnow())))
    page.click("form.totp button")
    page.wait_for_url("**/tickets")

    checks.here("/tickets")
    ticket = page.locator("tr.ticket-row a").first.get_attribute("href")
    assert ticket and ticket.startswith("/tickets/")
    checks.open(ticket)
    checks.open("/reports")
    checks.open("/account/two-factor")
    checks.open("/notifications")
    checks.open("/quarantine")

    checks.open("/admin")
    areas = links_under(page, "/admin/")
    page.goto(server.base_url + "/admin/agents")
    areas += links_under(page, "/admin/agents/")  # an agent's page, adding an agent
    for path in dict.fromkeys(areas):
        checks.open(path)
    assert len(checks.checked) >= 15, checks.checked  # every area of /admin was reached

    assert not checks.problems, "\n\n".join(checks.problems)
    page.context.close()
