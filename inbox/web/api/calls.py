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
from inbox.web.api.bodies import CallerTicket, NewCall
from inbox.web.api.openapi import ERROR_RESPONSES
from inbox.web.api.serializers import message_fields, message_shape
from inbox.web.api.shapes import Call, CallMessage, CallTicket, OpenedCall


def _call_details(data: NewCall) -> CallDetails:
    if data.started_at is None:
        started = utcnow() - timedelta(seconds=max(data.duration_seconds, 0))
    else:
        try:
            started = datetime.fromisoformat(data.started_at)
        except ValueError as exc:
            raise InvalidInput("started_at must be an ISO 8601 date and time") from exc
    return CallDetails(
        direction=data.direction,
        phone=data.phone,
        started_at=started,
        duration_seconds=data.duration_seconds,
        outcome=data.outcome,
        summary=data.summary,
        verification_checks=tuple(data.verification_checks),
    )


def _call_of(session: Session, message: Message) -> Call:
    call = session.exec(select(CallNote).where(CallNote.message_id == message.id)).one()
    return Call(
        direction=call.direction,
        phone=call.phone,
        started_at=call.started_at.isoformat(),
        duration_seconds=call.duration_seconds,
        outcome=call.outcome,
        summary=call.summary,
        identity_verified=call.identity_verified,
        verification_checks=list(call.verification_checks),
        agent_id=call.agent_id,
    )


class CallApi(Controller):
    path = "/api/v1"
    tags = ["calls"]

    @post(
        "/tickets/{reference:str}/calls",
        sync_to_thread=True,
        responses=ERROR_RESPONSES,
        status_code=HTTP_201_CREATED,
    )
    def log(
        self,
        request: Request[Agent, Any, Any],
        reference: FromPath[str],
        data: JSONBody[NewCall],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> CallMessage:
        call = _call_details(data)
        with db.unit_of_work() as session:
            ticket = access_ticket(session, request.user, reference, settings.reference_prefix)
            message = log_call(session, settings, ticket=ticket, agent=request.user, call=call)
            return CallMessage(**message_fields(message, []), call=_call_of(session, message))

    @post("/calls", sync_to_thread=True, responses=ERROR_RESPONSES, status_code=HTTP_201_CREATED)
    def open(
        self,
        request: Request[Agent, Any, Any],
        data: JSONBody[CallerTicket],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> OpenedCall:
        call = _call_details(data)
        with db.unit_of_work() as session:
            ticket, message = open_ticket_from_call(
                session,
                settings,
                agent=request.user,
                call=call,
                subject=data.subject,
                caller_name=data.name,
            )
            return OpenedCall(
                ticket=CallTicket(
                    reference=ticket.reference,
                    spoken_reference=spoken_reference(ticket.reference),
                    subject=ticket.subject,
                    status=ticket.status,
                    channel="phone",
                ),
                message=message_shape(message, []),
                call=_call_of(session, message),
            )
