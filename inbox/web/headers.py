"""Security headers on every answer the desk gives.

The Content-Security-Policy lets a page run the desk's own script files and nothing else:
no inline script, no event handler attributes, no ``eval`` (htmx is configured not to need
it, ``templates/base.html``), no inline style; no other site may frame a page. An answer
that sets its own policy keeps it: an inbound mail's HTML, shown in a sandboxed frame of the
ticket page, and attachments (``inbox.web.tickets.message_content``).
"""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "frame-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    # Links in customers' mail lead to other sites: they learn nothing of the desk's paths.
    "referrer-policy": "same-origin",
    "x-content-type-options": "nosniff",
}


async def add_security_headers(message: Message, scope: Scope) -> None:
    """``before_send`` hook of the app: every HTTP answer, errors and static files included."""
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    for name, value in SECURITY_HEADERS.items():
        if name not in headers:
            headers[name] = value
