"""Agent pages. One handler serves the full page and its htmx fragment.

Signing in and out lives in ``inbox.web.account``.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template

from inbox.actions.email_out import reply_by_email
from inbox.actions.mentions import add_note_with_mentions
from inbox.actions.tickets import StaleReply, access_ticket, check_reply_not_stale
from inbox.blobs import BlobStore
from inbox.db import Database
from inbox.errors import DomainError, InvalidInput, NotFound
from inbox.models import Agent, Attachment, Message
from inbox.queries.tickets import list_quarantine
from inbox.rules.references import normalize_reference
from inbox.settings import Settings
from inbox.web.common import FormBody, ticket_context, timeline_answer

PUBLIC = {"exclude_from_auth": True}
# Inbound email HTML is shown in a sandboxed frame under a policy that loads nothing remote.
EMAIL_HTML_CSP = (
    "default-src 'none'; img-src cid: data:; style-src 'unsafe-inline'; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'none'; sandbox"
)


def _seen_message_id(data: dict[str, str]) -> int | None:
    """The newest message the reply form showed; a form without one is not checked."""
    value = data.get("seen_message_id", "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise InvalidInput("seen_message_id must be a message id") from exc


class TicketPages(Controller):
    """One ticket and what hangs off it; the list is ``inbox.web.inbox_pages``."""

    include_in_schema = False

    @get("/", sync_to_thread=False)
    def home(self) -> Redirect:
        return Redirect("/tickets")

    @get("/tickets/{reference:str}", sync_to_thread=True)
    def ticket(
        self,
        request: HTMXRequest,
        reference: FromPath[str],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> Template | Redirect:
        canonical = normalize_reference(reference, settings.reference_prefix)
        if canonical and canonical != reference:
            return Redirect(f"/tickets/{canonical}")
        context = ticket_context(db, settings, request.user, reference)
        return Template("pages/ticket.html", context=context)

    @post("/tickets/{reference:str}/replies", sync_to_thread=True)
    def reply(
        self,
        request: HTMXRequest,
        reference: FromPath[str],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        data: FormBody,
    ) -> Response[Any]:
        return self._write(request, reference, db, settings, data, kind="reply")

    @post("/tickets/{reference:str}/notes", sync_to_thread=True)
    def note(
        self,
        request: HTMXRequest,
        reference: FromPath[str],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        data: FormBody,
    ) -> Response[Any]:
        return self._write(request, reference, db, settings, data, kind="note")

    def _write(
        self,
        request: HTMXRequest,
        reference: str,
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        data: dict[str, str],
        *,
        kind: str,
    ) -> Response[Any]:
        error = None
        extra: dict[str, Any] = {}
        try:
            with db.unit_of_work() as session:
                ticket = access_ticket(session, request.user, reference, settings.reference_prefix)
                if kind == "reply":
                    check_reply_not_stale(session, ticket, _seen_message_id(data))
                    reply_by_email(
                        session,
                        settings,
                        ticket=ticket,
                        author=request.user,
                        body=data.get("body", ""),
                    )
                else:
                    noted = add_note_with_mentions(
                        session, settings, ticket, actor=request.user, body=data.get("body", "")
                    )
                    extra["note_notified"] = [a.name for a in noted.notified]
                    extra["note_not_notified"] = noted.not_notified
                reference = ticket.reference
        except NotFound:
            raise
        except StaleReply as exc:
            # Nothing was sent: the agent reads the new message, then sends anyway or edits.
            error = "The customer wrote again while you were writing. Nothing was sent yet."
            extra = {"stale_ids": exc.newer_ids, "reply_text": data.get("body", "")}
        except DomainError as exc:
            error = str(exc)
            extra = {"reply_text" if kind == "reply" else "note_text": data.get("body", "")}
        context = {**ticket_context(db, settings, request.user, reference), "error": error, **extra}
        if "stale_ids" in extra:
            context["stale"] = [m for m in context["d"].messages if m.id in extra["stale_ids"]]
        return timeline_answer(
            request,
            reference,
            context,
            error=error,
            error_status=409 if "stale_ids" in extra else 422,
        )

    @get("/messages/{message_id:int}/html", sync_to_thread=True)
    def message_html(
        self, message_id: FromPath[int], db: NamedDependency[Database]
    ) -> Response[str]:
        with db.reading() as session:
            message = session.get(Message, message_id)
            if message is None or message.body_html is None or message.direction != "inbound":
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

    @get("/quarantine", sync_to_thread=True)
    def quarantine(
        self, request: Request[Agent, Any, Any], db: NamedDependency[Database]
    ) -> Template:
        with db.reading() as session:
            items = list_quarantine(session)
        return Template("pages/quarantine.html", context={"items": items, "agent": request.user})
