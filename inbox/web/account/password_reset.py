"""Password reset by email: asking for a link, and setting a new password through it."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Template

from inbox.actions.signin.agents import TooManyAttempts
from inbox.actions.signin.password_reset import (
    INVALID_LINK,
    check_reset_token,
    request_password_reset,
    reset_password,
)
from inbox.db import Database
from inbox.errors import DomainError, InvalidInput
from inbox.settings import Settings
from inbox.web.account.sign_in import client_address, session_cookie, too_many
from inbox.web.auth import PRIVATE, PUBLIC
from inbox.web.forms import FormBody


class PasswordResetPages(Controller):
    include_in_schema = False

    @get("/password/forgot", opt=PUBLIC, sync_to_thread=False)
    def forgot_form(self) -> Template:
        return Template("pages/account/forgot.html", context={"sent": False})

    @post("/password/forgot", opt=PUBLIC, sync_to_thread=True)
    def forgot(
        self,
        request: Request[Any, Any, Any],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        data: FormBody,
    ) -> Template:
        try:
            with db.unit_of_work() as session:
                request_password_reset(
                    session,
                    settings,
                    email=data.get("email", ""),
                    address=client_address(request, settings),
                )
        except TooManyAttempts as exc:
            page = Template("pages/account/forgot.html", context={"sent": False, "error": str(exc)})
            return too_many(page, exc)
        return Template("pages/account/forgot.html", context={"sent": True})

    @get("/password/reset", opt=PUBLIC, sync_to_thread=True)
    def reset_form(
        self, db: NamedDependency[Database], token: FromQuery[str | None] = None
    ) -> Template:
        try:
            with db.reading() as session:
                check_reset_token(session, token or "")
        except DomainError:
            return Template(
                "pages/account/reset.html",
                context={"error": INVALID_LINK},
                status_code=400,
                headers=PRIVATE,
            )
        return Template("pages/account/reset.html", context={"token": token}, headers=PRIVATE)

    @post("/password/reset", opt=PUBLIC, sync_to_thread=True)
    def reset(
        self,
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        data: FormBody,
    ) -> Response[Any]:
        token = data.get("token", "")
        password = data.get("password", "")
        try:
            if password != data.get("confirm", ""):
                raise InvalidInput("the two passwords differ")
            with db.unit_of_work() as session:
                reset_password(session, token=token, password=password)
        except DomainError as exc:
            with db.reading() as session:
                try:
                    check_reset_token(session, token)
                except DomainError:
                    token = ""  # the link itself is bad: no form, just the way to a new one
            return Template(
                "pages/account/reset.html",
                context={"token": token, "error": str(exc)},
                status_code=400,
                headers=PRIVATE,
            )
        return Template(
            "pages/login.html",
            context={"next": "/tickets", "notice": "Password changed. Sign in with the new one."},
            cookies=[session_cookie(settings, "", max_age=0)],
        )
