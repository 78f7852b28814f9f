"""Every page works under the Content-Security-Policy (the desk's own script files only, no
inline script, style or eval): Chromium reports no violation on any page an agent, a
manager or an administrator opens, and what the scripts do still happens: htmx fills in the
customer panel and the counts, a colleague's typing shows live, the charts have their
colours."""

from __future__ import annotations

from typing import Any

import pytest

from inbox.demo import DEMO_TOTP_SECRET
from inbox.models import utcnow
from inbox.rules.totp import hotp, time_step
from tests.support.browsing import submit_sign_in
from tests.support.processes import Deployment

pytestmark = pytest.mark.server(demo=True)
# Set before any script of the page runs: what the browser refused, as the page saw it.
WATCH_POLICY = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline") +
                            " at " + e.sourceFile + ":" + e.lineNumber);
});
window.liveOpen = false;
document.addEventListener("htmx:wsOpen", function () { window.liveOpen = true; });
"""
ADMIN_PAGES = [
    "/tickets",
    "/admin/agents",
    "/admin/audit",
    "/admin/sla",
    "/admin/followups",
    "/admin/statuses",
    "/admin/throttles",
    "/admin/tokens",
    "/admin/macros",
    "/account/two-factor",
    "/notifications",
    "/calls/new",
    "/quarantine",
    "/reports",
]


def watched_page(browser: Any) -> Any:
    """A page whose refusals (in the page and in the console) and htmx errors are kept in
    ``page.refused``."""
    context = browser.new_context()
    context.add_init_script(WATCH_POLICY)
    page = context.new_page()
    page.refused = []
    page.on(
        "console",
        lambda m: (
            page.refused.append(m.text)
            if m.type == "error"
            and any(w in m.text for w in ("Content Security Policy", "htmx", "Refused"))
            else None
        ),
    )
    return page


def settled(page: Any, path: str) -> None:
    """Open ``path`` and wait until it has loaded and htmx has filled it in; then nothing it
    did may have been refused."""
    answer = page.goto(page.base_url + path)
    assert "script-src 'self'" in answer.headers.get("content-security-policy", ""), path
    page.wait_for_load_state("networkidle")
    violations = page.evaluate("window.cspViolations")
    assert violations == [] and page.refused == [], (path, violations, page.refused)


@pytest.mark.slow
def test_every_page_works_under_the_policy_without_a_violation(
    browser: Any, server: Deployment
) -> None:
    admin = watched_page(browser)
    admin.base_url = server.base_url
    settled(admin, "/login")
    submit_sign_in(admin, "admin@example.com")
    admin.wait_for_url("**/login/two-factor**")
    settled(admin, "/login/two-factor")
    admin.fill("form.totp input[name=code]", hotp(DEMO_TOTP_SECRET, time_step(utcnow())))
    admin.click("form.totp button")
    admin.wait_for_url("**/tickets")
    for path in ADMIN_PAGES:
        settled(admin, path)

    # htmx, loaded from the desk, still does its work: the counts of the views.
    admin.goto(server.base_url + "/tickets")
    admin.wait_for_function("() => document.querySelector('li[data-view=open] .count') !== null")
    # The charts keep their colours, from the stylesheet that replaced their inline styles.
    admin.goto(server.base_url + "/reports")
    fill = admin.evaluate(
        "getComputedStyle(document.querySelector('figure.chart svg .color-0 rect')).fill"
    )
    assert fill == "rgb(47, 138, 76)", fill

    # The agent opens the first ticket of the inbox; the administrator opens it too.
    agent = watched_page(browser)
    agent.base_url = server.base_url
    agent.goto(server.base_url + "/tickets")
    submit_sign_in(agent, "agent@example.com")
    agent.wait_for_url("**/tickets")
    path = agent.locator("tr.ticket-row a").first.get_attribute("href")
    assert path
    settled(agent, path)
    settled(admin, path)
    for page in (agent, admin):
        page.locator("#customer-panel, .customer-panel").first.wait_for()  # loaded by htmx
        page.wait_for_function("() => window.liveOpen === true")

    agent.fill("#reply-body", "Checking the payment log now")  # typing reaches the colleague
    admin.locator("#presence", has_text="Alex Agent is typing a reply").wait_for()
    for page in (agent, admin):
        assert page.evaluate("window.cspViolations") == [] and page.refused == []
        page.context.close()
