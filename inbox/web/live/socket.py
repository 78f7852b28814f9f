"""The ``/live`` websocket: who may open one. It belongs to a signed-in browser session: the
session cookie (second factor passed, not an API token) and an ``Origin`` equal to
``INBOX_BASE_URL``'s; ``inbox.web.live.updates`` serves it from then on."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

import anyio
from litestar import WebSocket, websocket
from litestar.di import NamedDependency

from inbox.errors import DomainError
from inbox.models import utcnow
from inbox.settings import Settings
from inbox.web.auth import current_session, session_cookie_name
from inbox.web.live.updates import FORBIDDEN, NOT_FOUND, SIGNED_OUT, LiveUpdates

DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port, with the scheme's default port written out."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    try:
        port = parts.port or DEFAULT_PORTS.get(scheme)
    except ValueError:
        return ("", "", None)
    return (scheme, (parts.hostname or "").lower(), port)


def origin_allowed(origin: str | None, base_url: str) -> bool:
    """Browsers always send ``Origin`` on a websocket handshake: it must be our own."""
    return bool(origin) and origin != "null" and origin_of(origin or "") == origin_of(base_url)


@websocket("/live")
async def live_socket(
    socket: WebSocket[Any, Any, Any],
    settings: NamedDependency[Settings],
) -> None:
    """Refused unless the browser session is fully signed in and the page is our own."""
    live: LiveUpdates = socket.app.state.live
    row = current_session(socket)
    cookie = socket.cookies.get(session_cookie_name(settings), "")
    if not origin_allowed(socket.headers.get("origin"), settings.base_url):
        await socket.close(code=FORBIDDEN, reason="origin")
        return
    if row is None or not cookie:  # an API token never opens a live socket
        await socket.close(code=SIGNED_OUT, reason="sign in with a browser")
        return
    params = {k: v for k, v in socket.query_params.items() if isinstance(v, str)}
    try:
        conn = await anyio.to_thread.run_sync(live.connection, socket, socket.user, cookie, params)
    except (DomainError, PermissionError):
        await socket.close(code=NOT_FOUND, reason="nothing to follow")
        return
    await socket.accept()
    expires_at = row.expires_at.timestamp() if row.expires_at > utcnow() else time.time()
    await live.serve(conn, expires_at)
