"""Quarantine in the JSON API: inbound items that did not become a message, with the reason
why, and filing one as a ticket after all."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from inbox.actions.inbound.set_aside import file_set_aside_item
from inbox.blobs import BlobStore
from inbox.db import Database
from inbox.models import Agent
from inbox.queries.quarantine import list_set_aside
from inbox.settings import Settings
from inbox.web.api.openapi import ERROR_RESPONSES
from inbox.web.api.serializers import quarantine_item, read_ticket
from inbox.web.api.shapes import QuarantinePage, Ticket


class QuarantineApi(Controller):
    path = "/api/v1"
    tags = ["tickets"]

    @get("/quarantine", sync_to_thread=True, responses=ERROR_RESPONSES)
    def quarantine(
        self,
        db: NamedDependency[Database],
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> QuarantinePage:
        """Newest first: mail that could not be processed and mail set aside on purpose."""
        with db.reading() as session:
            return QuarantinePage(
                items=[quarantine_item(i) for i in list_set_aside(session, limit=limit)]
            )

    @post(
        "/quarantine/{item_id:int}/ticket",
        sync_to_thread=True,
        responses=ERROR_RESPONSES,
        status_code=HTTP_201_CREATED,
    )
    def file_as_ticket(
        self,
        request: Request[Agent, Any, Any],
        item_id: FromPath[int],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        blobs: NamedDependency[BlobStore],
    ) -> Ticket:
        """File the item as a new ticket after all (audited); 409 when it is no longer in the
        quarantine."""
        with db.unit_of_work() as session:
            ticket = file_set_aside_item(
                session, settings, blobs, actor=request.user, item_id=item_id
            )
            reference = ticket.reference
        return read_ticket(db, settings, reference)
