"""Follow-up settings per team, for administrators: reminders, auto-resolve, the reopen window
and the satisfaction survey. Forms accept only the fields declared here."""

from __future__ import annotations

from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from inbox.actions.followups import (
    FollowupFields,
    save_followup_settings,
    use_default_followup_settings,
)
from inbox.db import Database
from inbox.errors import InvalidInput
from inbox.queries.followups import list_followup_settings
from inbox.queries.sla import list_calendars
from inbox.web.admin.layout import AdminController, AdminRequest
from inbox.web.forms import FormBody


def _days(data: dict[str, str], name: str, what: str) -> int | None:
    text = data.get(name, "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise InvalidInput(f"{what} must be a whole number of days")
    return int(text)


def followup_fields(data: dict[str, str]) -> FollowupFields:
    calendar = data.get("calendar_id", "").strip()
    return FollowupFields(
        calendar_id=int(calendar) if calendar.isdigit() else None,
        reminder_after_days=_days(data, "reminder_after_days", "the reminder"),
        auto_resolve_after_days=_days(data, "auto_resolve_after_days", "auto-resolve"),
        closing_message=data.get("closing_message", ""),
        reopen_window_days=_days(data, "reopen_window_days", "the reopen window") or 0,
        survey_enabled=data.get("survey_enabled") == "yes",
    )


class FollowupAdminPages(AdminController):
    path = "/admin/followups"

    def _page(
        self,
        request: AdminRequest,
        db: Database,
        *,
        error: str = "",
        failed_key: str = "",
        form: dict[str, str] | None = None,
    ) -> Template:
        with db.reading() as session:
            context = {
                "agent": request.user,
                "rows": list_followup_settings(session),
                "calendars": list_calendars(session),
                "error": error,
                "failed_key": failed_key,
                "form": form or {},
            }
        return Template(
            "pages/admin/followups.html", context=context, status_code=422 if error else 200
        )

    @get("/", sync_to_thread=True)
    def index(self, request: AdminRequest, db: NamedDependency[Database]) -> Template:
        return self._page(request, db)

    @post("/default", sync_to_thread=True)
    def save_default(
        self, request: AdminRequest, db: NamedDependency[Database], data: FormBody
    ) -> Template | Redirect:
        return self._save(request, db, data, None)

    @post("/teams/{team_id:int}", sync_to_thread=True)
    def save_team(
        self,
        request: AdminRequest,
        team_id: FromPath[int],
        db: NamedDependency[Database],
        data: FormBody,
    ) -> Template | Redirect:
        return self._save(request, db, data, team_id)

    @post("/teams/{team_id:int}/use-default", sync_to_thread=True)
    def use_default(
        self, request: AdminRequest, team_id: FromPath[int], db: NamedDependency[Database]
    ) -> Redirect:
        with db.unit_of_work() as session:
            use_default_followup_settings(session, actor=request.user, team_id=team_id)
        return Redirect("/admin/followups", status_code=303)

    def _save(
        self, request: AdminRequest, db: Database, data: dict[str, str], team_id: int | None
    ) -> Template | Redirect:
        try:
            fields = followup_fields(data)
            with db.unit_of_work() as session:
                save_followup_settings(session, fields, actor=request.user, team_id=team_id)
        except InvalidInput as exc:
            key = f"team-{team_id}" if team_id is not None else "default"
            return self._page(request, db, error=str(exc), failed_key=key, form=data)
        return Redirect("/admin/followups", status_code=303)
