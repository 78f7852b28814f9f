"""The README's screenshots: the main pages of the demo desk at desktop and phone sizes.

    .venv/bin/python docs/screenshots/take.py [--chromium /usr/bin/chromium] [--out DIR]

Starts ``inbox serve`` on a fresh data folder in a temporary directory (the embedded
database, no broker), loads ``inbox demo``, and drives Chromium with Playwright: the sign-in
page signed out; signed in as the demo agent (password from ``inbox.demo``), the inbox, a
ticket and the chat console; signed in as the demo administrator (password, then the second
step's page and the authenticator key), reports and the administration page; the public help
centre, the page that tries the chat widget, and the customer portal as a demo customer
(signed in with ``inbox portal link``). Each page is taken at 1440x900 (desktop) and 390x844
(phone) into ``docs/screenshots/<page>-<size>.png``. The pages are found by URL and by the
demo's ticket subject, not by markup, so the script keeps working when the layout changes.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from inbox.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET  # noqa: E402
from inbox.models import utcnow  # noqa: E402
from inbox.rules.totp import hotp, time_step  # noqa: E402

SIZES = {"desktop": (1440, 900), "phone": (390, 844)}
AGENT = "agent@example.com"
ADMIN = "admin@example.com"
CUSTOMER = "maria.lopez@example.org"
TICKET_SUBJECT = "Purchase I don't recognise"  # a demo ticket with a conversation
TICKET_PATH = re.compile(r"^/tickets/[A-Za-z0-9-]+$")
# What the desk's own environment could point elsewhere: the script's desk is its own.
DESK_SETTINGS = ("INBOX_DATABASE_URL", "INBOX_BROKER_URL", "INBOX_REALTIME_URL", "INBOX_BASE_URL")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_up(base_url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"inbox serve stopped with status {server.returncode}")
        try:
            if httpx.get(f"{base_url}/login", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"inbox serve did not answer at {base_url}")


def sign_in(page: Any, base_url: str, email: str, out: Path | None = None) -> None:
    """Signs in with the demo password and, when the desk asks for it, the second factor
    (its page shot into ``out`` when given)."""
    page.goto(f"{base_url}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_url(lambda url: "/login" not in url or "/login/two-factor" in url)
    if "/login/two-factor" in page.url:
        if out is not None:
            shoot(page, page.url, "two-factor", out)
        page.fill("input[name=code]", hotp(DEMO_TOTP_SECRET, time_step(utcnow())))
        page.press("input[name=code]", "Enter")
        page.wait_for_url(lambda url: "/login" not in url)


def ticket_path(page: Any, base_url: str) -> str:
    """The demo ticket's own page, found among the inbox's links."""
    page.goto(f"{base_url}/tickets")
    links: list[list[str]] = page.eval_on_selector_all(
        "a[href^='/tickets/']",
        "links => links.map(a => [a.getAttribute('href'), a.textContent])",
    )
    tickets = [(href, text) for href, text in links if TICKET_PATH.match(href)]
    if not tickets:
        raise SystemExit("the inbox links to no ticket")
    named = [href for href, text in tickets if TICKET_SUBJECT in text]
    return named[0] if named else tickets[0][0]


def portal_link(cli: list[str], env: dict[str, str]) -> str:
    """A single-use portal sign-in link for the demo's first customer."""
    printed = subprocess.run(
        [*cli, "portal", "link", "--email", CUSTOMER],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return printed.stdout.strip().splitlines()[-1]


def shoot(page: Any, url: str, name: str, out: Path, sizes: tuple[str, ...] = tuple(SIZES)) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")  # htmx has filled in the page
    for size in sizes:
        width, height = SIZES[size]
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(200)
        path = out / f"{name}-{size}.png"
        page.screenshot(path=str(path))
        print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def take(chromium: str, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="inbox-screenshots-") as data:
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        env = {k: v for k, v in os.environ.items() if k not in DESK_SETTINGS}
        env.update(INBOX_DATA_DIR=data, INBOX_BASE_URL=base_url)
        cli = [sys.executable, "-m", "inbox.cli"]
        log = open(Path(data) / "serve.log", "wb")  # noqa: SIM115  (closed below)
        server = subprocess.Popen(
            [*cli, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until_up(base_url, server)
            subprocess.run([*cli, "demo"], env=env, cwd=ROOT, check=True, capture_output=True)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=chromium, headless=True, args=["--no-sandbox"]
                )
                agent = browser.new_page(color_scheme="light", locale="en-GB")
                shoot(agent, f"{base_url}/login", "sign-in", out)
                sign_in(agent, base_url, AGENT)
                ticket = ticket_path(agent, base_url)
                shoot(agent, f"{base_url}/tickets", "inbox", out)
                shoot(agent, base_url + ticket, "ticket", out)
                shoot(agent, f"{base_url}/chats", "chats", out)
                admin = browser.new_page(color_scheme="light", locale="en-GB")
                sign_in(admin, base_url, ADMIN, out)
                shoot(admin, f"{base_url}/reports", "reports", out)
                shoot(admin, f"{base_url}/admin", "admin", out)
                # What customers see: the help centre, the chat widget, their portal.
                public = browser.new_page(color_scheme="light", locale="en-GB")
                shoot(public, f"{base_url}/help", "help", out)
                shoot(public, f"{base_url}/chat/demo", "chat", out)
                public.goto(portal_link(cli, env))
                public.get_by_role("button", name="Continue to my requests").click()
                public.wait_for_url("**/portal/tickets")
                shoot(public, f"{base_url}/portal/tickets", "portal", out)
                # The dark theme follows the system setting.
                admin.emulate_media(color_scheme="dark")
                shoot(admin, f"{base_url}/reports", "reports-dark", out, ("desktop",))
                agent.emulate_media(color_scheme="dark")
                shoot(agent, f"{base_url}/tickets", "inbox-dark", out, ("desktop", "phone"))
                browser.close()
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
            log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--chromium", default=os.environ.get("INBOX_TEST_CHROMIUM", "/usr/bin/chromium")
    )
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args()
    take(args.chromium, args.out)


if __name__ == "__main__":
    main()
