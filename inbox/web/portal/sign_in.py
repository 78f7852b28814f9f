"""Signing in to the portal: asking for a link, following it, signing out."""

from __future__ import annotations

import time
from typing import Any

import anyio
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from inbox.actions.portal.signin import (
    INVALID_LINK,
    LINK_LIFETIME,
    check_portal_link,
    end_portal_session,
    request_portal_link,
    sign_in_with_link,
)
from inbox.actions.signin.agents import TooManyAttempts
from inbox.db import Database
from inbox.errors import DomainError
from inbox.settings import Settings
from inbox.web.account import client_address
from inbox.web.auth import PRIVATE, PUBLIC
from inbox.web.forms import FormBody
from inbox.web.portal.session import current_customer, portal_cookie, portal_cookie_name

# Asking for a link answers no sooner than this, whether a mail was queued or not, so the
# time taken says nothing about the address either.
ANSWER_FLOOR_SECONDS = 0.25


class PortalSignInPages(Controller):
    path = "/portal"
    include_in_schema = False

    @get("/", opt=PUBLIC, sync_to_thread=True)
    def form(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> Template | Redirect:
        if current_customer(request, db, settings) is not None:
            return Redirect("/portal/tickets", status_code=303)
        return Template("portal/sign_in.html", context={"minutes": _minutes()})

    @post("/", opt=PUBLIC)
    async def ask_for_link(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        data: FormBody,
    ) -> Template:
        started = time.monotonic()
        email = data.get("email", "")[:400]
        address = client_address(request, settings)
        try:
            await anyio.to_thread.run_sync(_ask, db, settings, email, address)
            page = Template("portal/sign_in.html", context={"sent": True, "minutes": _minutes()})
        except TooManyAttempts as exc:
            page = Template(
                "portal/sign_in.html",
                context={"error": str(exc), "minutes": _minutes()},
                status_code=429,
                headers={"Retry-After": str(exc.retry_after)},
            )
        await anyio.sleep(max(0.0, ANSWER_FLOOR_SECONDS - (time.monotonic() - started)))
        return page

    @get("/sign-in", opt=PUBLIC, sync_to_thread=True)
    def confirm(
        self, db: NamedDependency[Database], token: FromQuery[str | None] = None
    ) -> Template:
        """Opening the link spends nothing (mail scanners follow links): the button does."""
        try:
            with db.reading() as session:
                check_portal_link(session, token or "")
        except DomainError:
            return Template(
                "portal/link.html",
                context={"error": INVALID_LINK},
                status_code=400,
                headers=PRIVATE,
            )
        return Template("portal/link.html", context={"token": token}, headers=PRIVATE)

    @post("/sign-in", opt=PUBLIC, sync_to_thread=True)
    def sign_in(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        data: FormBody,
    ) -> Response[Any]:
        try:
            with db.unit_of_work() as session:
                token = sign_in_with_link(
                    session,
                    data.get("token", ""),
                    previous=request.cookies.get(portal_cookie_name(settings)),
                )
        except DomainError:
            return Template(
                "portal/link.html",
                context={"error": INVALID_LINK},
                status_code=400,
                headers=PRIVATE,
            )
        return Redirect(
            "/portal/tickets", status_code=303, cookies=[portal_cookie(settings, token)]
        )

    @post("/sign-out", opt=PUBLIC, sync_to_thread=True)
    def sign_out(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> Redirect:
        token = request.cookies.get(portal_cookie_name(settings))
        if token:
            with db.unit_of_work() as session:
                end_portal_session(session, token)
        return Redirect(
            "/portal", status_code=303, cookies=[portal_cookie(settings, "", max_age=0)]
        )


def _ask(db: Database, settings: Settings, email: str, address: str) -> None:
    with db.unit_of_work() as session:
        request_portal_link(session, settings, email=email, address=address)


def _minutes() -> int:
    return int(LINK_LIFETIME.total_seconds() // 60)
