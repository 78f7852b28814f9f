"""The audit log, for administrators: every sensitive action, newest first, by kind."""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Template

from inbox.db import Database
from inbox.queries.agent_admin import audit_page
from inbox.web.admin.layout import AdminController, AdminRequest


class AuditLogPages(AdminController):
    path = "/admin/audit"

    @get("/", sync_to_thread=True)
    def audit(
        self,
        request: AdminRequest,
        db: NamedDependency[Database],
        action: FromQuery[str | None] = None,
        before: FromQuery[int | None] = None,
    ) -> Template:
        with db.reading() as session:
            page = audit_page(session, action=action or None, before=before)
        return Template(
            "pages/admin/audit.html",
            context={"page": page, "action": action or "", "agent": request.user},
        )
