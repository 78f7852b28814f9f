"""Who is asking: a browser session cookie or an API bearer token.

Every route needs an agent except the public allowlist below; a test compares
the route table with it.
"""

from __future__ import annotations

from typing import Any

import anyio
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.middleware.authentication import (
    AbstractAuthenticationMiddleware,
    AuthenticationResult,
)
from sqlmodel import col, select

from inbox.db import Database
from inbox.models import Agent, AgentSession, ApiToken, utcnow
from inbox.signing import hash_token

SESSION_COOKIE = "inbox_session"
PUBLIC_PATH_PATTERNS = ["^/static/", "^/schema"]
PUBLIC_ROUTES = {"/login", "/healthz"}


def agent_for_session(db: Database, token: str) -> Agent | None:
    with db.reading() as session:
        row = session.exec(
            select(Agent)
            .join(AgentSession, col(AgentSession.agent_id) == Agent.id)
            .where(
                AgentSession.token_hash == hash_token(token),
                col(AgentSession.expires_at) > utcnow(),
                col(Agent.is_active).is_(True),
            )
        ).first()
        return row


def agent_for_api_token(db: Database, token: str) -> Agent | None:
    with db.reading() as session:
        return session.exec(
            select(Agent)
            .join(ApiToken, col(ApiToken.agent_id) == Agent.id)
            .where(
                ApiToken.token_hash == hash_token(token),
                col(ApiToken.revoked_at).is_(None),
                col(Agent.is_active).is_(True),
            )
        ).first()


class AgentAuthMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        db: Database = connection.app.state.db
        header = connection.headers.get("authorization", "")
        agent: Agent | None = None
        kind = ""
        if header.lower().startswith("bearer "):
            token = header[7:].strip()
            if token:
                agent = await anyio.to_thread.run_sync(agent_for_api_token, db, token)
                kind = "token"
        elif connection.url.path.startswith("/api/"):
            agent = (
                None  # the API takes tokens only: a cookie never authorises it, so no CSRF there
            )
        else:
            cookie = connection.cookies.get(SESSION_COOKIE)
            if cookie:
                agent = await anyio.to_thread.run_sync(agent_for_session, db, cookie)
                kind = "session"
        if agent is None:
            raise NotAuthorizedException("sign in first")
        return AuthenticationResult(user=agent, auth=kind)


def is_local_path(target: str | None) -> bool:
    """Only same-site paths are allowed after sign-in: no open redirects."""
    return bool(
        target
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and not any(ord(c) < 32 for c in target)
    )
