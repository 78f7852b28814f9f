"""Quarantine in the JSON API: mail that could not be filed, with the reason why."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from inbox.db import Database
from inbox.queries.tickets import list_quarantine
from inbox.web.api.openapi import ERROR_RESPONSES
from inbox.web.api.serializers import quarantine_item
from inbox.web.api.shapes import QuarantinePage


class QuarantineApi(Controller):
    path = "/api/v1"
    tags = ["tickets"]

    @get("/quarantine", sync_to_thread=True, responses=ERROR_RESPONSES)
    def quarantine(
        self,
        db: NamedDependency[Database],
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> QuarantinePage:
        with db.reading() as session:
            return QuarantinePage(
                items=[
                    quarantine_item(i, name) for i, name in list_quarantine(session, limit=limit)
                ]
            )
