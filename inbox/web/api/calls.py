"""Calls in the JSON API: logging a call on a ticket, or opening a ticket from one."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from litestar import Controller, Request, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED
from sqlmodel import Session, select

from inbox.actions.calls import CallDetails, log_call, open_ticket_from_call
from inbox.actions.tickets import access_ticket
from inbox.db import Database
from inbox.errors import InvalidInput
from inbox.models import Agent, CallNote, Message, utcnow
from inbox.rules.phone import spoken_reference
from inbox.settings import Settings
from inbox.web.api.bodies import only_fields, whole_number
from inbox.web.api.serializers import message_json

CALL_FIELDS = {
    "direction",
    "phone",
    "started_at",
    "duration_seconds",
    "summary",
    "outcome",
    "verification_checks",
}
NEW_CALL_FIELDS = CALL_FIELDS | {"subject", "name"}


def _call_from_json(data: Any, allowed: set[str]) -> CallDetails:
    body = only_fields(data, allowed, {"direction", "phone", "summary", "outcome"})
    for key in ("direction", "phone", "summary", "outcome", "subject", "name"):
        if key in body and not isinstance(body[key], str):
            raise InvalidInput(f"{key} must be a string")
    duration = whole_number(body, "duration_seconds", 0)
    checks = body.get("verification_checks", [])
    if not isinstance(checks, list) or not all(isinstance(c, str) for c in checks):
        raise InvalidInput("verification_checks must be a list of strings")
    started_text = body.get("started_at")
    if started_text is None:
        started = utcnow() - timedelta(seconds=max(duration, 0))
    else:
        if not isinstance(started_text, str):
            raise InvalidInput("started_at must be an ISO 8601 string")
        try:
            started = datetime.fromisoformat(started_text)
        except ValueError as exc:
            raise InvalidInput("started_at must be an ISO 8601 date and time") from exc
    return CallDetails(
        direction=body["direction"],
        phone=body["phone"],
        started_at=started,
        duration_seconds=duration,
        outcome=body["outcome"],
        summary=body["summary"],
        verification_checks=tuple(checks),
    )


def call_json(call: CallNote) -> dict[str, Any]:
    return {
        "direction": call.direction,
        "phone": call.phone,
        "started_at": call.started_at.isoformat(),
        "duration_seconds": call.duration_seconds,
        "outcome": call.outcome,
        "summary": call.summary,
        "identity_verified": call.identity_verified,
        "verification_checks": list(call.verification_checks),
        "agent_id": call.agent_id,
    }


def _call_of(session: Session, message: Message) -> CallNote:
    call = session.exec(select(CallNote).where(CallNote.message_id == message.id)).one()
    return call


class CallApi(Controller):
    path = "/api/v1"
    tags = ["calls"]

    @post("/tickets/{reference:str}/calls", sync_to_thread=True, status_code=HTTP_201_CREATED)
    def log(
        self,
        request: Request[Agent, Any, Any],
        reference: FromPath[str],
        data: JSONBody[Any],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> dict[str, Any]:
        call = _call_from_json(data, CALL_FIELDS)
        with db.unit_of_work() as session:
            ticket = access_ticket(session, request.user, reference, settings.reference_prefix)
            message = log_call(session, settings, ticket=ticket, agent=request.user, call=call)
            return {**message_json(message, []), "call": call_json(_call_of(session, message))}

    @post("/calls", sync_to_thread=True, status_code=HTTP_201_CREATED)
    def open(
        self,
        request: Request[Agent, Any, Any],
        data: JSONBody[Any],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> dict[str, Any]:
        call = _call_from_json(data, NEW_CALL_FIELDS)
        with db.unit_of_work() as session:
            ticket, message = open_ticket_from_call(
                session,
                settings,
                agent=request.user,
                call=call,
                subject=data.get("subject", ""),
                caller_name=data.get("name", ""),
            )
            return {
                "ticket": {
                    "reference": ticket.reference,
                    "spoken_reference": spoken_reference(ticket.reference),
                    "subject": ticket.subject,
                    "status": ticket.status,
                    "channel": "phone",
                },
                "message": message_json(message, []),
                "call": call_json(_call_of(session, message)),
            }
