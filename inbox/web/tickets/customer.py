"""The customer panel of a ticket, and unlocking the customer's account.

Thin edges: parse the form, call one action (or the account directory, outside any
transaction, as one would a remote service), render one template.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate
from litestar.response import Template

from inbox.accounts import Account, AccountDirectory, DirectoryError
from inbox.actions.customer_links import link_customer, unlink_customer
from inbox.actions.customers import mark_deliverable
from inbox.actions.signin.two_factor import can_unlock_accounts
from inbox.actions.tickets import access_ticket
from inbox.actions.unlock import (
    check_can_unlock,
    prove_identity_by_call,
    record_code_check,
    record_code_sent,
    record_foreign_account_refusal,
    record_unlock_refusal,
    request_account_unlock,
)
from inbox.db import Database
from inbox.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied, Throttled
from inbox.models import CustomerIdentity
from inbox.models.kinds import IdentityKind
from inbox.queries.customers import customer_identities, customer_panel
from inbox.queries.tickets import find_ticket, viewer_for
from inbox.rules.phone import display_phone, spoken_groups, spoken_reference
from inbox.settings import Settings
from inbox.web.auth import current_session
from inbox.web.forms import FormBody, status_of

# Identities looked up in the account directory for the panel, at most.
MAX_LOOKUPS = 4


@dataclass
class AccountView:
    account: Account | None
    error: str | None = None


def _find_account(
    directory: AccountDirectory, identities: list[CustomerIdentity]
) -> Account | None:
    """The customer's account: looked up by each email address and phone number in turn.
    ``DirectoryError`` when the directory does not answer."""
    lookups = [i for i in identities if i.kind in (IdentityKind.EMAIL, IdentityKind.PHONE)][
        :MAX_LOOKUPS
    ]
    for identity in lookups:
        found = (
            directory.find(email=identity.value)
            if identity.kind == IdentityKind.EMAIL
            else directory.find(phone=identity.value)
        )
        if found is not None:
            return found
    return None


def _accounts_for(directory: AccountDirectory, identities: list[CustomerIdentity]) -> AccountView:
    try:
        return AccountView(_find_account(directory, identities))
    except DirectoryError as exc:
        return AccountView(None, f"the account directory did not answer: {exc}")


class CustomerPages(Controller):
    include_in_schema = False

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
            panel = customer_panel(session, ticket, viewer_for(session, request.user))
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
        """Run ``act(account)`` on the account the directory has for the ticket's customer,
        then show the panel again. The form's ``account_id`` (the account the panel showed) is
        only checked against it: an account the directory does not give for this customer's
        identities is refused, and the refusal audited."""
        try:
            with db.reading() as session:
                ticket = find_ticket(session, reference, settings.reference_prefix)
                identities = customer_identities(session, ticket)
            account = _find_account(accounts, identities)
            if account is None:
                raise InvalidInput(
                    "no account in the account directory has this customer's address or number"
                )
            named = data.get("account_id", "").strip()
            if named and named != account.account_id:
                with db.unit_of_work() as session:
                    record_foreign_account_refusal(
                        session, agent=request.user, ticket=ticket, named=named, account=account
                    )
                raise PermissionDenied(
                    "that account is not the one the account directory has for this customer"
                )
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
                status_code=status_of(exc),
            )
        return self._panel(request, reference, db, settings, accounts, notice=notice)

    @post("/tickets/{reference:str}/identities/{identity_id:int}/deliverable", sync_to_thread=True)
    def deliverable(
        self,
        request: HTMXRequest,
        reference: FromPath[str],
        identity_id: FromPath[int],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        accounts: NamedDependency[AccountDirectory],
    ) -> Template:
        """Clear a bounce's mark on one of the customer's addresses (audited)."""
        with db.unit_of_work() as session:
            ticket = access_ticket(session, request.user, reference, settings.reference_prefix)
            mark_deliverable(session, actor=request.user, ticket=ticket, identity_id=identity_id)
        return self._panel(request, reference, db, settings, accounts)

    @post("/tickets/{reference:str}/customer/link", sync_to_thread=True)
    def link(
        self,
        request: HTMXRequest,
        reference: FromPath[str],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        accounts: NamedDependency[AccountDirectory],
        data: FormBody,
    ) -> Template:
        """The ticket's customer is the same person as another customer (audited)."""
        try:
            with db.unit_of_work() as session:
                ticket = access_ticket(session, request.user, reference, settings.reference_prefix)
                target = link_customer(
                    session,
                    actor=request.user,
                    ticket=ticket,
                    other=data.get("other", ""),
                    prefix=settings.reference_prefix,
                    phone_region=settings.phone_region,
                )
        except DomainError as exc:
            return self._panel(
                request, reference, db, settings, accounts, error=str(exc), status_code=200
            )
        notice = f"Linked: {target.name} (undo with Unlink)"
        return self._panel(request, reference, db, settings, accounts, notice=notice)

    @post("/tickets/{reference:str}/customers/{customer_id:int}/unlink", sync_to_thread=True)
    def unlink(
        self,
        request: HTMXRequest,
        reference: FromPath[str],
        customer_id: FromPath[int],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        accounts: NamedDependency[AccountDirectory],
    ) -> Template:
        """Undo a link (audited)."""
        with db.unit_of_work() as session:
            ticket = access_ticket(session, request.user, reference, settings.reference_prefix)
            unlink_customer(session, actor=request.user, ticket=ticket, customer_id=customer_id)
        return self._panel(request, reference, db, settings, accounts, notice="Unlinked.")

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
                ticket = access_ticket(session, request.user, reference, settings.reference_prefix)
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
                ticket = access_ticket(session, request.user, reference, settings.reference_prefix)
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
                ticket = access_ticket(session, request.user, reference, settings.reference_prefix)
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
            ticket = access_ticket(session, request.user, reference, settings.reference_prefix)
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
