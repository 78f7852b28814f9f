"""The composition root: builds the Litestar app and wires the layers together."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dramatiq
from litestar import Litestar, MediaType, Request, Response
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    ValidationException,
)
from litestar.middleware.base import DefineMiddleware
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, YamlRenderPlugin
from litestar.plugins.htmx import HTMXPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from inbox.errors import DomainError
from inbox.realtime.hub import realtime_channels
from inbox.settings import Settings, get_settings
from inbox.web.account.password_reset import PasswordResetPages
from inbox.web.account.sign_in import SignInPages
from inbox.web.account.two_factor import SecondFactorPages
from inbox.web.admin.agents import AgentAdminPages
from inbox.web.admin.audit import AuditLogPages
from inbox.web.admin.followups import FollowupAdminPages
from inbox.web.admin.health import HealthAdminPages, healthz
from inbox.web.admin.help import HelpAdminPages
from inbox.web.admin.home import AdminHomePages
from inbox.web.admin.macros import MacroAdminPages
from inbox.web.admin.sla import SlaAdminPages
from inbox.web.admin.social import SocialChannelAdminPages
from inbox.web.admin.staff import AgentSettingsPages
from inbox.web.admin.statuses import StatusAdminPages
from inbox.web.admin.teams import TeamAdminPages
from inbox.web.admin.throttles import ThrottleAdminPages
from inbox.web.admin.tokens import TokenAdminPages
from inbox.web.api.calls import CallApi
from inbox.web.api.errors import body_refusal
from inbox.web.api.help import HelpArticleApi, HelpCategoryApi
from inbox.web.api.merges import MergeApi
from inbox.web.api.openapi import ClosedStructSchemaPlugin
from inbox.web.api.people import AgentApi, TeamApi
from inbox.web.api.quarantine import QuarantineApi
from inbox.web.api.reports import ReportApi
from inbox.web.api.sla import SlaApi
from inbox.web.api.tickets import TicketApi
from inbox.web.auth import (
    CSRF_COOKIE,
    PUBLIC,
    PUBLIC_PATH_PATTERNS,
    AgentAuthMiddleware,
    cookie_name,
    secure_cookies,
)
from inbox.web.chat.confirm import ChatConfirmPages
from inbox.web.chat.files import ChatFilePages
from inbox.web.chat.hub import ChatHub
from inbox.web.chat.socket import chat_socket
from inbox.web.chat.widget import ChatWidgetPages
from inbox.web.headers import add_security_headers
from inbox.web.help.pages import HelpPages, SitemapPages
from inbox.web.help.views import ArticleViews
from inbox.web.live.portal import PortalLive, portal_live_socket
from inbox.web.live.socket import live_socket
from inbox.web.live.updates import LiveUpdates
from inbox.web.portal.sign_in import PortalSignInPages
from inbox.web.portal.tickets import PortalTicketPages
from inbox.web.public.survey import SurveyPages
from inbox.web.reports.pages import ReportPages
from inbox.web.tickets.calls import CallPages
from inbox.web.tickets.chat_console import ChatConsolePages
from inbox.web.tickets.countdowns import register_template_functions
from inbox.web.tickets.customer import CustomerPages
from inbox.web.tickets.followups import TicketFollowupPages
from inbox.web.tickets.help_links import HelpLinkPages
from inbox.web.tickets.inbox import InboxPages
from inbox.web.tickets.message_content import MessageContentPages
from inbox.web.tickets.notifications import NotificationPages
from inbox.web.tickets.page import TicketPages
from inbox.web.tickets.scope import ticket_scope_guard
from inbox.web.tickets.sla import TicketSlaPages
from inbox.web.tickets.workspace import WorkspacePages
from inbox.web.webhooks import MetaWebhookPages, TelegramWebhookPages
from workers.accounts import account_directory
from workers.bootstrap import start_realtime, start_runtime
from workers.health import probe_services
from workers.runtime import Runtime

if TYPE_CHECKING:
    from workers.embedded import BackgroundServices

ROOT = Path(__file__).resolve().parent.parent
MAX_BODY_BYTES = 2 * 1024 * 1024
CSRF_EXEMPT = "^/api/"


def _error(request: Request[Any, Any, Any], status: int, code: str, detail: str) -> Response[Any]:
    if request.url.path.startswith("/api/") or "text/html" not in request.headers.get("accept", ""):
        return Response(
            {"error": code, "detail": detail}, status_code=status, media_type=MediaType.JSON
        )
    return Response(
        f"<!doctype html><title>{status}</title><h1>{status}</h1>",
        status_code=status,
        media_type=MediaType.HTML,
    )


def domain_error_handler(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    return _error(request, exc.status, exc.code, str(exc))


def not_authorized_handler(
    request: Request[Any, Any, Any], exc: NotAuthorizedException
) -> Response[Any]:
    if request.url.path.startswith("/api/") or request.method != "GET":
        return _error(request, 401, "unauthorized", "authentication required")
    return Redirect(f"/login?next={request.url.path}", status_code=303)


def http_error_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    codes = {
        400: "bad_request",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        413: "too_large",
    }
    detail = exc.detail if exc.status_code != 500 else "internal error"
    return _error(request, exc.status_code, codes.get(exc.status_code, "error"), str(detail))


def validation_error_handler(
    request: Request[Any, Any, Any], exc: ValidationException
) -> Response[Any]:
    """An API body that does not fit its declared type is refused like any invalid input;
    Litestar's own error shape never reaches the client."""
    refusal = body_refusal(exc) if request.url.path.startswith("/api/") else None
    if refusal is not None:
        return domain_error_handler(request, refusal)
    return http_error_handler(request, exc)


