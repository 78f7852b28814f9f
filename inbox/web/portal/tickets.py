"""A signed-in customer's own tickets: the list, one ticket, replying with files, opening a
new ticket, finding one by its reference, and downloading files.

Every page reads the ticket through ``customer_ticket``, which answers another customer's
ticket exactly like a reference that does not exist (404, the same words).
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency, Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.plugins.htmx import ClientRedirect, HTMXRequest
from litestar.response import Redirect, Template

from inbox.actions.portal.messages import open_portal_ticket, reply_on_portal
from inbox.blobs import BlobStore
from inbox.db import Database
from inbox.errors import DomainError, InvalidInput, NotFound
from inbox.queries.portal import (
    PortalCustomer,
    customer_attachment,
    customer_ticket,
    customer_ticket_view,
    customer_tickets,
    portal_messages,
    portal_row,
    portal_topics,
)
from inbox.rules.portal import (
    ALLOWED_DESCRIPTION,
    MAX_FILE_BYTES,
    MAX_FILES,
    AcceptedFile,
    RefusedFile,
    accept_file,
)
from inbox.settings import Settings
from inbox.signing import survey_token
from inbox.web.auth import PUBLIC
from inbox.web.portal.session import PortalSignInRequired, signed_in_customer, to_sign_in

MultipartForm = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
# A message with its files: the app's own limit (2 MB) is for forms without files.
UPLOAD_BODY_BYTES = MAX_FILES * MAX_FILE_BYTES + 256 * 1024
NOT_YOURS = "No request of yours has that reference."
# The pages carry the customer's conversation: no shared cache keeps them.
NO_STORE = {"Cache-Control": "no-store"}


def _files(form: dict[str, Any]) -> list[AcceptedFile]:
    """The files of a form, checked; the file inputs left empty are skipped."""
    found = form.get("files")
    uploads = found if isinstance(found, list) else [found] if found is not None else []
    accepted: list[AcceptedFile] = []
    for upload in uploads:
        if not isinstance(upload, UploadFile) or not upload.filename:
            continue
        if len(accepted) >= MAX_FILES:
            raise InvalidInput(f"attach at most {MAX_FILES} files to one message")
        data = upload.file.read(MAX_FILE_BYTES + 1)
        try:
            accepted.append(accept_file(upload.filename, data))
        except RefusedFile as exc:
            raise InvalidInput(f"{upload.filename[:100]}: {exc}") from None
    return accepted


def _text(form: dict[str, Any], name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


class PortalTicketPages(Controller):
    path = "/portal"
    include_in_schema = False
    dependencies = {"customer": Provide(signed_in_customer, sync_to_thread=True)}
    exception_handlers = {PortalSignInRequired: to_sign_in}

    @get("/tickets", opt=PUBLIC, sync_to_thread=True)
    def tickets(
        self, customer: NamedDependency[PortalCustomer], db: NamedDependency[Database]
    ) -> Template:
        return self._list(customer, db)

    def _list(
        self, customer: PortalCustomer, db: Database, *, error: str = "", status: int = 200
    ) -> Template:
        with db.reading() as session:
            rows = customer_tickets(session, customer)
        return Template(
            "portal/tickets.html",
            context={"customer": customer, "tickets": rows, "error": error},
            status_code=status,
            headers=NO_STORE,
        )

    @get("/find", opt=PUBLIC, sync_to_thread=True)
    def find(
        self,
        customer: NamedDependency[PortalCustomer],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        reference: FromQuery[str] = "",
    ) -> Template | Redirect:
        """A reference typed in: the ticket if it is the customer's, else the same answer
        for someone else's ticket as for one that does not exist."""
        try:
            with db.reading() as session:
                ticket = customer_ticket(
                    session, customer, reference[:64], settings.reference_prefix
                )
        except NotFound:
            return self._list(customer, db, error=NOT_YOURS, status=404)
        return Redirect(f"/portal/tickets/{ticket.reference}", status_code=303)

    @get("/tickets/{ref:str}", opt=PUBLIC, sync_to_thread=True)
    def ticket(
        self,
        ref: FromPath[str],
        customer: NamedDependency[PortalCustomer],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> Template:
        return self._ticket_page(ref, customer, db, settings)

    def _ticket_page(
        self,
        ref: str,
        customer: PortalCustomer,
        db: Database,
        settings: Settings,
        *,
        error: str = "",
        body: str = "",
        status: int = 200,
    ) -> Template:
        with db.reading() as session:
            try:
                ticket = customer_ticket(session, customer, ref, settings.reference_prefix)
            except NotFound:
                return self._list(customer, db, error=NOT_YOURS, status=404)
            view = customer_ticket_view(session, customer, ticket)
        survey = (
            f"/survey/{survey_token(settings.secret_key, view.survey_id)}"
            if view.survey_id is not None
            else None
        )
        return Template(
            "portal/ticket.html",
            context={
                "customer": customer,
                "view": view,
                "survey_link": survey,
                "error": error,
                "body": body,
                "limits": _limits(),
            },
            status_code=status,
            headers=NO_STORE,
        )

    @post(
        "/tickets/{ref:str}/replies",
        opt=PUBLIC,
        sync_to_thread=True,
        request_max_body_size=UPLOAD_BODY_BYTES,
    )
    def reply(
        self,
        request: HTMXRequest,
        ref: FromPath[str],
        customer: NamedDependency[PortalCustomer],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        blobs: NamedDependency[BlobStore],
        data: MultipartForm,
    ) -> Response[Any]:
        """The reply joins the ticket. Sent with htmx from the ticket's page, the answer is
        the new message and a fresh form (``partials/portal_push.html``, what the live socket
        pushes too), or the form again with what was typed and why it was refused; without
        script, the page again."""
        body = _text(data, "body")
        try:
            files = _files(data)
            with db.unit_of_work() as session:
                ticket = customer_ticket(session, customer, ref, settings.reference_prefix)
                landed, message = reply_on_portal(
                    session,
                    blobs,
                    ticket,
                    identity_id=customer.identity_id,
                    name=customer.name,
                    body=body,
                    files=files,
                    reference_prefix=settings.reference_prefix,
                )
                stayed = landed.id == ticket.id
                row = portal_row(landed)
                shown = portal_messages(session, landed, [message.id or 0])
        except NotFound:
            return self._list(customer, db, error=NOT_YOURS, status=404)
        except DomainError as exc:
            if request.htmx:
                return self._reply_answer(ref, db, settings, customer, error=str(exc), body=body)
            return self._ticket_page(
                ref, customer, db, settings, error=str(exc), body=body[:20_000], status=exc.status
            )
        target = f"/portal/tickets/{row.reference}"
        if not request.htmx:
            return Redirect(f"{target}#message-{message.id}", status_code=303)
        if not stayed:  # a follow-up request was opened: its page
            return ClientRedirect(target)
        return Template(
            "partials/portal_push.html",
            context={"messages": shown, "form_ticket": row, "limits": _limits()},
            headers=NO_STORE,
        )

    def _reply_answer(
        self,
        ref: str,
        db: Database,
        settings: Settings,
        customer: PortalCustomer,
        *,
        error: str,
        body: str,
    ) -> Template:
        """The form again, with the reason and what was typed. Status 200: htmx swaps only
        successful answers in."""
        with db.reading() as session:
            ticket = customer_ticket(session, customer, ref, settings.reference_prefix)
            row = portal_row(ticket)
        return Template(
            "partials/portal_push.html",
            context={
                "form_ticket": row,
                "error": error,
                "body": body[:20_000],
                "limits": _limits(),
            },
            headers=NO_STORE,
        )

    @get("/new", opt=PUBLIC, sync_to_thread=True)
    def new_form(
        self,
        customer: NamedDependency[PortalCustomer],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> Template:
        return self._new_page(customer, db, settings, {})

    def _new_page(
        self,
        customer: PortalCustomer,
        db: Database,
        settings: Settings,
        form: dict[str, Any],
        *,
        error: str = "",
        status: int = 200,
    ) -> Template:
        with db.reading() as session:
            topics = portal_topics(session, settings)
        return Template(
            "portal/new.html",
            context={
                "customer": customer,
                "topics": topics,
                "form": {k: _text(form, k) for k in ("topic", "subject", "body")},
                "error": error,
                "limits": _limits(),
            },
            status_code=status,
            headers=NO_STORE,
        )

    @post("/new", opt=PUBLIC, sync_to_thread=True, request_max_body_size=UPLOAD_BODY_BYTES)
    def open_new(
        self,
        customer: NamedDependency[PortalCustomer],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        blobs: NamedDependency[BlobStore],
        data: MultipartForm,
    ) -> Response[Any]:
        try:
            files = _files(data)
            with db.unit_of_work() as session:
                topics = {t.label: t for t in portal_topics(session, settings)}
                topic = topics.get(_text(data, "topic"))
                if topic is None:
                    raise InvalidInput("choose what your request is about")
                ticket = open_portal_ticket(
                    session,
                    blobs,
                    identity_id=customer.identity_id,
                    customer_id=customer.customer_id,
                    name=customer.name,
                    team_id=topic.team_id,
                    subject=_text(data, "subject"),
                    body=_text(data, "body"),
                    files=files,
                    reference_prefix=settings.reference_prefix,
                )
                reference = ticket.reference
        except DomainError as exc:
            return self._new_page(customer, db, settings, data, error=str(exc), status=exc.status)
        return Redirect(f"/portal/tickets/{reference}", status_code=303)

    @get("/files/{file_id:int}", opt=PUBLIC, sync_to_thread=True)
    def file(
        self,
        file_id: FromPath[int],
        customer: NamedDependency[PortalCustomer],
        db: NamedDependency[Database],
        blobs: NamedDependency[BlobStore],
    ) -> Response[bytes]:
        """Always a download, never shown from the desk's origin."""
        with db.reading() as session:
            attachment = customer_attachment(session, customer, file_id)
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
                **NO_STORE,
            },
        )


def _limits() -> dict[str, Any]:
    return {
        "files": MAX_FILES,
        "megabytes": MAX_FILE_BYTES // (1024 * 1024),
        "kinds": ALLOWED_DESCRIPTION,
    }
