"""What a ticket's messages carry, served apart from the page: an inbound mail's own HTML,
shown in a sandboxed frame, and attachments, always downloaded, never shown inline."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from inbox.blobs import BlobStore
from inbox.db import Database
from inbox.errors import NotFound
from inbox.models import Attachment, Message
from inbox.models.kinds import Direction

# Inbound email HTML is shown in a sandboxed frame under a policy that loads nothing remote.
EMAIL_HTML_CSP = (
    "default-src 'none'; img-src cid: data:; style-src 'unsafe-inline'; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'none'; sandbox"
)


class MessageContentPages(Controller):
    include_in_schema = False

    @get("/messages/{message_id:int}/html", sync_to_thread=True)
    def message_html(
        self, message_id: FromPath[int], db: NamedDependency[Database]
    ) -> Response[str]:
        with db.reading() as session:
            message = session.get(Message, message_id)
            if (
                message is None
                or message.body_html is None
                or message.direction != Direction.INBOUND
            ):
                raise NotFound("no such message")
            html = message.body_html
        return Response(
            content=html,
            media_type="text/html; charset=utf-8",
            headers={
                "Content-Security-Policy": EMAIL_HTML_CSP,
                "X-Content-Type-Options": "nosniff",
            },
        )

    @get("/attachments/{attachment_id:int}", sync_to_thread=True)
    def attachment(
        self,
        attachment_id: FromPath[int],
        db: NamedDependency[Database],
        blobs: NamedDependency[BlobStore],
    ) -> Response[bytes]:
        with db.reading() as session:
            attachment = session.get(Attachment, attachment_id)
            if attachment is None:
                raise NotFound("no such attachment")
        safe_name = (
            "".join(c if c.isalnum() or c in "._- " else "_" for c in attachment.filename)
            or "attachment"
        )
        return Response(
            content=blobs.get(attachment.content_hash),
            media_type="application/octet-stream",
            headers={
                "Content-Disposition": f'attachment; filename="{safe_name}"',
                "X-Content-Type-Options": "nosniff",
                "Content-Security-Policy": "default-src 'none'; sandbox",
            },
        )
