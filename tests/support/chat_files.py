"""Files for the chat tests: real PNG and PDF bytes, and a visitor's upload as the widget
sends it (``POST /chat/files``, docs/chat-protocol.md)."""

from __future__ import annotations

import struct
import zlib
from urllib.parse import quote

import httpx

from tests.support.chat_socket import SITE, Chat


def png(width: int = 120, height: int = 80, rgb: tuple[int, int, int] = (47, 91, 211)) -> bytes:
    """A real PNG of one colour, with a white band across it: a browser shows it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b""
    for y in range(height):
        colour = bytes((255, 255, 255)) if height // 3 <= y < height // 3 + 6 else bytes(rgb)
        rows += b"\x00" + colour * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)
# A Windows program under a screenshot's name.
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200


def upload(
    chat: Chat,
    token: str | None,
    data: bytes,
    name: str = "screenshot.png",
    *,
    origin: str = SITE,
    content_type: str = "image/png",
    address: str | None = None,
    widget_key: str | None = None,
) -> httpx.Response:
    """The widget's upload of one file, from the visitor's page at ``origin`` (to ``chat``'s
    channel, or the one of ``widget_key``)."""
    headers = {"Origin": origin, "Content-Type": content_type, "X-File-Name": quote(name)}
    if token is not None:
        headers["X-Visitor-Token"] = token
    return httpx.post(
        f"{address or chat.server.base_url}/chat/files?widget={widget_key or chat.widget_key}",
        content=data,
        headers=headers,
        timeout=20,
    )
