"""Merges and splits in the JSON API: each answers with the tickets as they are afterwards."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED

from inbox.actions.merge import merge_tickets, split_message, unmerge_ticket
from inbox.actions.tickets import access_ticket
from inbox.db import Database
from inbox.errors import InvalidInput
from inbox.models import Agent
from inbox.queries.tickets import find_ticket
from inbox.settings import Settings
from inbox.web.api.bodies import only_fields, whole_number
from inbox.web.api.serializers import full_ticket_json, ticket_json


class MergeApi(Controller):
    path = "/api/v1"
    tags = ["tickets"]

    def _both(self, db: Database, settings: Settings, source: str, target: str) -> dict[str, Any]:
        with db.reading() as session:
            prefix = settings.reference_prefix
            return {
                "source": full_ticket_json(session, source, prefix),
                "target": full_ticket_json(session, target, prefix),
            }

    @post("/tickets/{reference:str}/merge", sync_to_thread=True, status_code=200)
    def merge(
        self,
        request: Request[Agent, Any, Any],
        reference: FromPath[str],
        data: JSONBody[Any],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> dict[str, Any]:
        """Merges this ticket into ``into``; answers with both tickets as they are now."""
        body = only_fields(data, {"into"}, {"into"})
        if not isinstance(body["into"], str):
            raise InvalidInput("into must be a reference")
        with db.unit_of_work() as session:
            source = access_ticket(
                session, request.user, reference, settings.reference_prefix, lock=False
            )
            target = find_ticket(session, body["into"], settings.reference_prefix)
            merge_tickets(session, actor=request.user, source=source, target=target)
            names = (source.reference, target.reference)
        return self._both(db, settings, *names)

    @post("/tickets/{reference:str}/unmerge", sync_to_thread=True, status_code=200)
    def unmerge(
        self,
        request: Request[Agent, Any, Any],
        reference: FromPath[str],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        data: JSONBody[Any | None] = None,
    ) -> dict[str, Any]:
        """Undoes the merge that closed this ticket."""
        only_fields(data if data is not None else {}, set())
        with db.unit_of_work() as session:
            source = access_ticket(
                session, request.user, reference, settings.reference_prefix, lock=False
            )
            target = unmerge_ticket(session, actor=request.user, source=source)
            names = (source.reference, target.reference)
        return self._both(db, settings, *names)

    @post("/tickets/{reference:str}/split", sync_to_thread=True, status_code=HTTP_201_CREATED)
    def split(
        self,
        request: Request[Agent, Any, Any],
        reference: FromPath[str],
        data: JSONBody[Any],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> dict[str, Any]:
        """Moves ``message_id`` into a new ticket (``subject`` optional); answers with it."""
        body = only_fields(data, {"message_id", "subject"}, {"message_id"})
        message_id = whole_number(body, "message_id")
        subject = body.get("subject", "")
        if not isinstance(subject, str):
            raise InvalidInput("subject must be a string")
        with db.unit_of_work() as session:
            ticket = access_ticket(session, request.user, reference, settings.reference_prefix)
            new = split_message(
                session,
                actor=request.user,
                ticket=ticket,
                message_id=message_id,
                prefix=settings.reference_prefix,
                subject=subject,
            )
            new_reference = new.reference
        return ticket_json(db, settings, new_reference)
