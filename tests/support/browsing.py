"""Signing in to the demo desk in a real browser, as the browser tests do first."""

from __future__ import annotations

from typing import Any

from inbox.demo import DEMO_PASSWORD


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
