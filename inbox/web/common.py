"""What the web edges share: reading forms and JSON bodies, the ticket a handler writes to,
and the ticket page with the answers a form on it gets."""

from __future__ import annotations

from collections.abc import Set
from typing import Annotated, Any

from litestar import Response
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate
from litestar.response import Redirect, Template
from sqlmodel import Session

from inbox.db import Database
from inbox.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from inbox.models import Agent, Ticket, utcnow
from inbox.queries.sla import ticket_sla_json
from inbox.queries.ticket_page import ticket_detail
from inbox.queries.tickets import find_ticket
from inbox.queries.workspace import workspace_for
from inbox.settings import Settings
from inbox.web.serializers import ticket_full

FormBody = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
# The status a page answers a refused form with; any other domain error is a conflict.
STATUS_OF_ERROR = {InvalidInput: 422, NotFound: 404, PermissionDenied: 403}


def status_of(exc: DomainError) -> int:
    return next((s for kind, s in STATUS_OF_ERROR.items() if isinstance(exc, kind)), 409)


def only_fields(body: Any, allowed: Set[str], required: Set[str] = frozenset()) -> dict[str, Any]:
    """Accept declared fields only: no mass assignment."""
    if not isinstance(body, dict):
        raise InvalidInput("expected a JSON object")
    unknown = set(body) - allowed
    if unknown:
        raise InvalidInput(f"unknown field(s): {', '.join(sorted(unknown))}")
    missing = required - set(body)
    if missing:
        raise InvalidInput(f"missing field(s): {', '.join(sorted(missing))}")
    return body


def whole_number(body: dict[str, Any], key: str, default: int | None = None) -> int:
    """A JSON field that must be an integer (``true`` is not one), ``default`` if absent."""
    value = body.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidInput(f"{key} must be a whole number")
    return value


def locked_ticket(session: Session, reference: str, settings: Settings) -> Ticket:
    """The ticket a route names, locked for writing (the scope guard has let the agent in)."""
    ticket = find_ticket(session, reference, settings.reference_prefix)
    session.refresh(ticket, with_for_update=True)
    return ticket


def ticket_json(db: Database, settings: Settings, reference: str) -> dict[str, Any]:
    """The API's answer about a ticket, read after the write that changed it committed."""
    with db.reading() as session:
        return full_ticket_json(session, reference, settings.reference_prefix)


def full_ticket_json(session: Session, reference: str, prefix: str) -> dict[str, Any]:
    """A ticket with its customer, messages and SLA clocks, as the API shows it."""
    detail = ticket_detail(session, reference, prefix)
    return ticket_full(detail, ticket_sla_json(session, detail.ticket.id or 0, utcnow()))


def ticket_context(
    db: Database, settings: Settings, agent: Agent, reference: str
) -> dict[str, Any]:
    """What the ticket page and its timeline show: the ticket and the agent's workspace."""
    with db.reading() as session:
        detail = ticket_detail(session, reference, settings.reference_prefix)
        ws = workspace_for(session, agent, detail.ticket)
    return {"d": detail, "ws": ws, "agent": agent}


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
