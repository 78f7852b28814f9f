"""Debian's Chromium driven by Playwright against a real ``inbox serve`` (the ``server``
fixture of ``tests.support.desks``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from inbox.actions.chat.channels import add_chat_channel
from tests.support.chat_shop import Shop
from tests.support.processes import Deployment, free_port
from tests.support.served import desk_box, desk_database
from tests.support.services import require

CHROMIUM = os.environ.get("INBOX_TEST_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Module-scoped: Playwright's sync API keeps an event loop running in this thread."""
    require(None if Path(CHROMIUM).exists() else f"{CHROMIUM} is missing", "Chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def shop(server: Deployment) -> Iterator[Shop]:
    port = free_port()
    with desk_database(server) as session:
        widget_key = add_chat_channel(
            session,
            desk_box(server),
            name="Shop chat",
            origins=[f"http://127.0.0.1:{port}", server.base_url],
        ).widget_key
    with Shop(server.base_url, widget_key, port) as started:
        yield started
