"""The address throttles in force, for administrators, who can lift one: a colleague behind
the same network address as an attacker is let in again at once. Audited."""

from __future__ import annotations

from litestar import get, post
from litestar.di import NamedDependency
from litestar.response import Redirect, Template

from inbox.actions.signin.throttles import lift_address_throttle
from inbox.db import Database
from inbox.queries.sign_in_admin import address_throttles_in_force
from inbox.web.admin.layout import AdminController, AdminRequest
from inbox.web.forms import FormBody


class ThrottleAdminPages(AdminController):
    path = "/admin/throttles"

    @get("/", sync_to_thread=True)
    def throttles(self, request: AdminRequest, db: NamedDependency[Database]) -> Template:
        with db.reading() as session:
            rows = address_throttles_in_force(session)
        return Template(
            "pages/admin/throttles.html", context={"throttles": rows, "agent": request.user}
        )

    @post("/lift", sync_to_thread=True)
    def lift(
        self, request: AdminRequest, db: NamedDependency[Database], data: FormBody
    ) -> Redirect:
        with db.unit_of_work() as session:
            lift_address_throttle(
                session,
                kind=data.get("kind", ""),
                address=data.get("address", "").strip(),
                actor=request.user,
            )
        return Redirect("/admin/throttles", status_code=303)
