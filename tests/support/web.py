"""The agent pages over HTTP, driven as a browser drives them: the app under a ``TestClient``,
CSRF tokens taken from the page that shows the form, and signing in with the password.

Registered from conftest as a plugin, for the fixtures ``app`` and ``client``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from httpx import Response
from litestar import Litestar
from litestar.testing import TestClient

from inbox.settings import Settings
from tests.support.apps import app_for
from tests.support.desk import PASSWORD

Client = TestClient[Litestar]


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return app_for(settings)[0]


@pytest.fixture
def client(app: Litestar) -> Iterator[Client]:
    with TestClient(app) as test_client:
        yield test_client


def csrf_token(html: str) -> str:
    """The CSRF token of the (first) form on a page."""
    found = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert found, "form without a CSRF token"
    return found.group(1)


def sign_in(
    client: Client,
    email: str = "agent@example.com",
    password: str = PASSWORD,
    *,
    next: str | None = "/tickets",
    follow_redirects: bool = False,
) -> Response:
    """Submits the sign-in form with the password (the second factor, if any, is next)."""
    data = {
        "email": email,
        "password": password,
        "_csrf_token": csrf_token(client.get("/login").text),
    }
    if next is not None:
        data["next"] = next
    return client.post("/login", data=data, follow_redirects=follow_redirects)


def post_form(client: Client, path: str, page_path: str, data: dict[str, str]) -> Response:
    """Submit a form the way a browser does: CSRF token taken from the page that shows it."""
    page = client.get(page_path)
    return client.post(
        path, data={**data, "_csrf_token": csrf_token(page.text)}, follow_redirects=False
    )


def api_tickets(client: Client, token: str, **params: Any) -> Any:
    """One page of ``GET /api/v1/tickets`` with ``params``, as JSON."""
    response = client.get(
        "/api/v1/tickets", params=params, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    return response.json()


def api_references(client: Client, token: str, **params: Any) -> list[str]:
    return [item["reference"] for item in api_tickets(client, token, **params)["items"]]


def walk_api_tickets(
    client: Client, token: str, cursor: str | None = None, **params: Any
) -> list[str]:
    """The references of every page of a list from ``cursor`` on, following the cursor."""
    seen: list[str] = []
    while True:
        body = api_tickets(client, token, **params, **({"cursor": cursor} if cursor else {}))
        seen += [item["reference"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return seen


def page_references(html: str) -> list[str]:
    """The references of the ticket rows in an inbox page or partial, in order."""
    return re.findall(r'<tr class="ticket-row[^"]*" id="ticket-row-([^"]+)"', html)
