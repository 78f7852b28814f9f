"""API tokens, for administrators: every token (never its value) with its agent, scope,
expiry and last use, and revoking one. Made with ``inbox token create``."""

from __future__ import annotations

from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from inbox.actions.signin.tokens import revoke_api_token
from inbox.db import Database
from inbox.queries.sign_in_admin import list_api_tokens
from inbox.web.admin.layout import AdminController, AdminRequest


class TokenAdminPages(AdminController):
    path = "/admin/tokens"

    @get("/", sync_to_thread=True)
    def tokens(self, request: AdminRequest, db: NamedDependency[Database]) -> Template:
        with db.reading() as session:
            rows = list_api_tokens(session)
        return Template("pages/admin/tokens.html", context={"tokens": rows, "agent": request.user})

    @post("/{token_id:int}/revoke", sync_to_thread=True)
    def revoke(
        self, request: AdminRequest, token_id: FromPath[int], db: NamedDependency[Database]
    ) -> Redirect:
        with db.unit_of_work() as session:
            revoke_api_token(session, token_id, actor=request.user)
        return Redirect("/admin/tokens", status_code=303)
