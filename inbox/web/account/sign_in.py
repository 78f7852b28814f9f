"""Signing in and out.

Sign-in is two steps for whoever needs a second factor: the password opens a short-lived
pending session that reaches nothing but the challenge (``inbox.web.account.two_factor``); the
challenge replaces it with a full session. The helpers below serve the whole account area:
the session cookie, where to go after signing in, the answer to too many attempts, and the
address attempts are counted against.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Redirect, Template
from sqlmodel import Session

from inbox.actions.signin.agents import (
    PENDING_LIFETIME,
    SESSION_LIFETIME,
    SignInClient,
    TooManyAttempts,
    authenticate_agent,
    end_session,
    finish_sign_in,
)
from inbox.actions.signin.devices import DEVICE_LIFETIME
from inbox.actions.signin.two_factor import begin_sign_in, second_factor_pending
from inbox.db import Database
from inbox.models import Agent
from inbox.settings import Settings
from inbox.web.auth import (
    DEVICE_COOKIE,
    PUBLIC,
    SECOND_FACTOR_PENDING,
    agent_for_session,
    cookie_name,
    pending_expired,
    secure_cookies,
    session_cookie_name,
)
from inbox.web.forms import FormBody

# Route option of the pages a session that still owes its second factor reaches.
PENDING_OK = {SECOND_FACTOR_PENDING: True}


def session_cookie(settings: Settings, value: str, *, max_age: int | None = None) -> Cookie:
    return Cookie(
        key=session_cookie_name(settings),
        value=value,
        httponly=True,
        secure=secure_cookies(settings),
        samesite="lax",
        path="/",
        max_age=max_age,
    )


def full_session_cookie(settings: Settings, token: str) -> Cookie:
    return session_cookie(settings, token, max_age=int(SESSION_LIFETIME.total_seconds()))


def device_cookie(settings: Settings, value: str) -> Cookie:
    """The browser's device cookie (``inbox.actions.signin.devices``): sent only to the
    desk's own pages, kept across sign-outs."""
    return Cookie(
        key=cookie_name(settings, DEVICE_COOKIE),
        value=value,
        httponly=True,
        secure=secure_cookies(settings),
        samesite="strict",
        path="/",
        max_age=int(DEVICE_LIFETIME.total_seconds()),
    )


def signed_in_cookies(
    session: Session,
    request: ASGIConnection[Any, Any, Any, Any],
    settings: Settings,
    agent: Agent,
    token: str,
) -> list[Cookie]:
    """The cookies of a complete sign-in: the full session, and the device cookie that lets
    this browser in whatever others try against the agent (``finish_sign_in``)."""
    device = finish_sign_in(
        session,
        settings.secret_key,
        agent,
        request.cookies.get(cookie_name(settings, DEVICE_COOKIE)),
    )
    return [full_session_cookie(settings, token), device_cookie(settings, device)]


def local_target(target: str | None) -> str:
    """Where to go after signing in: only a same-site path (no open redirects), else the inbox."""
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and not any(ord(c) < 32 for c in target)
    ):
        return target
    return "/tickets"


def too_many(page: Template, exc: TooManyAttempts) -> Template:
    """The form again, answered 429 with how long to wait, as page and as header."""
    page.status_code = 429
    page.headers["Retry-After"] = str(exc.retry_after)
    return page


def sign_in_client(
    connection: ASGIConnection[Any, Any, Any, Any], settings: Settings
) -> SignInClient:
    """The address and the device cookie of the browser that is signing in."""
    return SignInClient(
        address=client_address(connection, settings),
        device_cookie=connection.cookies.get(cookie_name(settings, DEVICE_COOKIE)),
    )


def client_address(connection: ASGIConnection[Any, Any, Any, Any], settings: Settings) -> str:
    """Who is at the other end, for sign-in throttling: the socket's peer. Behind
    ``settings.trusted_proxy_hops`` proxies that each append the address they were reached
    from to X-Forwarded-For, the entry the outermost of them wrote: whatever comes before it
    the client wrote itself. A header with fewer entries than that is ignored."""
    peer = connection.client.host if connection.client else ""
    hops = settings.trusted_proxy_hops
    if hops <= 0:
        return peer
    entries = [
        entry.strip()
        for header in connection.headers.getall("x-forwarded-for", [])
        for entry in header.split(",")
        if entry.strip()
    ]
    return entries[-hops] if len(entries) >= hops else peer


class SignInPages(Controller):
    include_in_schema = False

    @get("/login", opt=PUBLIC, sync_to_thread=True)
    def login_form(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        next: FromQuery[str | None] = None,
    ) -> Template | Redirect:
        target = local_target(next)
        cookie = request.cookies.get(session_cookie_name(settings))
        found = agent_for_session(db, cookie) if cookie else None
        if found and second_factor_pending(*found) and not pending_expired(found[1]):
            return Redirect(f"/login/two-factor?next={quote(target)}")
        return Template("pages/login.html", context={"next": target})

    @post("/login", opt=PUBLIC, sync_to_thread=True)
    def login(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        data: FormBody,
    ) -> Response[Any]:
        target = local_target(data.get("next"))
        token, pending, cookies = None, False, []
        try:
            with db.unit_of_work() as session:
                agent = authenticate_agent(
                    session,
                    email=data.get("email", ""),
                    password=data.get("password", ""),
                    client=sign_in_client(request, settings),
                    secret_key=settings.secret_key,
                )
                if agent:
                    token, pending = begin_sign_in(session, agent)
                    old = request.cookies.get(session_cookie_name(settings))
                    if old:
                        end_session(session, old)  # rotate: the pre-login session id dies here
                    if not pending:
                        cookies = signed_in_cookies(session, request, settings, agent, token)
        except TooManyAttempts as exc:
            page = Template("pages/login.html", context={"next": target, "error": str(exc)})
            return too_many(page, exc)
        if token is None:
            return Template(
                "pages/login.html",
                context={
                    "next": target,
                    "error": "Wrong address or password, or the account is locked.",
                },
                status_code=400,
            )
        if pending:
            cookie = session_cookie(settings, token, max_age=int(PENDING_LIFETIME.total_seconds()))
            return Redirect(
                f"/login/two-factor?next={quote(target)}", status_code=303, cookies=[cookie]
            )
        return Redirect(target, status_code=303, cookies=cookies)

    @post("/logout", opt=PENDING_OK, sync_to_thread=True)
    def logout(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> Redirect:
        token = request.cookies.get(session_cookie_name(settings))
        if token:
            with db.unit_of_work() as session:
                end_session(session, token)
        return Redirect(
            "/login", status_code=303, cookies=[session_cookie(settings, "", max_age=0)]
        )
