"""The agents' live socket (``/live``) of a served desk, as a browser opens it: signed in with
the password, the socket opened with the browser's cookies and Origin, and the messages it
pushes read until the one a test waits for."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import httpx
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin

from tests.support.processes import Deployment
from tests.support.served import PASSPHRASE, WAIT


def sign_in(address: str, email: str) -> httpx.Client:
    """A browser's cookies after signing in with the password."""
    client = httpx.Client(base_url=address, timeout=10)
    page = client.get("/login")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert token
    response = client.post(
        "/login",
        data={"email": email, "password": PASSPHRASE, "next": "/tickets", "_csrf_token": token[1]},
    )
    assert response.status_code in (200, 303), response.text
    return client


def cookie_header(client: httpx.Client) -> str:
    """The ``Cookie`` header a browser with the client's cookies sends."""
    return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


def open_live(
    address: str,
    server: Deployment,
    *,
    path: str = "/live",
    cookies: str | None = None,
    origin: str | None = "desk",
    headers: dict[str, str] | None = None,
) -> ClientConnection:
    """A socket at ``path`` of the web process at ``address``, from the desk's own page
    (``origin="desk"``), another site's or none."""
    all_headers = dict(headers or {})
    if cookies:
        all_headers["Cookie"] = cookies
    return connect(
        address.replace("http://", "ws://") + path,
        origin=Origin(server.base_url if origin == "desk" else origin) if origin else None,
        additional_headers=all_headers,
        open_timeout=10,
    )


def receive_until(ws: ClientConnection, wanted: Callable[[str], bool], what: str) -> list[str]:
    """Every message up to and including the first one ``wanted`` accepts."""
    received: list[str] = []
    deadline = time.monotonic() + WAIT
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no {what} within {WAIT}s; received {received}")
        try:
            message = ws.recv(timeout=left)
        except TimeoutError:
            continue
        assert isinstance(message, str)
        received.append(message)
        if wanted(message):
            return received
