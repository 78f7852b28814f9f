"""Phone support: logging a call, on a ticket or as a new one, with the reference read out in
groups the caller can write down."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template
from litestar.status_codes import HTTP_201_CREATED

from inbox.actions.calls import CallDetails, log_call, open_ticket_from_call
from inbox.actions.tickets import access_ticket
from inbox.db import Database
from inbox.errors import DomainError, InvalidInput, NotFound
from inbox.models import utcnow
from inbox.models.accounts import VERIFICATION_CHECKS
from inbox.rules.phone import spoken_groups, spoken_reference
from inbox.settings import Settings
from inbox.web.forms import FormBody
from inbox.web.tickets.page import ticket_context, timeline_answer


def _call_from_form(data: dict[str, str]) -> CallDetails:
    """The call form: started_at in UTC (blank: the call just ended), duration in minutes."""
    try:
        minutes = float(data.get("duration_minutes") or 0)
    except ValueError as exc:
        raise InvalidInput("the duration is a number of minutes") from exc
    duration = round(minutes * 60)
    started_text = (data.get("started_at") or "").strip()
    if started_text:
        try:
            started = datetime.fromisoformat(started_text)
        except ValueError as exc:
            raise InvalidInput("the start time is not a date and time") from exc
        if started.tzinfo is None:
            started = started.replace(tzinfo=utcnow().tzinfo)
    else:
        started = utcnow() - timedelta(seconds=max(duration, 0))
    return CallDetails(
        direction=data.get("direction", ""),
        phone=data.get("phone", ""),
        started_at=started,
        duration_seconds=duration,
        outcome=data.get("outcome", ""),
        summary=data.get("summary", ""),
        verification_checks=tuple(c for c in VERIFICATION_CHECKS if data.get(f"check_{c}")),
    )


class CallPages(Controller):
    include_in_schema = False

    @get("/calls/new", sync_to_thread=False)
    def new_call(self, request: HTMXRequest, phone: FromQuery[str | None] = None) -> Template:
        return Template(
            "pages/call.html",
            context={"agent": request.user, "form": {"phone": phone or ""}},
        )

    @post("/calls", sync_to_thread=True)
    def open_from_call(
        self,
        request: HTMXRequest,
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        data: FormBody,
    ) -> Template:
        context: dict[str, Any] = {"agent": request.user, "form": data}
        try:
            with db.unit_of_work() as session:
                ticket, _message = open_ticket_from_call(
                    session,
                    settings,
                    agent=request.user,
                    call=_call_from_form(data),
                    subject=data.get("subject", ""),
                    caller_name=data.get("name", ""),
                )
        except DomainError as exc:
            context["error"] = str(exc)
            return Template("pages/call.html", context=context, status_code=422)
        context.update(
            opened=ticket,
            spoken=spoken_reference(ticket.reference),
            groups=spoken_groups(ticket.reference),
            form={},
        )
        return Template("pages/call.html", context=context, status_code=HTTP_201_CREATED)

    @post("/tickets/{reference:str}/calls", sync_to_thread=True)
    def log_call_on_ticket(
        self,
        request: HTMXRequest,
        reference: FromPath[str],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        data: FormBody,
    ) -> Response[Any]:
        error = None
        try:
            with db.unit_of_work() as session:
                ticket = access_ticket(session, request.user, reference, settings.reference_prefix)
                log_call(
                    session, settings, ticket=ticket, agent=request.user, call=_call_from_form(data)
                )
                reference = ticket.reference
        except NotFound:
            raise
        except DomainError as exc:
            error = str(exc)
        context = {
            **ticket_context(db, settings, request.user, reference),
            "call_error": error,
        }
        return timeline_answer(request, reference, context, error=error)
