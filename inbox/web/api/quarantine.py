"""Quarantine in the JSON API: mail that could not be filed, with the reason why."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from inbox.db import Database
from inbox.queries.tickets import list_quarantine
from inbox.web.api.serializers import quarantine_json


class QuarantineApi(Controller):
    path = "/api/v1"
    tags = ["tickets"]

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
