"""Follow-up pages: the settings per team (administrators), a ticket's snooze and reminder
panel, and the public satisfaction survey a customer reaches through a signed link.

Every change is a POST with its CSRF token; forms accept only the fields declared here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate
from litestar.response import Redirect, Template
from sqlmodel import Session, col, select

from inbox.actions.followup_hooks import AUTO_RESOLVE, REMINDER, SURVEY, shown
from inbox.actions.followups import (
    FollowupFields,
    answer_survey,
    cancel_followup,
    find_survey,
    save_followup_settings,
    snooze_ticket,
    use_default_followup_settings,
)
from inbox.actions.tickets import access_ticket
from inbox.db import Database
from inbox.errors import Conflict, DomainError, InvalidInput, NotFound
from inbox.models import Agent, Ticket, Timer, utcnow
from inbox.queries.followups import list_followup_settings, pending_followup, survey_of
from inbox.queries.reports.sla import desk_timezone
from inbox.queries.sla import list_calendars
from inbox.queries.tickets import find_ticket
from inbox.rules.followup_time import MORNING, snooze_moment, snooze_presets, zone_named
from inbox.settings import Settings
from inbox.web.account import PRIVATE
from inbox.web.admin import admin_only
from inbox.web.auth import Credentials, browser_session_only
from inbox.web.common import FormBody, status_of
from inbox.web.pages import PUBLIC

AdminRequest = Request[Agent, Credentials, Any]
TIMER_LABELS = {
    REMINDER: "Reminder to the customer",
    AUTO_RESOLVE: "Resolves itself without an answer",
    SURVEY: "Satisfaction survey goes out",
}


# --- administration -------------------------------------------------------------------------


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


class FollowupAdminPages(Controller):
    path = "/admin/followups"
    guards = [browser_session_only, admin_only]
    include_in_schema = False

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


# --- the ticket's follow-up panel -----------------------------------------------------------


@dataclass
class PanelTimer:
    label: str
    due: str


def _panel_context(
    session: Session, settings: Settings, agent: Agent, ticket: Ticket, now: datetime
) -> dict[str, Any]:
    zone_name = desk_timezone(session)
    zone = zone_named(zone_name)
    pending = pending_followup(session, ticket.id or 0)
    owner = session.get(Agent, pending.agent_id) if pending else None
    timers = [
        PanelTimer(TIMER_LABELS[timer.kind], shown(timer.due_at, zone))
        for timer in session.exec(
            select(Timer)
            .where(
                Timer.ticket_id == ticket.id,
                col(Timer.kind).in_(tuple(TIMER_LABELS)),
                col(Timer.state) == "pending",
            )
            .order_by(col(Timer.due_at))
        ).all()
    ]
    survey = survey_of(session, ticket.id or 0)
    if survey is not None:  # a survey timer left over now does nothing
        timers = [t for t in timers if t.label != TIMER_LABELS[SURVEY]]
    tomorrow = (now.astimezone(zone) + timedelta(days=1)).date()
    return {
        "ticket": ticket,
        "agent": agent,
        "pending": pending,
        "pending_owner": owner.name if owner else "",
        "pending_until": shown(pending.until, zone) if pending else "",
        "presets": [
            (key, label, shown(moment, zone)) for key, label, moment in snooze_presets(now, zone)
        ],
        "zone": zone_name,
        "default_at": f"{tomorrow.isoformat()}T{MORNING:%H:%M}",
        "timers": timers,
        "survey": survey,
    }


class TicketFollowupPages(Controller):
    path = "/tickets"
    include_in_schema = False

    def _panel(
        self,
        request: HTMXRequest,
        db: Database,
        settings: Settings,
        reference: str,
        *,
        error: str = "",
        status_code: int = 200,
    ) -> Template:
        with db.reading() as session:
            ticket = find_ticket(session, reference, settings.reference_prefix)
            context = _panel_context(session, settings, request.user, ticket, utcnow())
        context["error"] = error
        if request.htmx:
            return HTMXTemplate(template_name="partials/followups.html", context=context)
        return Template("pages/followups.html", context=context, status_code=status_code)

    @get("/{reference:str}/followups", sync_to_thread=True)
    def panel(
        self,
        request: HTMXRequest,
        reference: FromPath[str],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> Template:
        return self._panel(request, db, settings, reference)

    @post("/{reference:str}/snooze", sync_to_thread=True)
    def snooze(
        self,
        request: HTMXRequest,
        reference: FromPath[str],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        data: FormBody,
    ) -> Response[Any]:
        try:
            with db.unit_of_work() as session:
                ticket = access_ticket(session, request.user, reference, settings.reference_prefix)
                now = utcnow()
                zone = zone_named(desk_timezone(session))
                until = snooze_moment(
                    preset=data.get("preset", ""), local_text=data.get("at", ""), now=now, zone=zone
                )
                if until is None:
                    raise InvalidInput("choose when, as a date and time or one of the choices")
                snooze_ticket(
                    session,
                    ticket,
                    agent=request.user,
                    until=until,
                    kind=data.get("kind", "snooze"),
                    now=now,
                    zone=zone,
                )
        except NotFound:
            raise
        except DomainError as exc:
            return self._panel(
                request, db, settings, reference, error=str(exc), status_code=status_of(exc)
            )
        return self._done(request, db, settings, reference)

    @post("/{reference:str}/snooze/cancel", sync_to_thread=True)
    def cancel(
        self,
        request: HTMXRequest,
        reference: FromPath[str],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> Response[Any]:
        with db.unit_of_work() as session:
            ticket = access_ticket(session, request.user, reference, settings.reference_prefix)
            cancel_followup(session, ticket, agent=request.user)
        return self._done(request, db, settings, reference)

    def _done(
        self, request: HTMXRequest, db: Database, settings: Settings, reference: str
    ) -> Response[Any]:
        if request.htmx:
            return self._panel(request, db, settings, reference)
        return Redirect(f"/tickets/{reference}", status_code=303)


# --- the public survey ----------------------------------------------------------------------


class SurveyPages(Controller):
    """Reached from the survey mail: no sign-in, the signed token is the only key. Looking
    at the page records nothing (mail scanners follow links); only the form's POST does."""

    path = "/survey"
    include_in_schema = False

    @get("/{token:str}", opt=PUBLIC, sync_to_thread=True)
    def form(
        self,
        token: FromPath[str],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        score: FromQuery[int | None] = None,
    ) -> Template:
        with db.reading() as session:
            survey = find_survey(session, settings.secret_key, token)
            ticket = session.get(Ticket, survey.ticket_id)
        context = {
            "token": token,
            "reference": ticket.reference if ticket else "",
            "answered": survey.answered_at is not None,
            "score": score if score in range(1, 6) else None,
        }
        return Template("pages/survey.html", context=context, headers=PRIVATE)

    @post("/{token:str}", opt=PUBLIC, sync_to_thread=True)
    def answer(
        self,
        token: FromPath[str],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        data: FormBody,
    ) -> Template:
        score_text = data.get("score", "").strip()
        reference = ""
        try:
            with db.unit_of_work() as session:
                survey = answer_survey(
                    session,
                    settings.secret_key,
                    token,
                    score=int(score_text) if score_text.isdigit() else 0,
                    comment=data.get("comment", ""),
                )
                ticket = session.get(Ticket, survey.ticket_id)
                reference = ticket.reference if ticket else ""
        except (InvalidInput, Conflict) as exc:
            with db.reading() as session:
                survey = find_survey(session, settings.secret_key, token)
                ticket = session.get(Ticket, survey.ticket_id)
            return Template(
                "pages/survey.html",
                context={
                    "token": token,
                    "reference": ticket.reference if ticket else "",
                    "answered": survey.answered_at is not None,
                    "error": str(exc),
                    "comment": data.get("comment", "")[:2000],
                },
                status_code=status_of(exc),
                headers=PRIVATE,
            )
        return Template(
            "pages/survey.html",
            context={"token": token, "reference": reference, "thanks": True},
            headers=PRIVATE,
        )
