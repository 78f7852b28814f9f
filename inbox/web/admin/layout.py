"""What every admin page shares: it is for people (an API token skips the second factor, so it
administers nothing), for the roles that may administer it, and left out of ``/schema``; its
template extends ``pages/admin/layout.html``."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from inbox.actions.signin.agents import check_admin
from inbox.models import Agent
from inbox.web.auth import Credentials, browser_session_only

AdminRequest = Request[Agent, Credentials, Any]


def admin_only(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    check_admin(connection.user)


class AdminController(Controller):
    """An admin page: role admin only unless a subclass names other guards; others get 403."""

    guards = [browser_session_only, admin_only]
    include_in_schema = False
