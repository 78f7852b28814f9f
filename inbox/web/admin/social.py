"""``/admin/social``: the Telegram, Messenger, Instagram, WhatsApp and X channels for
administrators: adding one, replacing its secrets (a revoked token), and testing the
connection (the platform reads the account with the channel's token), and switching a
Telegram bot between long polling and a webhook. Secrets are write-only: no page ever shows
one."""

from __future__ import annotations

from typing import Any

from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Response, Template

import connectors
from connectors.errors import ConnectorError
from inbox.actions.channels import record_channel_health
from inbox.actions.social_channels import add_social_channel, replace_social_secrets
from inbox.db import Database
from inbox.errors import DomainError, NotFound
from inbox.models import Channel
from inbox.queries.social import social_channel_rows
from inbox.settings import Settings
from inbox.signing import SecretBox
from inbox.web.admin.layout import AdminController, AdminRequest
from inbox.web.forms import FormBody
from inbox.web.webhooks import use_telegram_polling, use_telegram_webhook

# Per kind: the form fields of its account id and base URL, and the secrets it needs.
KINDS = {
    "telegram": ("", "api_url", ("token",)),
    "messenger": ("page_id", "graph_url", ("token", "app_secret", "verify_token")),
    "instagram": ("account_id", "graph_url", ("token", "app_secret", "verify_token")),
    "whatsapp": ("phone_number_id", "graph_url", ("token", "app_secret", "verify_token")),
    "x": ("user_id", "api_url", ("token",)),
}
SECRETS = ("token", "app_secret", "verify_token")


class SocialChannelAdminPages(AdminController):
    path = "/admin/social"

    @get("/", sync_to_thread=True)
    def channels(self, request: AdminRequest, db: NamedDependency[Database]) -> Template:
        return self._page(request, db)

    @post("/", sync_to_thread=True)
    def add(
        self,
        request: AdminRequest,
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        data: FormBody,
    ) -> Response[Any]:
        kind = data.get("kind", "")
        try:
            if kind not in KINDS:
                raise NotFound("choose a platform")
            id_field, url_field, needed = KINDS[kind]
            account = data.get("account_id", "").strip()
            values: dict[str, Any] = {url_field: data.get("base_url", "").strip()}
            if id_field:
                values[id_field] = account
            with db.unit_of_work() as session:
                add_social_channel(
                    session,
                    SecretBox(settings.secret_key),
                    kind=kind,
                    name=data.get("name", ""),
                    account_id=account,
                    secrets={key: data.get(key, "") for key in needed},
                    settings=values,
                    actor=request.user,
                )
        except DomainError as exc:
            return self._page(request, db, error=str(exc), form=data)
        return Redirect("/admin/social", status_code=303)

    @post("/{channel_id:int}/secrets", sync_to_thread=True)
    def secrets(
        self,
        request: AdminRequest,
        channel_id: FromPath[int],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        data: FormBody,
    ) -> Response[Any]:
        try:
            with db.unit_of_work() as session:
                replace_social_secrets(
                    session,
                    SecretBox(settings.secret_key),
                    channel_id=channel_id,
                    secrets={key: data.get(key, "") for key in SECRETS},
                    actor=request.user,
                )
        except DomainError as exc:
            return self._page(request, db, error=str(exc))
        return Redirect("/admin/social", status_code=303)

    @post("/{channel_id:int}/check", sync_to_thread=True)
    def check(
        self,
        request: AdminRequest,
        channel_id: FromPath[int],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> Response[Any]:
        """Asks the platform for the account with the channel's token; the answer becomes
        the channel's health (a refused token: red, with the platform's words)."""
        with db.reading() as session:
            channel = session.get(Channel, channel_id)
            if channel is None or channel.kind not in KINDS:
                raise NotFound("no such social channel")
            config = SecretBox(settings.secret_key).open(channel.secrets_encrypted)
        check = getattr(connectors.get(channel.kind), "check", None)
        try:
            name = check(config) if check else ""
        except ConnectorError as exc:
            health, detail = "failing", str(exc)
        else:
            health, detail = "ok", f"connected as {name}" if name else "connected"
        with db.unit_of_work() as session:
            record_channel_health(session, channel_id, health, detail)
        return Redirect("/admin/social", status_code=303)

    @post("/{channel_id:int}/webhook", sync_to_thread=True)
    def webhook(
        self,
        request: AdminRequest,
        channel_id: FromPath[int],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        data: FormBody,
    ) -> Response[Any]:
        """A Telegram channel: Telegram posts to this desk at ``base_url`` from now on, or,
        with no ``base_url``, the desk reads by long polling again."""
        base_url = data.get("base_url", "").strip()
        try:
            if base_url:
                use_telegram_webhook(db, settings, channel_id, base_url, actor=request.user)
            else:
                use_telegram_polling(db, settings, channel_id, actor=request.user)
        except (DomainError, ConnectorError) as exc:
            return self._page(request, db, error=str(exc))
        return Redirect("/admin/social", status_code=303)

    def _page(
        self,
        request: AdminRequest,
        db: Database,
        *,
        error: str | None = None,
        form: dict[str, str] | None = None,
    ) -> Template:
        with db.reading() as session:
            rows = social_channel_rows(session)
        return Template(
            "pages/admin/social.html",
            context={
                "rows": rows,
                "kinds": list(KINDS),
                "agent": request.user,
                "error": error,
                "form": {k: v for k, v in (form or {}).items() if k not in SECRETS},
                # Where Telegram is to post, unless the administrator says otherwise.
                "base_url": request.app.state.settings.base_url,
            },
            status_code=422 if error else 200,
        )
