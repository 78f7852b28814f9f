"""Tickets in the JSON API: the list, one ticket, changing it, replies and notes."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from inbox.actions.email_out import reply_by_email
from inbox.actions.mentions import add_note_with_mentions
from inbox.actions.tickets import access_ticket, check_reply_not_stale, update_ticket
from inbox.db import Database
from inbox.errors import InvalidInput
from inbox.models import Agent, utcnow
from inbox.queries.sla import tickets_sla_json
from inbox.queries.tickets import TicketFilters, list_tickets, viewer_for
from inbox.settings import Settings
from inbox.web.api.bodies import only_fields
from inbox.web.api.serializers import message_json, ticket_json, ticket_summary

PATCHABLE = {"status", "priority", "assignee", "team", "tags"}


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
        view: FromQuery[str | None] = None,
        priority: FromQuery[str | None] = None,
        team: FromQuery[str | None] = None,
        tag: FromQuery[str | None] = None,
        sort: FromQuery[str | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 50,
        cursor: FromQuery[str | None] = None,
    ) -> dict[str, Any]:
        """Tickets the caller may see: newest activity first, or for a search (``q``) the
        newest ticket first, unless ``sort`` says otherwise (``updated``, ``created``,
        ``priority``, ``sla``, ``newest``); ``view`` is one of the inbox's views."""
        filters = TicketFilters(
            status=status or None,
            channel=channel or None,
            assignee=assignee or None,
            q=q or None,
            view=view or "all",
            priority=priority or None,
            team=team or None,
            tag=tag or None,
            sort=sort or "",
        )
        with db.reading() as session:
            page = list_tickets(
                session,
                prefix=settings.reference_prefix,
                filters=filters,
                viewer=viewer_for(session, request.user),
                limit=limit,
                cursor=cursor,
            )
            slas = tickets_sla_json(session, [r.ticket.id or 0 for r in page.rows], utcnow())
            return {
                "items": [ticket_summary(r, slas.get(r.ticket.id or 0, {})) for r in page.rows],
                "next_cursor": page.next_cursor,
            }

    @get("/tickets/{reference:str}", sync_to_thread=True)
    def show(
        self,
        reference: FromPath[str],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> dict[str, Any]:
        return ticket_json(db, settings, reference)

    @patch("/tickets/{reference:str}", sync_to_thread=True)
    def change(
        self,
        request: Request[Agent, Any, Any],
        reference: FromPath[str],
        data: JSONBody[Any],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> dict[str, Any]:
        body = only_fields(data, PATCHABLE)
        tags = body.get("tags")
        if tags is not None and (
            not isinstance(tags, list) or not all(isinstance(t, str) for t in tags)
        ):
            raise InvalidInput("tags must be a list of strings")
        with db.unit_of_work() as session:
            ticket = access_ticket(session, request.user, reference, settings.reference_prefix)
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
        return ticket_json(db, settings, reference)

    @post("/tickets/{reference:str}/replies", sync_to_thread=True, status_code=HTTP_201_CREATED)
    def reply(
        self,
        request: Request[Agent, Any, Any],
        reference: FromPath[str],
        data: JSONBody[Any],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> dict[str, Any]:
        body = only_fields(data, {"body", "status", "seen_message_id"}, {"body"})
        seen = body.get("seen_message_id")
        if seen is not None and (not isinstance(seen, int) or isinstance(seen, bool)):
            raise InvalidInput("seen_message_id must be a message id")
        with db.unit_of_work() as session:
            ticket = access_ticket(session, request.user, reference, settings.reference_prefix)
            # 409 stale_reply when the customer wrote after the newest message the caller saw.
            check_reply_not_stale(session, ticket, seen)
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
        body = only_fields(data, {"body"}, {"body"})
        with db.unit_of_work() as session:
            ticket = access_ticket(session, request.user, reference, settings.reference_prefix)
            noted = add_note_with_mentions(
                session, settings, ticket, actor=request.user, body=_text(body, "body")
            )
            return {
                **message_json(noted.message, []),
                "notified": [a.email for a in noted.notified],
                "not_notified": noted.not_notified,
            }


def _opt_text(body: dict[str, Any], key: str) -> str | None:
    if key not in body or body[key] is None:
        return None
    return _text(body, key)
