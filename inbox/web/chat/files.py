"""Files in live chat, over HTTP (a websocket frame holds 8 KiB at most).

``POST /chat/files?widget=K``: a visitor's screenshot or PDF, the body the file's bytes, the
visitor's token in ``X-Visitor-Token`` and the file's name (percent-encoded) in
``X-File-Name``. Refused before the body is read (403) unless the ``Origin`` is one of the
channel's sites, exactly as the socket is; CORS is answered for those sites alone. Then the
visitor's token, their pace, the size, and what the bytes are (never the type the browser
claims) are checked (``inbox.actions.chat.files``); the answer is a signed upload token the
visitor's next ``message`` frame carries.

``GET /chat/files/{token}``: one chat attachment, by the signed link its ``message`` frame
carries, for the one visitor whose chat it is on. Images are shown (the widget's thumbnails),
PDFs downloaded; nothing is ever sniffed, scripted or cached.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote, unquote

import anyio
from litestar import Controller, Request, Response, get, post, route
from litestar.di import NamedDependency
from litestar.enums import HttpMethod
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.params import FromPath

from inbox.actions.chat.channels import chat_channel_by_key
from inbox.actions.chat.files import FileRefused, store_chat_upload, uploading_visitor
from inbox.blobs import BlobStore
from inbox.db import Database
from inbox.errors import NotFound
from inbox.models import Channel
from inbox.queries.chat_files import visitor_attachment
from inbox.rules.chat import origin_listed
from inbox.rules.chat_files import INLINE_TYPES, linked_attachment
from inbox.rules.portal import MAX_FILE_BYTES
from inbox.settings import Settings
from inbox.web.auth import PUBLIC
from inbox.web.chat.hub import ChatHub

# A visitor's page posts here from another site, with no cookie: no CSRF token to carry.
OPEN = {**PUBLIC, "exclude_from_csrf": True}
TOKEN_HEADER = "x-visitor-token"  # noqa: S105 (a header's name)
NAME_HEADER = "x-file-name"
ALLOWED_HEADERS = f"content-type, {TOKEN_HEADER}, {NAME_HEADER}"
TOO_LARGE = f"a file may have at most {MAX_FILE_BYTES // (1024 * 1024)} MB"
# What an attachment is served with: never sniffed, scripted, framed or kept.
FILE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    # The visitor's page, on another site, shows the thumbnails.
    "Cross-Origin-Resource-Policy": "cross-origin",
}


def _channel(db: Database, widget_key: str) -> Channel | None:
    with db.reading() as session:
        return chat_channel_by_key(session, widget_key)


async def _site(request: Request[Any, Any, Any], db: Database) -> tuple[Channel, str] | None:
    """The chat channel of ``?widget=`` and the request's origin, when it is one of that
    channel's sites."""
    channel = await anyio.to_thread.run_sync(_channel, db, request.query_params.get("widget", ""))
    origin = request.headers.get("origin")
    if channel is None or origin is None:
        return None
    return (channel, origin) if origin_listed(origin, channel.config.get("origins", [])) else None


def _cors(origin: str) -> dict[str, str]:
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


def _refusal(status: int, code: str, detail: str, headers: dict[str, str]) -> Response[Any]:
    return Response({"error": code, "detail": detail}, status_code=status, headers=headers)


async def _body(request: Request[Any, Any, Any], limit: int) -> bytes | None:
    """The body, or None once it is over ``limit`` bytes (the rest is not read)."""
    chunks: list[bytes] = []
    total = 0
    try:
        async for chunk in request.stream():
            total += len(chunk)
            if total > limit:
                return None
            chunks.append(chunk)
    except RequestEntityTooLarge:
        return None
    return b"".join(chunks)


class ChatFilePages(Controller):
    path = "/chat/files"
    include_in_schema = False

    @route("/", http_method=HttpMethod.OPTIONS, opt=OPEN)
    async def preflight(
        self, request: Request[Any, Any, Any], db: NamedDependency[Database]
    ) -> Response[Any]:
        """CORS for the channel's sites alone; any other origin learns nothing."""
        site = await _site(request, db)
        if site is None:
            return _refusal(403, "forbidden", "this site may not send files here", {})
        return Response(
            None,
            status_code=204,
            headers={
                **_cors(site[1]),
                "Access-Control-Allow-Methods": "POST",
                "Access-Control-Allow-Headers": ALLOWED_HEADERS,
                "Access-Control-Max-Age": "600",
            },
        )

    @post("/", opt=OPEN, request_max_body_size=MAX_FILE_BYTES + 1)
    async def upload(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        blobs: NamedDependency[BlobStore],
    ) -> Response[Any]:
        site = await _site(request, db)
        if site is None:  # before a byte of the body is read
            return _refusal(403, "forbidden", "this site may not send files here", {})
        channel, origin = site
        cors = _cors(origin)

        def visitor_id() -> int | None:
            token = request.headers.get(TOKEN_HEADER, "")[:200]
            with db.reading() as session:
                found = uploading_visitor(session, settings.secret_key, channel.id or 0, token)
                return found.id if found is not None else None

        visitor = await anyio.to_thread.run_sync(visitor_id)
        if visitor is None:
            return _refusal(403, "forbidden", "start the chat before sending a file", cors)
        hub: ChatHub = request.app.state.chat
        if not hub.may_upload(visitor):
            return _refusal(
                429, "rate_limited", "you are sending files faster than we can take them", cors
            )
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > MAX_FILE_BYTES:
            return _refusal(413, "too_large", TOO_LARGE, cors)
        data = await _body(request, MAX_FILE_BYTES)
        if data is None:
            return _refusal(413, "too_large", TOO_LARGE, cors)
        name = unquote(request.headers.get(NAME_HEADER, "")[:1000])
        try:
            stored = await anyio.to_thread.run_sync(
                lambda: store_chat_upload(
                    blobs,
                    settings.secret_key,
                    visitor_id=visitor,
                    name=name,
                    data=data,
                    now=int(time.time()),
                )
            )
        except FileRefused as exc:
            return _refusal(exc.status, exc.code, str(exc), cors)
        return Response(stored.answer(), status_code=201, headers=cors)

    @get("/{token:str}", opt=PUBLIC, sync_to_thread=True)
    def download(
        self,
        token: FromPath[str],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        blobs: NamedDependency[BlobStore],
    ) -> Response[bytes]:
        """Another visitor's file, a changed or an expired link: 404, the same for all."""
        named = linked_attachment(settings.secret_key, token, int(time.time()))
        attachment = None
        if named is not None:
            with db.reading() as session:
                attachment = visitor_attachment(session, *named)
        if attachment is None:
            raise NotFound("no such file, or its link has expired")
        inline = attachment.content_type in INLINE_TYPES
        media_type = (
            attachment.content_type
            if inline or attachment.content_type == "application/pdf"
            else "application/octet-stream"
        )
        ascii_name = (
            "".join(
                c if (c.isascii() and c.isalnum()) or c in "._- " else "_"
                for c in attachment.filename
            )
            or "attachment"
        )
        disposition = (
            f'{"inline" if inline else "attachment"}; filename="{ascii_name}"; '
            f"filename*=UTF-8''{quote(attachment.filename, safe='')}"
        )
        return Response(
            blobs.get(attachment.content_hash),
            media_type=media_type,
            headers={**FILE_HEADERS, "Content-Disposition": disposition},
        )
