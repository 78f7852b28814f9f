"""``/admin``: the administrators' landing page, one entry per area of administration with
what it holds; other roles get 403."""

from __future__ import annotations

from litestar import get
from litestar.di import NamedDependency
from litestar.response import Template

from inbox.db import Database
from inbox.models import utcnow
from inbox.queries.admin_overview import admin_overview
from inbox.queries.health import desk_health
from inbox.web.admin.layout import AdminController, AdminRequest


class AdminHomePages(AdminController):
    path = "/admin"

    @get("/", sync_to_thread=True)
    def home(self, request: AdminRequest, db: NamedDependency[Database]) -> Template:
        """The health shown here is the tables' alone: the broker and the realtime hub are
        probed on the health page itself."""
        with db.reading() as session:
            overview = admin_overview(session)
            health = desk_health(session, now=utcnow(), services=[])
        return Template(
            "pages/admin/index.html",
            context={"overview": overview, "health": health, "agent": request.user},
        )
