"""The JSON API under /api/v1, for bearer tokens."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from inbox.actions.email_out import reply_by_email
from inbox.actions.tickets import add_note, update_ticket
from inbox.db import Database
from inbox.errors import InvalidInput
from inbox.models import Agent, Ticket
from inbox.queries.tickets import (
    TicketFilters,
    find_ticket,
    list_quarantine,
    list_tickets,
    ticket_detail,
)
from inbox.settings import Settings
from inbox.web.serializers import message_json, quarantine_json, ticket_full, ticket_summary

PATCHABLE = {"status", "priority", "assignee", "team", "tags"}


def _only(body: Any, allowed: set[str], required: set[str] = frozenset()) -> dict[str, Any]:  # type: ignore[assignment]
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


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str):
        raise InvalidInput(f"{key} must be a string")
    return value


class TicketApi(Controller):
    path = "/api/v1"
    tags = ["tickets"]

    @get("/tickets", sync_to_thread=True)
    def list(
        self,
        request: Request[Agent, Any, Any],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        status: FromQuery[str | None] = None,
        channel: FromQuery[str | None] = None,
        assignee: FromQuery[str | None] = None,
        q: FromQuery[str | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 50,
        cursor: FromQuery[str | None] = None,
    ) -> dict[str, Any]:
        with db.reading() as session:
            page = list_tickets(
                session,
                prefix=settings.reference_prefix,
                filters=TicketFilters(status=status, channel=channel, assignee=assignee, q=q),
                limit=limit,
                cursor=cursor,
            )
            return {
                "items": [ticket_summary(r) for r in page.rows],
                "next_cursor": page.next_cursor,
            }

    @get("/tickets/{reference:str}", sync_to_thread=True)
    def show(
        self,
        reference: FromPath[str],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> dict[str, Any]:
        with db.reading() as session:
            return ticket_full(ticket_detail(session, reference, settings.reference_prefix))

    @patch("/tickets/{reference:str}", sync_to_thread=True)
    def change(
        self,
        request: Request[Agent, Any, Any],
        reference: FromPath[str],
        data: JSONBody[Any],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> dict[str, Any]:
        body = _only(data, PATCHABLE)
        tags = body.get("tags")
        if tags is not None and (
            not isinstance(tags, list) or not all(isinstance(t, str) for t in tags)
        ):
            raise InvalidInput("tags must be a list of strings")
        with db.unit_of_work() as session:
            ticket = _locked(session, reference, settings)
            update_ticket(
                session,
                ticket,
                actor=request.user,
                status=_opt_text(body, "status"),
                priority=_opt_text(body, "priority"),
                assignee_email=_opt_text(body, "assignee") or None,
                clear_assignee="assignee" in body and not body["assignee"],
                team=_opt_text(body, "team") or None,
                clear_team="team" in body and not body["team"],
                tags=tags,
            )
            reference = ticket.reference
        with db.reading() as session:
            return ticket_full(ticket_detail(session, reference, settings.reference_prefix))

    @post("/tickets/{reference:str}/replies", sync_to_thread=True, status_code=HTTP_201_CREATED)
    def reply(
        self,
        request: Request[Agent, Any, Any],
        reference: FromPath[str],
        data: JSONBody[Any],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> dict[str, Any]:
        body = _only(data, {"body", "status"}, {"body"})
        with db.unit_of_work() as session:
            ticket = _locked(session, reference, settings)
            message = reply_by_email(
                session,
                settings,
                ticket=ticket,
                author=request.user,
                body=_text(body, "body"),
                status_after=_opt_text(body, "status"),
            )
            return message_json(message, [])

    @post("/tickets/{reference:str}/notes", sync_to_thread=True, status_code=HTTP_201_CREATED)
    def note(
        self,
        request: Request[Agent, Any, Any],
        reference: FromPath[str],
        data: JSONBody[Any],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> dict[str, Any]:
        body = _only(data, {"body"}, {"body"})
        with db.unit_of_work() as session:
            ticket = _locked(session, reference, settings)
            message = add_note(session, ticket, actor=request.user, body=_text(body, "body"))
            return message_json(message, [])

    @get("/quarantine", sync_to_thread=True)
    def quarantine(
        self,
        db: NamedDependency[Database],
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> dict[str, Any]:
        with db.reading() as session:
            return {
                "items": [
                    quarantine_json(i, name) for i, name in list_quarantine(session, limit=limit)
                ]
            }


def _opt_text(body: dict[str, Any], key: str) -> str | None:
    if key not in body or body[key] is None:
        return None
    return _text(body, key)


def _locked(session: Any, reference: str, settings: NamedDependency[Settings]) -> Ticket:
    ticket = find_ticket(session, reference, settings.reference_prefix)
    session.refresh(ticket, with_for_update=True)
    return ticket
