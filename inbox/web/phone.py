"""Phone support and account unlock: pages, htmx fragments and the JSON API.

Thin edges: parse the form or body, call one action (or the account directory, outside any
transaction, as one would a remote service), render one template.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate
from litestar.response import Template
from litestar.status_codes import HTTP_201_CREATED
from sqlmodel import Session, select

from inbox.accounts import Account, AccountDirectory, DirectoryError
from inbox.actions.calls import CallDetails, log_call, open_ticket_from_call
from inbox.actions.signin.two_factor import can_unlock_accounts
from inbox.actions.unlock import (
    check_can_unlock,
    prove_identity_by_call,
    record_code_check,
    record_code_sent,
    record_unlock_refusal,
    request_account_unlock,
)
from inbox.db import Database
from inbox.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied, Throttled
from inbox.models import Agent, CallNote, Message, utcnow
from inbox.models.accounts import VERIFICATION_CHECKS
from inbox.queries.customers import customer_panel
from inbox.queries.tickets import find_ticket
from inbox.rules.phone import display_phone, spoken_groups, spoken_reference
from inbox.settings import Settings
from inbox.web.auth import current_session
from inbox.web.common import (
    FormBody,
    locked_ticket,
    only_fields,
    ticket_context,
    timeline_answer,
    whole_number,
)
from inbox.web.serializers import message_json

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
# Identities looked up in the account directory for the panel, at most.
MAX_LOOKUPS = 4


def _call_from_form(data: dict[str, str]) -> CallDetails:
    """The call form: started_at in UTC (blank: the call just ended), duration in minutes."""
    try:
        minutes = float(data.get("duration_minutes") or 0)
    except ValueError as exc:
        raise InvalidInput("the duration is a number of minutes") from exc
    duration = round(minutes * 60)
    started_text = (data.get("started_at") or "").strip()
    if started_text:
        try:
            started = datetime.fromisoformat(started_text)
        except ValueError as exc:
            raise InvalidInput("the start time is not a date and time") from exc
        if started.tzinfo is None:
            started = started.replace(tzinfo=utcnow().tzinfo)
    else:
        started = utcnow() - timedelta(seconds=max(duration, 0))
    return CallDetails(
        direction=data.get("direction", ""),
        phone=data.get("phone", ""),
        started_at=started,
        duration_seconds=duration,
        outcome=data.get("outcome", ""),
        summary=data.get("summary", ""),
        verification_checks=tuple(c for c in VERIFICATION_CHECKS if data.get(f"check_{c}")),
    )


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


@dataclass
class AccountView:
    account: Account | None
    error: str | None = None


def _accounts_for(directory: AccountDirectory, panel_identities: list[Any]) -> AccountView:
    """The customer's account: looked up by each email address and phone number in turn."""
    lookups = [i for i in panel_identities if i.kind in ("email", "phone")][:MAX_LOOKUPS]
    try:
        for identity in lookups:
            found = (
                directory.find(email=identity.value)
                if identity.kind == "email"
                else directory.find(phone=identity.value)
            )
            if found is not None:
                return AccountView(found)
    except DirectoryError as exc:
        return AccountView(None, f"the account directory did not answer: {exc}")
    return AccountView(None)