def csrf_config(settings: Settings) -> CSRFConfig:
    """Every unsafe request of a browser carries the token; the JSON API alone is exempt,
    since a cookie never opens it (``inbox.web.auth``): paths that begin with ``/api/``,
    not every path with ``/api/`` somewhere in it."""
    return CSRFConfig(
        secret=settings.secret_key.decode(),
        cookie_name=cookie_name(settings, CSRF_COOKIE),
        header_name="x-csrftoken",
        cookie_secure=secure_cookies(settings),
        cookie_samesite="strict",
        exclude=[CSRF_EXEMPT],
    )


def create_app(
    settings: Settings | None = None,
    *,
    background: bool = True,
    runtime: tuple[Runtime, dramatiq.Broker] | None = None,
    services: BackgroundServices | None = None,
) -> Litestar:
    """``runtime`` and ``services`` when the caller started the work before the web app
    (``inbox serve``, so that mail is filed while the web layer is still being built)."""
    settings = settings or get_settings()
    rt, broker = runtime or start_runtime(settings)
    channels = realtime_channels(settings.realtime_url)
    live = LiveUpdates(start_realtime(rt, channels), channels, rt.db, settings)
    chat = ChatHub(live.publisher, channels, rt.db, settings)
    portal_live = PortalLive(channels, rt.db, settings)
    help_views = ArticleViews(rt.db)
    accounts = account_directory(rt)
    started = services is not None
    if services is None and background and settings.in_process_workers:
        from workers.embedded import BackgroundServices

        services = BackgroundServices(rt, broker)

    def on_startup(app: Litestar) -> None:
        if services and not started:
            services.start()

    def on_shutdown(app: Litestar) -> None:
        if services:
            services.stop()
        help_views.close()
        rt.db.dispose()

    return Litestar(
        route_handlers=[
            # sign-in and account
            SignInPages,
            SecondFactorPages,
            PasswordResetPages,
            # tickets and the inbox
            InboxPages,
            TicketPages,
            MessageContentPages,
            WorkspacePages,
            CallPages,
            CustomerPages,
            TicketFollowupPages,
            HelpLinkPages,
            TicketSlaPages,
            NotificationPages,
            ChatConsolePages,
            # administration
            AdminHomePages,
            HealthAdminPages,
            TeamAdminPages,
            AgentSettingsPages,
            StatusAdminPages,
            AgentAdminPages,
            AuditLogPages,
            MacroAdminPages,
            FollowupAdminPages,
            SlaAdminPages,
            ThrottleAdminPages,
            TokenAdminPages,
            HelpAdminPages,
            SocialChannelAdminPages,
            # the JSON API
            TicketApi,
            QuarantineApi,
            CallApi,
            MergeApi,
            ReportApi,
            TeamApi,
            AgentApi,
            SlaApi,
            HelpArticleApi,
            HelpCategoryApi,
            # reports, the public survey
            ReportPages,
            SurveyPages,
            # the public help centre
            HelpPages,
            SitemapPages,
            # the customer portal
            PortalSignInPages,
            PortalTicketPages,
            portal_live_socket,
            # the platforms' webhooks
            MetaWebhookPages,
            TelegramWebhookPages,
            healthz,
            live_socket,
            # live chat: the widget, its demo and the visitor's socket
            ChatWidgetPages,
            ChatConfirmPages,
            ChatFilePages,
            chat_socket,
            create_static_files_router(
                path="/static",
                directories=[ROOT / "inbox" / "web" / "static"],
                opt=PUBLIC,
                include_in_schema=False,
            ),
        ],
        dependencies={
            "db": Provide(lambda: rt.db, sync_to_thread=False),
            "settings": Provide(lambda: settings, sync_to_thread=False),
            "blobs": Provide(lambda: rt.blobs, sync_to_thread=False),
            "accounts": Provide(lambda: accounts, sync_to_thread=False),
            # The broker and realtime hub, probed for /admin/health and /healthz?deep=1.
            "service_probe": Provide(
                lambda: partial(probe_services, settings), sync_to_thread=False
            ),
        },
        state=State(
            {
                "db": rt.db,
                "settings": settings,
                "live": live,
                "chat": chat,
                "portal_live": portal_live,
                "help_views": help_views,
            }
        ),
        middleware=[DefineMiddleware(AgentAuthMiddleware, exclude=PUBLIC_PATH_PATTERNS)],
        guards=[ticket_scope_guard],
        csrf_config=csrf_config(settings),
        before_send=[add_security_headers],
        template_config=TemplateConfig(
            directory=ROOT / "templates",
            engine=JinjaTemplateEngine,
            engine_callback=register_template_functions,
        ),
        plugins=[HTMXPlugin(), channels, ClosedStructSchemaPlugin()],
        openapi_config=OpenAPIConfig(
            title="Inbox",
            version="1",
            path="/schema",
            # The schema itself: the HTML viewers would run other sites' scripts on the desk.
            render_plugins=[JsonRenderPlugin(path=["/", "/openapi.json"]), YamlRenderPlugin()],
        ),
        exception_handlers={
            DomainError: domain_error_handler,
            NotAuthorizedException: not_authorized_handler,
            NotFoundException: http_error_handler,
            ValidationException: validation_error_handler,
            HTTPException: http_error_handler,
        },
        request_max_body_size=MAX_BODY_BYTES,
        on_startup=[on_startup, live.start, chat.start, portal_live.start],
        on_shutdown=[portal_live.stop, chat.stop, live.stop, on_shutdown],
    )
