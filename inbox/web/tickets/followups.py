"""A ticket's follow-ups: snoozing it or waiting for the customer until a moment, and the
reminder, auto-resolve and survey timers ahead of it.

Every change is a POST with its CSRF token; forms accept only the fields declared here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate
from litestar.response import Redirect, Template
from sqlmodel import Session, col, select

from inbox.actions.followup_hooks import AUTO_RESOLVE, REMINDER, SURVEY, shown
from inbox.actions.followups import cancel_followup, snooze_ticket
from inbox.actions.tickets import access_ticket
from inbox.db import Database
from inbox.errors import DomainError, InvalidInput, NotFound
from inbox.models import Agent, Ticket, Timer, utcnow
from inbox.queries.followups import pending_followup, survey_of
from inbox.queries.reports.sla import desk_timezone
from inbox.queries.tickets import find_ticket
from inbox.rules.followup_time import MORNING, snooze_moment, snooze_presets, zone_named
from inbox.settings import Settings
from inbox.web.forms import FormBody, status_of

TIMER_LABELS = {
    REMINDER: "Reminder to the customer",
    AUTO_RESOLVE: "Resolves itself without an answer",
    SURVEY: "Satisfaction survey goes out",
}


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