class PhonePages(Controller):
    include_in_schema = False

    @get("/calls/new", sync_to_thread=False)
    def new_call(self, request: HTMXRequest, phone: FromQuery[str | None] = None) -> Template:
        return Template(
            "pages/call.html",
            context={"agent": request.user, "form": {"phone": phone or ""}},
        )

    @post("/calls", sync_to_thread=True)
    def open_from_call(
        self,
        request: HTMXRequest,
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        data: FormBody,
    ) -> Template:
        context: dict[str, Any] = {"agent": request.user, "form": data}
        try:
            with db.unit_of_work() as session:
                ticket, _message = open_ticket_from_call(
                    session,
                    settings,
                    agent=request.user,
                    call=_call_from_form(data),
                    subject=data.get("subject", ""),
                    caller_name=data.get("name", ""),
                )
        except DomainError as exc:
            context["error"] = str(exc)
            return Template("pages/call.html", context=context, status_code=422)
        context.update(
            opened=ticket,
            spoken=spoken_reference(ticket.reference),
            groups=spoken_groups(ticket.reference),
            form={},
        )
        return Template("pages/call.html", context=context, status_code=HTTP_201_CREATED)

    @post("/tickets/{reference:str}/calls", sync_to_thread=True)
    def log_call_on_ticket(
        self,
        request: HTMXRequest,
        reference: FromPath[str],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        data: FormBody,
    ) -> Response[Any]:
        error = None
        try:
            with db.unit_of_work() as session:
                ticket = locked_ticket(session, reference, settings)
                log_call(
                    session, settings, ticket=ticket, agent=request.user, call=_call_from_form(data)
                )
                reference = ticket.reference
        except NotFound:
            raise
        except DomainError as exc:
            error = str(exc)
        context = {
            **ticket_context(db, settings, request.user, reference),
            "call_error": error,
        }
        return timeline_answer(request, reference, context, error=error)

    @get("/tickets/{reference:str}/customer", sync_to_thread=True)
    def customer(
        self,
        request: HTMXRequest,
        reference: FromPath[str],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        accounts: NamedDependency[AccountDirectory],
    ) -> Template:
        return self._panel(request, reference, db, settings, accounts)

    def _panel(
        self,
        request: HTMXRequest,
        reference: str,
        db: Database,
        settings: Settings,
        accounts: AccountDirectory,
        *,
        error: str | None = None,
        notice: str | None = None,
        status_code: int = 200,
    ) -> Template:
        with db.reading() as session:
            ticket = find_ticket(session, reference, settings.reference_prefix)
            panel = customer_panel(session, ticket)
        view = _accounts_for(accounts, panel.identities)
        context = {
            "p": panel,
            "account": view.account,
            "account_error": view.error,
            "agent": request.user,
            "can_unlock": can_unlock_accounts(request.user),
            "spoken": spoken_reference(ticket.reference),
            "groups": spoken_groups(ticket.reference),
            "display_phone": display_phone,
            "idempotency_key": secrets.token_urlsafe(16),
            "error": error,
            "notice": notice,
        }
        return HTMXTemplate(
            template_name="partials/customer_panel.html", context=context, status_code=status_code
        )

    def _account_action(
        self,
        request: HTMXRequest,
        reference: str,
        db: Database,
        settings: Settings,
        accounts: AccountDirectory,
        data: dict[str, str],
        act: Any,
    ) -> Template:
        """Look up the account the form names, run ``act(account)``, show the panel again."""
        try:
            account_id = data.get("account_id", "")
            account = accounts.get(account_id) if account_id else None
            if account is None:
                raise InvalidInput("no such account in the account directory")
            notice = act(account)
        except DirectoryError as exc:
            return self._panel(
                request, reference, db, settings, accounts, error=str(exc), status_code=502
            )
        except NotFound:
            raise
        except DomainError as exc:
            return self._panel(
                request,
                reference,
                db,
                settings,
                accounts,
                error=str(exc),
                status_code=403 if isinstance(exc, PermissionDenied) else 422,
            )
        return self._panel(request, reference, db, settings, accounts, notice=notice)

    @post("/tickets/{reference:str}/account/code", sync_to_thread=True)
    def send_code(
        self,
        request: HTMXRequest,
        reference: FromPath[str],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        accounts: NamedDependency[AccountDirectory],
        data: FormBody,
    ) -> Template:
        def act(account: Account) -> str:
            check_can_unlock(request.user)
            sent = accounts.send_code(account.account_id)
            with db.unit_of_work() as session:
                ticket = locked_ticket(session, reference, settings)
                record_code_sent(
                    session, ticket=ticket, agent=request.user, account=account, sent=sent
                )
            return f"Code sent to {sent.destination}. Ask the customer to read it back."

        return self._account_action(request, reference, db, settings, accounts, data, act)

    @post("/tickets/{reference:str}/account/verify", sync_to_thread=True)
    def verify_code(
        self,
        request: HTMXRequest,
        reference: FromPath[str],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        accounts: NamedDependency[AccountDirectory],
        data: FormBody,
    ) -> Template:
        def act(account: Account) -> str:
            check_can_unlock(request.user)
            valid = accounts.verify_code(account.account_id, data.get("code", ""))
            with db.unit_of_work() as session:
                ticket = locked_ticket(session, reference, settings)
                record_code_check(
                    session, ticket=ticket, agent=request.user, account=account, valid=valid
                )
            if not valid:
                raise InvalidInput("that code is wrong or has expired")
            return "Identity confirmed with the code."

        return self._account_action(request, reference, db, settings, accounts, data, act)

    @post("/tickets/{reference:str}/account/call-proof", sync_to_thread=True)
    def call_proof(
        self,
        request: HTMXRequest,
        reference: FromPath[str],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        accounts: NamedDependency[AccountDirectory],
        data: FormBody,
    ) -> Template:
        def act(account: Account) -> str:
            with db.unit_of_work() as session:
                ticket = locked_ticket(session, reference, settings)
                prove_identity_by_call(session, ticket=ticket, agent=request.user, account=account)
            return "Identity confirmed by the checklist on the call."

        return self._account_action(request, reference, db, settings, accounts, data, act)

    @post("/tickets/{reference:str}/account/unlock", sync_to_thread=True)
    def unlock(
        self,
        request: HTMXRequest,
        reference: FromPath[str],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        accounts: NamedDependency[AccountDirectory],
        data: FormBody,
    ) -> Template:
        def act(account: Account) -> str:
            try:
                self._request_unlock(request, reference, db, settings, account, data)
            except (PermissionDenied, Throttled, Conflict) as exc:
                with db.unit_of_work() as session:
                    record_unlock_refusal(
                        session,
                        agent=request.user,
                        ticket=find_ticket(session, reference, settings.reference_prefix),
                        account_id=account.account_id,
                        error=str(exc),
                    )
                raise
            return "Unlock requested. The account owner has been notified."

        return self._account_action(request, reference, db, settings, accounts, data, act)

    def _request_unlock(
        self,
        request: HTMXRequest,
        reference: str,
        db: Database,
        settings: Settings,
        account: Account,
        data: dict[str, str],
    ) -> None:
        agent_session = current_session(request)  # never set for API tokens
        with db.unit_of_work() as session:
            ticket = locked_ticket(session, reference, settings)
            request_account_unlock(
                session,
                settings,
                ticket=ticket,
                agent=request.user,
                agent_session=agent_session,
                account_id=account.account_id,
                reason=data.get("reason", ""),
                idempotency_key=data.get("idempotency_key", ""),
            )


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
            ticket = locked_ticket(session, reference, settings)
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
