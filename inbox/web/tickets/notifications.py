"""An agent's notifications: the page, the badge in the navigation, marking them read."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate
from litestar.response import Redirect, Template

from inbox.actions.mentions import mark_all_notifications_read, mark_notification_read
from inbox.db import Database
from inbox.queries.workspace import notifications_for, unread_notification_count


class NotificationPages(Controller):
    include_in_schema = False

    @get("/notifications", sync_to_thread=True)
    def notifications(self, request: HTMXRequest, db: NamedDependency[Database]) -> Template:
        with db.reading() as session:
            rows = notifications_for(session, request.user)
        return Template("pages/notifications.html", context={"rows": rows, "agent": request.user})

    @get("/notifications/count", sync_to_thread=True)
    def notification_count(self, request: HTMXRequest, db: NamedDependency[Database]) -> Template:
        """The badge in the navigation, re-fetched by the page."""
        with db.reading() as session:
            count = unread_notification_count(session, request.user)
        return HTMXTemplate(
            template_name="partials/notification_count.html", context={"count": count}
        )

    @post("/notifications/{notification_id:int}/read", sync_to_thread=True)
    def read(
        self,
        request: HTMXRequest,
        notification_id: FromPath[int],
        db: NamedDependency[Database],
    ) -> Redirect:
        with db.unit_of_work() as session:
            mark_notification_read(session, agent=request.user, notification_id=notification_id)
        return Redirect("/notifications", status_code=303)

    @post("/notifications/read-all", sync_to_thread=True)
    def read_all(self, request: HTMXRequest, db: NamedDependency[Database]) -> Redirect:
        with db.unit_of_work() as session:
            mark_all_notifications_read(session, agent=request.user)
        return Redirect("/notifications", status_code=303)
