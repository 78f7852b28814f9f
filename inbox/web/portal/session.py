"""The portal's session cookie, and the dependency that turns it into the signed-in customer."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.response import Redirect

from inbox.actions.portal.signin import SESSION_LIFETIME
from inbox.db import Database
from inbox.queries.portal import PortalCustomer, portal_customer
from inbox.settings import Settings
from inbox.web.auth import cookie_name, secure_cookies

PORTAL_COOKIE = "inbox_portal"


class PortalSignInRequired(Exception):
    """No live portal session: the customer is sent to the sign-in form."""


def portal_cookie_name(settings: Settings) -> str:
    """``__Host-inbox_portal`` over HTTPS: never the agents' cookie, never theirs to read."""
    return cookie_name(settings, PORTAL_COOKIE)


def portal_cookie(settings: Settings, value: str, *, max_age: int | None = None) -> Cookie:
    return Cookie(
        key=portal_cookie_name(settings),
        value=value,
        httponly=True,
        secure=secure_cookies(settings),
        samesite="lax",
        path="/",
        max_age=max_age if max_age is not None else int(SESSION_LIFETIME.total_seconds()),
    )


def current_customer(
    request: Request[Any, Any, Any], db: Database, settings: Settings
) -> PortalCustomer | None:
    token = request.cookies.get(portal_cookie_name(settings))
    if not token:
        return None
    with db.reading() as session:
        return portal_customer(session, token)


def signed_in_customer(
    request: Request[Any, Any, Any],
    db: NamedDependency[Database],
    settings: NamedDependency[Settings],
) -> PortalCustomer:
    """Dependency of the pages behind the sign-in: the customer, or PortalSignInRequired."""
    customer = current_customer(request, db, settings)
    if customer is None:
        raise PortalSignInRequired
    return customer


def to_sign_in(request: Request[Any, Any, Any], exc: PortalSignInRequired) -> Redirect:
    return Redirect("/portal", status_code=303)
