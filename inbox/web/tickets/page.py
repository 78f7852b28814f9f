"""The ticket page: one ticket with its timeline and workspace, and the replies and notes
written on it, with their files. One handler serves the full page and its htmx fragment; the
other forms on the page answer through ``ticket_page`` and ``timeline_answer``.
"""

from __future__ import annotations

import secrets
from typing import Any

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate
from litestar.response import Redirect, Template

from inbox.actions.mentions import add_note_with_mentions
from inbox.actions.reading import mark_ticket_read
from inbox.actions.replies import reply_to_customer
from inbox.actions.reply_files import held_files, hold_files, store_files
from inbox.actions.tickets import StaleReply, access_ticket
from inbox.blobs import BlobStore
from inbox.db import Database
from inbox.errors import DomainError, InvalidInput, NotFound
from inbox.models import Agent
from inbox.queries.ticket_page import ticket_detail
from inbox.queries.workspace import workspace_for
from inbox.rules.chat_files import ChatFile
from inbox.rules.references import normalize_reference
from inbox.settings import Settings
from inbox.web.tickets.composer_form import UPLOAD_BODY_BYTES, ComposerForm, composer_form

# The reply and note forms carry files: read as multipart, or URL-encoded without them.
COMPOSER = {"composer": Provide(composer_form)}


def ticket_context(
    db: Database, settings: Settings, agent: Agent, reference: str
) -> dict[str, Any]:
    """What the ticket page and its timeline show: the ticket and the agent's workspace, and a
    fresh idempotency key for the reply and the note forms (submitting one twice sends one)."""
    with db.reading() as session:
        detail = ticket_detail(session, reference, settings.reference_prefix)
        ws = workspace_for(session, agent, detail.ticket)
    return {
        "d": detail,
        "ws": ws,
        "agent": agent,
        "reply_key": secrets.token_urlsafe(16),
        "note_key": secrets.token_urlsafe(16),
    }


def ticket_page(
    request: HTMXRequest,
    db: Database,
    settings: Settings,
    reference: str,
    *,
    status_code: int = 200,
    **extra: Any,
) -> Template:
    """The ticket page with its workspace; htmx swaps ``#ticket`` out of it. Errors answer
    htmx with 200, since htmx swaps nothing on an error status."""
    context = {**ticket_context(db, settings, request.user, reference), **extra}
    if request.htmx:
        return HTMXTemplate(template_name="pages/ticket.html", context=context)
    return Template("pages/ticket.html", context=context, status_code=status_code)


def timeline_answer(
    request: HTMXRequest,
    reference: str,
    context: dict[str, Any],
    *,
    error: str | None,
    error_status: int = 422,
) -> Response[Any]:
    """The answer to a form on the timeline: htmx swaps the timeline in place (with 200, or
    it would swap nothing); without JavaScript, the page with the error or a redirect to it."""
    if request.htmx:
        return HTMXTemplate(template_name="partials/timeline.html", context=context)
    if error:
        return Template("pages/ticket.html", context=context, status_code=error_status)
    return Redirect(f"/tickets/{reference}", status_code=303)


def _seen_message_id(data: ComposerForm) -> int | None:
    """The newest message the reply form showed; a form without one is not checked."""
    value = data.get("seen_message_id", "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError as exc:
        raise InvalidInput("seen_message_id must be a message id") from exc


class TicketPages(Controller):
    """One ticket, its replies and notes; the list is ``inbox.web.tickets.inbox``."""

    include_in_schema = False

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
        with db.unit_of_work() as session:  # what the page shows, the agent has now read
            mark_ticket_read(session, agent_id=request.user.id, ticket_id=context["d"].ticket.id)
        return Template("pages/ticket.html", context=context)

    @post(
        "/tickets/{reference:str}/replies",
        sync_to_thread=True,
        dependencies=COMPOSER,
        request_max_body_size=UPLOAD_BODY_BYTES,
    )
    def reply(
        self,
        request: HTMXRequest,
        reference: FromPath[str],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        blobs: NamedDependency[BlobStore],
        composer: NamedDependency[ComposerForm],
    ) -> Response[Any]:
        return self._write(request, reference, db, settings, blobs, composer, kind="reply")

    @post(
        "/tickets/{reference:str}/notes",
        sync_to_thread=True,
        dependencies=COMPOSER,
        request_max_body_size=UPLOAD_BODY_BYTES,
    )
    def note(
        self,
        request: HTMXRequest,
        reference: FromPath[str],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        blobs: NamedDependency[BlobStore],
        composer: NamedDependency[ComposerForm],
    ) -> Response[Any]:
        return self._write(request, reference, db, settings, blobs, composer, kind="note")

    def _write(
        self,
        request: HTMXRequest,
        reference: str,
        db: Database,
        settings: Settings,
        blobs: BlobStore,
        data: ComposerForm,
        *,
        kind: str,
    ) -> Response[Any]:
        """A reply or a note, with its files: checked first (a refused file stores nothing),
        then stored and attached. A reply refused as stale keeps its files for "Send anyway"."""
        error = None
        extra: dict[str, Any] = {}
        agent_id = request.user.id or 0
        files: tuple[ChatFile, ...] = ()
        try:
            accepted = data.accepted_files()
            held = held_files(blobs, settings.secret_key, agent_id, data.held)
            files = held + store_files(blobs, accepted)
            with db.unit_of_work() as session:
                ticket = access_ticket(session, request.user, reference, settings.reference_prefix)
                if kind == "reply":
                    reply_to_customer(
                        session,
                        settings,
                        ticket=ticket,
                        author=request.user,
                        body=data.get("body", ""),
                        seen_message_id=_seen_message_id(data),
                        idempotency_key=data.get("idempotency_key") or None,
                        files=files,
                    )
                else:
                    noted = add_note_with_mentions(
                        session,
                        settings,
                        ticket,
                        actor=request.user,
                        body=data.get("body", ""),
                        files=files,
                        idempotency_key=data.get("idempotency_key") or None,
                    )
                    extra["note_notified"] = [a.name for a in noted.notified]
                    extra["note_not_notified"] = noted.not_notified
                reference = ticket.reference
        except NotFound:
            raise
        except StaleReply as exc:
            # Nothing was sent: the agent reads the new message, then sends anyway or edits.
            error = "The customer wrote again while you were writing. Nothing was sent yet."
            extra = {
                "stale_ids": exc.newer_ids,
                "reply_text": data.get("body", ""),
                "held": list(
                    zip(hold_files(settings.secret_key, agent_id, files), files, strict=True)
                ),
            }
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
