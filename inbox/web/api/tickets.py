"""Tickets in the JSON API: the list, one ticket, changing it, replies and notes."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED
from msgspec import UNSET

from inbox.actions.mentions import add_note_with_mentions
from inbox.actions.replies import reply_to_customer
from inbox.actions.tickets import access_ticket, update_ticket
from inbox.db import Database
from inbox.errors import InvalidInput
from inbox.models import Agent, utcnow
from inbox.queries.tickets import TicketFilters, list_tickets, viewer_for
from inbox.settings import Settings
from inbox.web.api.bodies import NewNote, NewReply, TicketChange
from inbox.web.api.openapi import ERROR_RESPONSES
from inbox.web.api.serializers import (
    message_fields,
    message_shape,
    read_ticket,
    sla_clocks,
    ticket_summary,
)
from inbox.web.api.shapes import Message, Note, Ticket, TicketPage


def _idempotency_key(in_body: str | None, in_header: str | None) -> str | None:
    if in_body and in_header and in_body != in_header:
        raise InvalidInput("the Idempotency-Key header and idempotency_key differ")
    return in_body or in_header


class TicketApi(Controller):
    path = "/api/v1"
    tags = ["tickets"]

    @get("/tickets", sync_to_thread=True, responses=ERROR_RESPONSES)
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
    ) -> TicketPage:
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
            slas = sla_clocks(session, [r.ticket.id or 0 for r in page.rows], utcnow())
            return TicketPage(
                items=[ticket_summary(r, slas.get(r.ticket.id or 0, {})) for r in page.rows],
                next_cursor=page.next_cursor,
            )

    @get("/tickets/{reference:str}", sync_to_thread=True, responses=ERROR_RESPONSES)
    def show(
        self,
        reference: FromPath[str],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> Ticket:
        return read_ticket(db, settings, reference)

    @patch("/tickets/{reference:str}", sync_to_thread=True, responses=ERROR_RESPONSES)
    def change(
        self,
        request: Request[Agent, Any, Any],
        reference: FromPath[str],
        data: JSONBody[TicketChange],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> Ticket:
        with db.unit_of_work() as session:
            ticket = access_ticket(session, request.user, reference, settings.reference_prefix)
            update_ticket(
                session,
                ticket,
                actor=request.user,
                status=data.status,
                priority=data.priority,
                assignee_email=data.assignee or None,
                clear_assignee=data.assignee is not UNSET and not data.assignee,
                team=data.team or None,
                clear_team=data.team is not UNSET and not data.team,
                tags=data.tags,
            )
            reference = ticket.reference
        return read_ticket(db, settings, reference)

    @post(
        "/tickets/{reference:str}/replies",
        sync_to_thread=True,
        responses=ERROR_RESPONSES,
        status_code=HTTP_201_CREATED,
    )
    def reply(
        self,
        request: Request[Agent, Any, Any],
        reference: FromPath[str],
        data: JSONBody[NewReply],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        idempotency_header: Annotated[
            str | None, HeaderParameter(name="Idempotency-Key", required=False)
        ] = None,
    ) -> Message:
        """Replies to the customer on the ticket's channel; the reply is ``queued`` until sent.
        An idempotency key (``Idempotency-Key`` header or ``idempotency_key``, 8 to 100
        characters) makes a retry safe: the same key again answers with the same reply."""
        with db.unit_of_work() as session:
            ticket = access_ticket(session, request.user, reference, settings.reference_prefix)
            # 409 stale_reply when the customer wrote after the newest message the caller saw;
            # the same idempotency key again answers with the reply it queued, sending nothing.
            message = reply_to_customer(
                session,
                settings,
                ticket=ticket,
                author=request.user,
                body=data.body,
                status_after=data.status,
                seen_message_id=data.seen_message_id,
                idempotency_key=_idempotency_key(data.idempotency_key, idempotency_header),
            )
            return message_shape(message, [])

    @post(
        "/tickets/{reference:str}/notes",
        sync_to_thread=True,
        responses=ERROR_RESPONSES,
        status_code=HTTP_201_CREATED,
    )
    def note(
        self,
        request: Request[Agent, Any, Any],
        reference: FromPath[str],
        data: JSONBody[NewNote],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> Note:
        with db.unit_of_work() as session:
            ticket = access_ticket(session, request.user, reference, settings.reference_prefix)
            noted = add_note_with_mentions(
                session, settings, ticket, actor=request.user, body=data.body
            )
            return Note(
                **message_fields(noted.message, []),
                notified=[a.email for a in noted.notified],
                not_notified=noted.not_notified,
            )
