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
from inbox.models import Agent
from inbox.queries.tickets import find_ticket
from inbox.settings import Settings
from inbox.web.api.bodies import MergeInto, SplitOut, Unmerge
from inbox.web.api.openapi import ERROR_RESPONSES
from inbox.web.api.serializers import full_ticket, read_ticket
from inbox.web.api.shapes import MergedTickets, Ticket


class MergeApi(Controller):
    path = "/api/v1"
    tags = ["tickets"]

    def _both(self, db: Database, settings: Settings, source: str, target: str) -> MergedTickets:
        with db.reading() as session:
            prefix = settings.reference_prefix
            return MergedTickets(
                source=full_ticket(session, source, prefix),
                target=full_ticket(session, target, prefix),
            )

    @post(
        "/tickets/{reference:str}/merge",
        sync_to_thread=True,
        responses=ERROR_RESPONSES,
        status_code=200,
    )
    def merge(
        self,
        request: Request[Agent, Any, Any],
        reference: FromPath[str],
        data: JSONBody[MergeInto],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> MergedTickets:
        """Merges this ticket into ``into``; answers with both tickets as they are now."""
        with db.unit_of_work() as session:
            source = access_ticket(
                session, request.user, reference, settings.reference_prefix, lock=False
            )
            target = find_ticket(session, data.into, settings.reference_prefix)
            merge_tickets(session, actor=request.user, source=source, target=target)
            names = (source.reference, target.reference)
        return self._both(db, settings, *names)

    @post(
        "/tickets/{reference:str}/unmerge",
        sync_to_thread=True,
        responses=ERROR_RESPONSES,
        status_code=200,
    )
    def unmerge(
        self,
        request: Request[Agent, Any, Any],
        reference: FromPath[str],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        data: JSONBody[Unmerge | None] = None,
    ) -> MergedTickets:
        """Undoes the merge that closed this ticket; a body, if any, must be empty."""
        with db.unit_of_work() as session:
            source = access_ticket(
                session, request.user, reference, settings.reference_prefix, lock=False
            )
            target = unmerge_ticket(session, actor=request.user, source=source)
            names = (source.reference, target.reference)
        return self._both(db, settings, *names)

    @post(
        "/tickets/{reference:str}/split",
        sync_to_thread=True,
        responses=ERROR_RESPONSES,
        status_code=HTTP_201_CREATED,
    )
    def split(
        self,
        request: Request[Agent, Any, Any],
        reference: FromPath[str],
        data: JSONBody[SplitOut],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> Ticket:
        """Moves ``message_id`` into a new ticket (``subject`` optional); answers with it."""
        with db.unit_of_work() as session:
            ticket = access_ticket(session, request.user, reference, settings.reference_prefix)
            new = split_message(
                session,
                actor=request.user,
                ticket=ticket,
                message_id=data.message_id,
                prefix=settings.reference_prefix,
                subject=data.subject,
            )
            new_reference = new.reference
        return read_ticket(db, settings, new_reference)
