"""The second factor: the challenge after the password, re-verification, and enrolling an
authenticator.

The challenge, reached from a full session, is the re-verify page that sensitive actions send
people to (``/account/verify?next=...``).
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Redirect, Template
from sqlmodel import Session

from inbox.actions.automatic_mail import can_mail_agents
from inbox.actions.signin.agents import TooManyAttempts
from inbox.actions.signin.two_factor import (
    begin_totp_enrolment,
    check_second_factor,
    complete_second_factor,
    confirm_totp_enrolment,
    has_totp,
    regenerate_recovery_codes,
    second_factor_required,
    send_sign_in_code,
    unused_recovery_codes,
)
from inbox.db import Database
from inbox.errors import DomainError, InvalidInput
from inbox.models import Agent
from inbox.settings import Settings
from inbox.signing import SecretBox
from inbox.web.account.sign_in import (
    PENDING_OK,
    full_session_cookie,
    local_target,
    sign_in_client,
    signed_in_cookies,
    too_many,
)
from inbox.web.auth import (
    PRIVATE,
    Credentials,
    browser_session_only,
    reverify_first,
    session_cookie_name,
)
from inbox.web.forms import FormBody

AgentRequest = Request[Agent, Credentials, Any]


def _own_row(session: Session, request: AgentRequest) -> Agent:
    """The signed-in agent, read again in this unit of work to change it."""
    agent = session.get(Agent, request.user.id)
    assert agent is not None
    return agent


def _recovery_codes_page(
    codes: list[str], *, next: str, agent: Agent, cookies: list[Cookie] | None = None
) -> Template:
    """Shown once, never cached: the codes that stand in for a lost second factor."""
    return Template(
        "pages/account/recovery_codes.html",
        context={"codes": codes, "next": next, "agent": agent},
        headers=PRIVATE,
        cookies=cookies,
    )


class SecondFactorPages(Controller):
    """The challenge after the password, re-verification, and enrolling an authenticator."""

    include_in_schema = False
    guards = [browser_session_only]

    def _challenge(
        self,
        request: AgentRequest,
        db: Database,
        settings: Settings,
        *,
        next: str | None,
        error: str | None = None,
        notice: str | None = None,
        status_code: int = 200,
    ) -> Template:
        agent = request.user
        with db.reading() as session:
            can_email = can_mail_agents(session)
        enrolment = None
        if not has_totp(agent) and not can_email and request.auth.pending_second_factor:
            # A role that needs a second factor, none set up, no mail to send a code by:
            # the first sign-in sets one up (the bootstrap every desk goes through once).
            enrolment = begin_totp_enrolment(SecretBox(settings.secret_key), agent)
        path = request.url.path.removesuffix("/email")
        return Template(
            "pages/account/verify.html",
            context={
                "agent": None if request.auth.pending_second_factor else agent,
                "pending": request.auth.pending_second_factor,
                "action": path,
                "next": local_target(next),
                "has_totp": has_totp(agent),
                "can_email": can_email,
                "enrolment": enrolment,
                "error": error,
                "notice": notice,
            },
            status_code=status_code,
            headers=PRIVATE,
        )

    # One handler per path: Litestar wraps a sync handler registered on two paths twice.
    @get("/login/two-factor", opt=PENDING_OK, sync_to_thread=True)
    def challenge(
        self,
        request: AgentRequest,
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        next: FromQuery[str | None] = None,
    ) -> Template:
        return self._challenge(request, db, settings, next=next)

    @get("/account/verify", opt=PENDING_OK, sync_to_thread=True)
    def reverify(
        self,
        request: AgentRequest,
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        next: FromQuery[str | None] = None,
    ) -> Template:
        return self._challenge(request, db, settings, next=next)

    @post("/login/two-factor", opt=PENDING_OK, sync_to_thread=True)
    def prove(
        self,
        request: AgentRequest,
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        data: FormBody,
    ) -> Response[Any]:
        return self._prove(request, db, settings, data)

    @post("/account/verify", opt=PENDING_OK, sync_to_thread=True)
    def prove_again(
        self,
        request: AgentRequest,
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        data: FormBody,
    ) -> Response[Any]:
        return self._prove(request, db, settings, data)

    def _prove(
        self, request: AgentRequest, db: Database, settings: Settings, data: dict[str, str]
    ) -> Response[Any]:
        method = data.get("method", "")
        target = local_target(data.get("next"))
        old_token = request.cookies.get(session_cookie_name(settings), "")
        codes: list[str] = []
        token = None
        cookies: list[Cookie] = []
        try:
            with db.unit_of_work() as session:
                agent = _own_row(session, request)
                if method == "enrol":
                    if has_totp(agent) or can_mail_agents(session):
                        raise InvalidInput("set up an authenticator from your account page")
                    codes = confirm_totp_enrolment(
                        session,
                        settings,
                        agent,
                        sealed=data.get("sealed", ""),
                        code=data.get("code", ""),
                    )
                    ok = True
                else:
                    ok = check_second_factor(
                        session,
                        settings,
                        agent,
                        method=method,
                        code=data.get("code", ""),
                        client=sign_in_client(request, settings),
                    )
                if ok:
                    token = complete_second_factor(
                        session, agent, old_token=old_token, method=method
                    )
                    cookies = signed_in_cookies(session, request, settings, agent, token)
        except TooManyAttempts as exc:
            page = self._challenge(request, db, settings, next=target, error=str(exc))
            return too_many(page, exc)
        except DomainError as exc:
            return self._challenge(
                request, db, settings, next=target, error=str(exc), status_code=400
            )
        if token is None:
            return self._challenge(
                request,
                db,
                settings,
                next=target,
                error="That code is wrong or was used already.",
                status_code=400,
            )
        if codes:
            return _recovery_codes_page(codes, next=target, agent=request.user, cookies=cookies)
        return Redirect(target, status_code=303, cookies=cookies)

    @post("/login/two-factor/email", opt=PENDING_OK, sync_to_thread=True)
    def mail_code(
        self,
        request: AgentRequest,
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        data: FormBody,
    ) -> Template:
        return self._mail_code(request, db, settings, data)

    @post("/account/verify/email", opt=PENDING_OK, sync_to_thread=True)
    def mail_code_again(
        self,
        request: AgentRequest,
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        data: FormBody,
    ) -> Template:
        return self._mail_code(request, db, settings, data)

    def _mail_code(
        self, request: AgentRequest, db: Database, settings: Settings, data: dict[str, str]
    ) -> Template:
        try:
            with db.unit_of_work() as session:
                agent = _own_row(session, request)
                sent = send_sign_in_code(session, settings, agent)
        except DomainError as exc:
            return self._challenge(
                request, db, settings, next=data.get("next"), error=str(exc), status_code=429
            )
        if not sent:
            return self._challenge(
                request, db, settings, next=data.get("next"), error="No mail can be sent now."
            )
        return self._challenge(
            request,
            db,
            settings,
            next=data.get("next"),
            notice=f"A code is on its way to {request.user.email}.",
        )

    @get("/account/two-factor", sync_to_thread=True)
    def two_factor(
        self,
        request: AgentRequest,
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> Template:
        return self._two_factor_page(request, db, settings)

    def _two_factor_page(
        self,
        request: AgentRequest,
        db: Database,
        settings: Settings,
        *,
        error: str | None = None,
        status_code: int = 200,
    ) -> Template:
        agent = request.user
        with db.reading() as session:
            left = unused_recovery_codes(session, agent)
        return Template(
            "pages/account/two_factor.html",
            context={
                "agent": agent,
                "has_totp": has_totp(agent),
                "required": second_factor_required(agent),
                "recovery_left": left,
                "enrolment": None
                if has_totp(agent)
                else begin_totp_enrolment(SecretBox(settings.secret_key), agent),
                "error": error,
            },
            status_code=status_code,
            headers=PRIVATE,
        )

    @post("/account/two-factor", sync_to_thread=True)
    def enrol(
        self,
        request: AgentRequest,
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        data: FormBody,
    ) -> Template:
        try:
            with db.unit_of_work() as session:
                agent = _own_row(session, request)
                if has_totp(agent):
                    raise InvalidInput("an authenticator app is set up already")
                codes = confirm_totp_enrolment(
                    session,
                    settings,
                    agent,
                    sealed=data.get("sealed", ""),
                    code=data.get("code", ""),
                )
                # The code just proved the new factor; from now on this agent's sessions need
                # one, so this session is replaced by one that carries the proof.
                token = complete_second_factor(
                    session,
                    agent,
                    old_token=request.cookies.get(session_cookie_name(settings), ""),
                    method="totp",
                )
        except DomainError as exc:
            return self._two_factor_page(request, db, settings, error=str(exc), status_code=400)
        cookies = [full_session_cookie(settings, token)]
        return _recovery_codes_page(codes, next="/account/two-factor", agent=agent, cookies=cookies)

    @post("/account/two-factor/recovery-codes", sync_to_thread=True)
    def new_recovery_codes(
        self,
        request: AgentRequest,
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> Response[Any]:
        if reverify := reverify_first(request, "/account/two-factor"):
            return reverify
        with db.unit_of_work() as session:
            agent = _own_row(session, request)
            codes = regenerate_recovery_codes(session, settings, agent)
        return _recovery_codes_page(codes, next="/account/two-factor", agent=agent)
