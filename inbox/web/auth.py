"""Who is asking: a browser session cookie for pages, an API bearer token under ``/api/``.

Every route needs an agent except the public allowlist below; a test compares
the route table with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import anyio
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.authentication import (
    AbstractAuthenticationMiddleware,
    AuthenticationResult,
)
from litestar.response import Redirect
from sqlmodel import col, select

from inbox.actions.signin.agents import PENDING_LIFETIME
from inbox.actions.signin.tokens import LAST_USED_RESOLUTION, note_token_use
from inbox.actions.signin.two_factor import second_factor_pending, second_factor_recent
from inbox.db import Database
from inbox.errors import PermissionDenied
from inbox.models import Agent, AgentSession, ApiToken, utcnow
from inbox.settings import Settings
from inbox.signing import hash_token

SESSION_COOKIE = "inbox_session"
DEVICE_COOKIE = "inbox_device"
CSRF_COOKIE = "inbox_csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PUBLIC_PATH_PATTERNS = ["^/static/", "^/schema"]
# ``/survey/{token}``: a customer answers a satisfaction survey through the signed link.
PUBLIC_ROUTES = {
    "/login",
    "/healthz",
    "/password/forgot",
    "/password/reset",
    "/survey/{token:str}",
    # The help centre (``inbox.web.help``): readers, search engines and the chat widget.
    "/help",
    "/help/categories/{slug:str}",
    "/help/articles/{slug:str}",
    "/help/articles/{slug:str}/feedback",
    "/help/search",
    "/help/suggest",
    "/help/images/{content_hash:str}",
    "/help/sitemap.xml",
    "/sitemap.xml",
    # The customer portal: no agent, and the portal's own session (``inbox.web.portal``).
    "/portal",
    "/portal/sign-in",
    "/portal/sign-out",
    "/portal/tickets",
    "/portal/find",
    "/portal/tickets/{ref:str}",
    "/portal/tickets/{ref:str}/replies",
    "/portal/new",
    "/portal/files/{file_id:int}",
    "/portal/live",
    # Live chat's visitors (``inbox.web.chat``): the widget, its socket, the page to try it
    # and the page that confirms a visitor's address (its signed link is the key).
    "/chat/widget.js",
    "/chat/widget.css",
    "/chat/ws",
    "/chat/demo",
    "/chat/confirm",
    # A visitor's files: the channel's sites and the visitor's token (``POST``), the signed
    # link of one attachment (``GET``).
    "/chat/files",
    "/chat/files/{token:str}",
    # Meta's webhook: its signature over the raw body is the key (inbox.web.webhooks).
    "/webhooks/meta",
    # A Telegram bot's webhook: the secret token the desk gave setWebhook is the key.
    "/webhooks/telegram/{key:str}",
}
# Route option: the handler needs no agent (every path of PUBLIC_ROUTES carries it).
PUBLIC = {"exclude_from_auth": True}
# Route option: the handler also serves a session that still owes its second factor.
SECOND_FACTOR_PENDING = "second_factor_pending_ok"


def cookie_name(settings: Settings, name: str) -> str:
    """Served over HTTPS, the desk's cookies are ``__Host-`` cookies: the browser keeps them
    only when set Secure, for the whole host and no domain, so neither a plain-HTTP page nor
    a neighbouring subdomain can plant or overwrite one."""
    return f"__Host-{name}" if secure_cookies(settings) else name


def secure_cookies(settings: Settings) -> bool:
    return settings.base_url.startswith("https://")


def session_cookie_name(settings: Settings) -> str:
    return cookie_name(settings, SESSION_COOKIE)


# Headers of pages that show secrets (recovery codes, a TOTP key) or carry a token in the URL.
PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@dataclass(frozen=True)
class Credentials:
    """``request.auth``: how the agent signed in; for a browser, the session row itself."""

    kind: str  # "session" or "token"
    session: AgentSession | None = None
    pending_second_factor: bool = False
    token: ApiToken | None = None


def agent_for_session(db: Database, token: str) -> tuple[Agent, AgentSession] | None:
    with db.reading() as session:
        row = session.exec(
            select(Agent, AgentSession)
            .join(AgentSession, col(AgentSession.agent_id) == Agent.id)
            .where(
                AgentSession.token_hash == hash_token(token),
                col(AgentSession.expires_at) > utcnow(),
                col(Agent.is_active).is_(True),
            )
        ).first()
        return (row[0], row[1]) if row else None


def agent_for_api_token(db: Database, token: str) -> tuple[Agent, ApiToken] | None:
    """The agent and token row of a bearer token that is neither revoked nor expired; its use
    is noted (``last_used_at``, a few minutes coarse)."""
    with db.reading() as session:
        row = session.exec(
            select(Agent, ApiToken)
            .join(ApiToken, col(ApiToken.agent_id) == Agent.id)
            .where(
                ApiToken.token_hash == hash_token(token),
                col(ApiToken.revoked_at).is_(None),
                col(Agent.is_active).is_(True),
            )
        ).first()
    if row is None:
        return None
    agent, api_token = row
    now = utcnow()
    if api_token.expires_at is not None and api_token.expires_at <= now:
        return None
    if api_token.last_used_at is None or api_token.last_used_at <= now - LAST_USED_RESOLUTION:
        with db.unit_of_work() as session:
            note_token_use(session, api_token.id or 0)
    return agent, api_token


def pending_expired(row: AgentSession) -> bool:
    """A sign-in still owing its second factor lasts ``PENDING_LIFETIME`` from the password."""
    return row.created_at <= utcnow() - PENDING_LIFETIME


class AgentAuthMiddleware(AbstractAuthenticationMiddleware):
    """Under ``/api/`` a bearer token and nothing else; everywhere else the session cookie
    and nothing else, so a token (which skips the second factor) never opens a page."""

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        db: Database = connection.app.state.db
        settings: Settings = connection.app.state.settings
        if connection.url.path.startswith("/api/"):
            return await self._bearer(connection, db)
        agent: Agent | None = None
        credentials = Credentials(kind="")
        cookie = connection.cookies.get(session_cookie_name(settings))
        found = await anyio.to_thread.run_sync(agent_for_session, db, cookie) if cookie else None
        if found:
            agent, row = found
            pending = second_factor_pending(agent, row)
            if pending and (
                pending_expired(row) or not connection.route_handler.opt.get(SECOND_FACTOR_PENDING)
            ):
                agent = None  # password only: nothing but the challenge opens, and not for long
            credentials = Credentials(kind="session", session=row, pending_second_factor=pending)
        if agent is None:
            raise NotAuthorizedException("sign in first")
        return AuthenticationResult(user=agent, auth=credentials)

    async def _bearer(
        self, connection: ASGIConnection[Any, Any, Any, Any], db: Database
    ) -> AuthenticationResult:
        header = connection.headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        found = await anyio.to_thread.run_sync(agent_for_api_token, db, token) if token else None
        if found is None:
            raise NotAuthorizedException("a valid API token is required")
        agent, api_token = found
        if api_token.scope != "read-write" and connection.scope.get("method") not in SAFE_METHODS:
            raise PermissionDenied("this API token may only read")
        return AuthenticationResult(user=agent, auth=Credentials(kind="token", token=api_token))


def current_session(request: ASGIConnection[Any, Any, Any, Any]) -> AgentSession | None:
    """The session row of a browser request (None for API tokens): see ``second_factor_recent``."""
    credentials = request.auth
    return credentials.session if isinstance(credentials, Credentials) else None


def reverify_first(request: ASGIConnection[Any, Any, Any, Any], then: str) -> Redirect | None:
    """For the most sensitive actions: without a second factor proved recently in this
    session, the way to prove it again (and come back to ``then``); otherwise None."""
    row = current_session(request)
    if row is None or not second_factor_recent(row):
        return Redirect(f"/account/verify?next={then}", status_code=303)
    return None


def browser_session_only(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Guard for pages meant for people: an API token never turns into a browser session,
    manages a second factor or administers anything, since it skips the second factor."""
    if current_session(connection) is None:
        raise PermissionDenied("sign in with a browser")
