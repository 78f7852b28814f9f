"""Signing in to a desk in a real browser, as the browser tests do first, and the screenshots
they take: where they go, and at which sizes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from inbox.demo import DEMO_PASSWORD
from tests.support.accessibility import assert_accessible
from tests.support.processes import Deployment
from tests.support.served import PASSPHRASE

# Where the browser tests leave their screenshots, for a person to look at.
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
# A desktop's and a phone's viewport.
SIZES = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
# Set before any page script runs: tells the test when the page's live socket is open, and
# survives only as long as the page does (a reload would lose it).
WATCH_SOCKET = """
window.liveOpen = false;
document.addEventListener("htmx:wsOpen", function () { window.liveOpen = true; });
"""


def signed_in_page(browser: Any, server: Deployment, email: str, path: str) -> Any:
    """A page at ``path`` of the served desk, signed in as ``email`` with the password, whose
    live socket is open; ``page.htmx_errors`` collects what htmx reports (a swap that found no
    target, a socket error)."""
    context = browser.new_context()
    context.add_init_script(WATCH_SOCKET)
    page = context.new_page()
    page.htmx_errors = []
    page.on(
        "console",
        lambda m: (
            page.htmx_errors.append(m.text) if m.type == "error" and "htmx" in m.text else None
        ),
    )
    page.goto(f"{server.base_url}{path}")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSPHRASE)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{path}")
    page.wait_for_function("() => window.liveOpen === true")
    return page


def submit_sign_in(page: Any, email: str, password: str = DEMO_PASSWORD) -> None:
    """Fills in and sends the sign-in form the page shows."""
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def open_inbox_signed_in(page: Any, base_url: str, email: str = "agent@example.com") -> None:
    """Opens the inbox, which asks to sign in first, and signs in with the password."""
    page.goto(f"{base_url}/tickets")
    submit_sign_in(page, email)
    page.wait_for_url("**/tickets")


def shoot(page: Any, name: str) -> None:
    """A portal page at desktop and phone sizes, into var/screenshots
    (``portal-<name>-<size>.png``), after axe-core found no serious accessibility problem on
    it."""
    assert_accessible(page, f"portal {name}")
    SHOTS.mkdir(parents=True, exist_ok=True)
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        page.screenshot(path=str(SHOTS / f"portal-{name}-{size}.png"), full_page=True)
    page.set_viewport_size(SIZES["desktop"])
