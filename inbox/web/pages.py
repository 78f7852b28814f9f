"""Agent pages. One handler serves the full page and its htmx fragment."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate
from litestar.response import Redirect, Template

from inbox.actions.agents import authenticate_agent, end_session, start_session
from inbox.actions.email_out import reply_by_email
from inbox.actions.tickets import add_note
from inbox.blobs import BlobStore
from inbox.db import Database
from inbox.errors import DomainError, NotFound
from inbox.models import Agent, Attachment, Message
from inbox.queries.tickets import (
    TicketFilters,
    find_ticket,
    list_quarantine,
    list_tickets,
    ticket_detail,
)
from inbox.references import normalize_reference
from inbox.settings import Settings
from inbox.web.auth import SESSION_COOKIE, is_local_path

PUBLIC = {"exclude_from_auth": True}
FormBody = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
# Inbound email HTML is shown in a sandboxed frame under a policy that loads nothing remote.
EMAIL_HTML_CSP = (
    "default-src 'none'; img-src cid: data:; style-src 'unsafe-inline'; "
    "frame-ancestors 'self'; base-uri 'none'; form-action 'none'; sandbox"
)


def _session_cookie(
    settings: NamedDependency[Settings], value: str, *, max_age: int | None = None
) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value=value,
        httponly=True,
        secure=settings.base_url.startswith("https://"),
        samesite="lax",
        path="/",
        max_age=max_age,
    )


class AuthPages(Controller):
    include_in_schema = False

    @get("/login", opt=PUBLIC, sync_to_thread=False)
    def login_form(self, next: FromQuery[str | None] = None) -> Template:
        return Template(
            "pages/login.html", context={"next": next if is_local_path(next) else "/tickets"}
        )

    @post("/login", opt=PUBLIC, sync_to_thread=True)
    def login(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        data: FormBody,
    ) -> Response[Any]:
        target = data.get("next") or "/tickets"
        target = target if is_local_path(target) else "/tickets"
        with db.unit_of_work() as session:
            agent = authenticate_agent(
                session, email=data.get("email", ""), password=data.get("password", "")
            )
            token = start_session(session, agent) if agent else None
            old = request.cookies.get(SESSION_COOKIE)
            if token and old:
                end_session(session, old)  # rotate: the pre-login session id dies here
        if token is None:
            return Template(
                "pages/login.html",
                context={
                    "next": target,
                    "error": "Wrong address or password, or the account is locked.",
                },
                status_code=400,
            )
        return Redirect(
            target, status_code=303, cookies=[_session_cookie(settings, token, max_age=12 * 3600)]
        )

    @post("/logout", sync_to_thread=True)
    def logout(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> Redirect:
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            with db.unit_of_work() as session:
                end_session(session, token)
        return Redirect(
            "/login", status_code=303, cookies=[_session_cookie(settings, "", max_age=0)]
        )


class TicketPages(Controller):
    include_in_schema = False

    @get("/", sync_to_thread=False)
    def home(self) -> Redirect:
        return Redirect("/tickets")

    @get("/tickets", sync_to_thread=True)
    def inbox(
        self,
        request: HTMXRequest,
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        status: FromQuery[str | None] = None,
        channel: FromQuery[str | None] = None,
        assignee: FromQuery[str | None] = None,
        q: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Template:
        filters = TicketFilters(
            status=status or None, channel=channel or None, assignee=assignee or None, q=q or None
        )
        with db.reading() as session:
            page = list_tickets(
                session, prefix=settings.reference_prefix, filters=filters, limit=50, cursor=cursor
            )
        context = {"page": page, "filters": filters, "agent": request.user}
        if request.htmx:
            return HTMXTemplate(template_name="partials/ticket_rows.html", context=context)
        return Template("pages/tickets.html", context=context)

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
        with db.reading() as session:
            detail = ticket_detail(session, reference, settings.reference_prefix)
        return Template("pages/ticket.html", context={"d": detail, "agent": request.user})

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
        try:
            with db.unit_of_work() as session:
                ticket = find_ticket(session, reference, settings.reference_prefix)
                session.refresh(ticket, with_for_update=True)
                if kind == "reply":
                    reply_by_email(
                        session,
                        settings,
                        ticket=ticket,
                        author=request.user,
                        body=data.get("body", ""),
                    )
                else:
                    add_note(session, ticket, actor=request.user, body=data.get("body", ""))
                reference = ticket.reference
        except NotFound:
            raise
        except DomainError as exc:
            error = str(exc)
        with db.reading() as session:
            detail = ticket_detail(session, reference, settings.reference_prefix)
        context = {"d": detail, "agent": request.user, "error": error}
        if request.htmx:
            return HTMXTemplate(
                template_name="partials/timeline.html", context=context, status_code=200
            )
        if error:
            return Template("pages/ticket.html", context=context, status_code=422)
        return Redirect(f"/tickets/{reference}", status_code=303)

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
