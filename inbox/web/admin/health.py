"""``/admin/health``: how the desk's machinery is doing, and retrying or discarding the work
it gave up on; ``GET /healthz``, the liveness check, and with ``deep=1`` the same as the page
in JSON for an administrator's API token (answered 503 while anything is red)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlmodel import select

from inbox.actions.health import (
    discard_dead_timer,
    discard_failed_outbound,
    retry_dead_timer,
    retry_failed_outbound,
)
from inbox.actions.signin.agents import check_admin
from inbox.db import Database
from inbox.models import Channel, utcnow
from inbox.queries.health import ServiceProbe, desk_health
from inbox.web.admin.layout import AdminController, AdminRequest
from inbox.web.api import DeskHealth, desk_health_shape
from inbox.web.auth import PUBLIC, agent_for_api_token


class HealthAdminPages(AdminController):
    path = "/admin/health"

    @get("/", sync_to_thread=True)
    def health(
        self,
        request: AdminRequest,
        db: NamedDependency[Database],
        service_probe: NamedDependency[ServiceProbe],
    ) -> Template:
        services = service_probe()
        with db.reading() as session:
            report = desk_health(session, now=utcnow(), services=services)
        return Template(
            "pages/admin/health.html", context={"health": report, "agent": request.user}
        )

    @post("/outbox/{outbox_id:int}/retry", sync_to_thread=True)
    def retry_outbound(
        self, request: AdminRequest, outbox_id: FromPath[int], db: NamedDependency[Database]
    ) -> Redirect:
        with db.unit_of_work() as session:
            retry_failed_outbound(session, outbox_id, actor=request.user)
        return Redirect("/admin/health#outbound", status_code=303)

    @post("/outbox/{outbox_id:int}/discard", sync_to_thread=True)
    def discard_outbound(
        self, request: AdminRequest, outbox_id: FromPath[int], db: NamedDependency[Database]
    ) -> Redirect:
        with db.unit_of_work() as session:
            discard_failed_outbound(session, outbox_id, actor=request.user)
        return Redirect("/admin/health#outbound", status_code=303)

    @post("/timers/{timer_id:int}/retry", sync_to_thread=True)
    def retry_timer(
        self, request: AdminRequest, timer_id: FromPath[int], db: NamedDependency[Database]
    ) -> Redirect:
        with db.unit_of_work() as session:
            retry_dead_timer(session, timer_id, actor=request.user)
        return Redirect("/admin/health#timers", status_code=303)

    @post("/timers/{timer_id:int}/discard", sync_to_thread=True)
    def discard_timer(
        self, request: AdminRequest, timer_id: FromPath[int], db: NamedDependency[Database]
    ) -> Redirect:
        with db.unit_of_work() as session:
            discard_dead_timer(session, timer_id, actor=request.user)
        return Redirect("/admin/health#timers", status_code=303)


@get("/healthz", opt=PUBLIC, sync_to_thread=True)
def healthz(
    request: Request[Any, Any, Any],
    db: NamedDependency[Database],
    service_probe: NamedDependency[ServiceProbe],
    deep: FromQuery[bool] = False,
) -> Response[DeskHealth | dict[str, str]]:
    """Without ``deep``: the database answers (for load balancers; no token). With
    ``deep=1``: every check of /admin/health, for an administrator's bearer token."""
    if not deep:
        with db.reading() as session:
            session.exec(select(Channel.id).limit(1)).all()
        return Response({"status": "ok"})
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    agent = agent_for_api_token(db, token) if token else None
    if agent is None:
        return Response(
            {"error": "unauthorized", "detail": "the deep check needs a bearer token"},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    check_admin(agent)
    services = service_probe()
    with db.reading() as session:
        report = desk_health(session, now=utcnow(), services=services)
    return Response(desk_health_shape(report), status_code=503 if report.status == "red" else 200)
