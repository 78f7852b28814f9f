"""SLA pages: policies and business calendars (administrators only), and a ticket's clocks.

Forms accept only the fields declared here; every change is a POST with a CSRF token.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template

from inbox.actions.sla.escalations import (
    EscalationRuleFields,
    delete_escalation_rule,
    describe_rule,
    save_escalation_rule,
)
from inbox.actions.sla.policies import (
    CalendarFields,
    PolicyFields,
    format_weekly_hours,
    parse_weekly_hours,
    save_calendar,
    save_policy,
)
from inbox.actions.tickets import can_see_ticket
from inbox.db import Database
from inbox.errors import InvalidInput, NotFound
from inbox.models import PRIORITIES, SLA_TARGETS, Agent, BusinessCalendar, SlaPolicy, utcnow
from inbox.models.kinds import ChannelKind
from inbox.queries.escalations import list_escalation_rules
from inbox.queries.sla import (
    TARGET_LABELS,
    list_calendars,
    list_policies,
    list_teams,
    sla_timeline,
)
from inbox.queries.tickets import find_ticket
from inbox.rules.business_time import supported_countries
from inbox.settings import Settings
from inbox.web.admin import admin_only
from inbox.web.auth import Credentials, browser_session_only

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
AdminRequest = Request[Agent, Credentials, Any]


def _all(values: dict[str, Any], name: str) -> list[str]:
    value = values.get(name)
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [v.strip() for v in items if isinstance(v, str) and v.strip()]


def _one(values: dict[str, Any], name: str) -> str:
    found = _all(values, name)
    return found[-1] if found else ""


def _minutes(values: dict[str, Any], name: str) -> int | None:
    text = _one(values, name)
    if not text:
        return None
    if not text.isdigit():
        raise InvalidInput(f"{name.replace('_', ' ')} must be whole minutes")
    return int(text)


def _numbers(text: str, what: str) -> list[int]:
    words = text.replace(",", " ").split()
    if not all(w.isdigit() for w in words):
        raise InvalidInput(f"{what} must be whole numbers")
    return [int(w) for w in words]


def policy_fields(values: dict[str, Any]) -> PolicyFields:
    calendar = _one(values, "calendar_id")
    return PolicyFields(
        name=_one(values, "name"),
        calendar_id=int(calendar) if calendar.isdigit() else None,
        position=(_numbers(_one(values, "position"), "position") or [0])[0],
        enabled=_one(values, "enabled") == "yes",
        priorities=_all(values, "priorities"),
        channel_kinds=_all(values, "channel_kinds"),
        customer_tags=_one(values, "customer_tags").replace(",", " ").split(),
        team_ids=[int(t) for t in _all(values, "team_ids") if t.isdigit()],
        first_response_minutes=_minutes(values, "first_response_minutes"),
        next_response_minutes=_minutes(values, "next_response_minutes"),
        resolution_minutes=_minutes(values, "resolution_minutes"),
        warn_percents=_numbers(_one(values, "warn_percents"), "warnings"),
    )


def rule_fields(values: dict[str, Any]) -> EscalationRuleFields:
    percents = _numbers(_one(values, "warn_percent"), "the warning")
    team = _one(values, "assign_team_id")
    return EscalationRuleFields(
        trigger=_one(values, "trigger"),
        target=_one(values, "target"),
        warn_percent=percents[0] if percents else None,
        notify_assignee=_one(values, "notify_assignee") == "yes",
        notify_managers=_one(values, "notify_managers") == "yes",
        set_priority=_one(values, "set_priority"),
        assign_team_id=int(team) if team.isdigit() else None,
        position=(_numbers(_one(values, "position"), "position") or [0])[0],
    )


def calendar_fields(values: dict[str, Any]) -> CalendarFields:
    return CalendarFields(
        name=_one(values, "name"),
        timezone=_one(values, "timezone") or "UTC",
        always_open=_one(values, "always_open") == "yes",
        weekly_hours=parse_weekly_hours(_one(values, "weekly_hours")),
        holiday_country=_one(values, "holiday_country") or None,
        holiday_subdivision=_one(values, "holiday_subdivision") or None,
        closed_dates=_one(values, "closed_dates").replace(",", " ").split(),
    )


class SlaAdminPages(Controller):
    path = "/admin/sla"
    guards = [browser_session_only, admin_only]
    include_in_schema = False

    def _page(
        self,
        request: AdminRequest,
        db: Database,
        *,
        policy: SlaPolicy | None = None,
        calendar: BusinessCalendar | None = None,
        error: str = "",
        form: dict[str, Any] | None = None,
        rule_error: str = "",
    ) -> Template:
        with db.reading() as session:
            rules = list_escalation_rules(session)
            context = {
                "escalations": {
                    rule.id: describe_rule(session, rule) for rule in rules if rule.id is not None
                },
                "rules_by_policy": {
                    p_id: [r for r in rules if r.policy_id == p_id]
                    for p_id in {r.policy_id for r in rules}
                },
                "targets": [(t, TARGET_LABELS[t]) for t in SLA_TARGETS],
                "rule_error": rule_error,
                "agent": request.user,
                "policies": list_policies(session),
                "calendars": list_calendars(session),
                "teams": list_teams(session),
                "priorities": PRIORITIES,
                "channel_kinds": tuple(ChannelKind),
                "countries": sorted(supported_countries()),
                "policy": policy,
                "calendar": calendar,
                "hours_text": format_weekly_hours(calendar.weekly_hours) if calendar else "",
                "error": error,
                "form": form or {},
            }
        failed = error or rule_error
        return Template("pages/admin/sla.html", context=context, status_code=422 if failed else 200)

    @get("/", sync_to_thread=True)
    def index(self, request: AdminRequest, db: NamedDependency[Database]) -> Template:
        return self._page(request, db)

    @get("/policies/{policy_id:int}", sync_to_thread=True)
    def edit_policy(
        self, request: AdminRequest, policy_id: FromPath[int], db: NamedDependency[Database]
    ) -> Template:
        with db.reading() as session:
            policy = session.get(SlaPolicy, policy_id)
        if policy is None:
            raise NotFound("no such policy")
        return self._page(request, db, policy=policy)

    @get("/calendars/{calendar_id:int}", sync_to_thread=True)
    def edit_calendar(
        self, request: AdminRequest, calendar_id: FromPath[int], db: NamedDependency[Database]
    ) -> Template:
        with db.reading() as session:
            calendar = session.get(BusinessCalendar, calendar_id)
        if calendar is None:
            raise NotFound("no such calendar")
        return self._page(request, db, calendar=calendar)

    @post("/policies", sync_to_thread=True)
    def create_policy(
        self, request: AdminRequest, db: NamedDependency[Database], data: Form
    ) -> Template | Redirect:
        return self._save_policy(request, db, data, None)

    @post("/policies/{policy_id:int}", sync_to_thread=True)
    def update_policy(
        self,
        request: AdminRequest,
        policy_id: FromPath[int],
        db: NamedDependency[Database],
        data: Form,
    ) -> Template | Redirect:
        return self._save_policy(request, db, data, policy_id)

    @post("/policies/{policy_id:int}/escalations", sync_to_thread=True)
    def add_escalation(
        self,
        request: AdminRequest,
        policy_id: FromPath[int],
        db: NamedDependency[Database],
        data: Form,
    ) -> Template | Redirect:
        try:
            fields = rule_fields(data)
            with db.unit_of_work() as session:
                save_escalation_rule(session, fields, actor=request.user, policy_id=policy_id)
        except InvalidInput as exc:
            with db.reading() as session:
                policy = session.get(SlaPolicy, policy_id)
            return self._page(request, db, policy=policy, rule_error=str(exc))
        return Redirect(f"/admin/sla/policies/{policy_id}#escalations", status_code=303)

    @post("/policies/{policy_id:int}/escalations/{rule_id:int}/delete", sync_to_thread=True)
    def delete_escalation(
        self,
        request: AdminRequest,
        policy_id: FromPath[int],
        rule_id: FromPath[int],
        db: NamedDependency[Database],
    ) -> Redirect:
        with db.unit_of_work() as session:
            delete_escalation_rule(session, rule_id, actor=request.user, policy_id=policy_id)
        return Redirect(f"/admin/sla/policies/{policy_id}#escalations", status_code=303)

    @post("/calendars", sync_to_thread=True)
    def create_calendar(
        self, request: AdminRequest, db: NamedDependency[Database], data: Form
    ) -> Template | Redirect:
        return self._save_calendar(request, db, data, None)

    @post("/calendars/{calendar_id:int}", sync_to_thread=True)
    def update_calendar(
        self,
        request: AdminRequest,
        calendar_id: FromPath[int],
        db: NamedDependency[Database],
        data: Form,
    ) -> Template | Redirect:
        return self._save_calendar(request, db, data, calendar_id)

    def _save_policy(
        self, request: AdminRequest, db: Database, data: dict[str, Any], policy_id: int | None
    ) -> Template | Redirect:
        try:
            fields = policy_fields(data)
            with db.unit_of_work() as session:
                save_policy(session, fields, actor=request.user, policy_id=policy_id)
        except InvalidInput as exc:
            return self._page(request, db, error=str(exc), form=data)
        return Redirect("/admin/sla", status_code=303)

    def _save_calendar(
        self, request: AdminRequest, db: Database, data: dict[str, Any], calendar_id: int | None
    ) -> Template | Redirect:
        try:
            fields = calendar_fields(data)
            with db.unit_of_work() as session:
                save_calendar(session, fields, actor=request.user, calendar_id=calendar_id)
        except InvalidInput as exc:
            return self._page(request, db, error=str(exc), form=data)
        return Redirect("/admin/sla", status_code=303)


class TicketSlaPages(Controller):
    """A ticket's clocks and transitions: the fragment the ticket page loads, or a page."""

    path = "/tickets"
    include_in_schema = False

    @get("/{reference:str}/sla", sync_to_thread=True)
    def clocks(
        self,
        request: HTMXRequest,
        reference: FromPath[str],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> Template:
        with db.reading() as session:
            ticket = find_ticket(session, reference, settings.reference_prefix)
            if not can_see_ticket(session, request.user, ticket):
                raise NotFound("no such ticket")
            timeline = sla_timeline(session, ticket.id or 0, utcnow())
        context = {"ticket": ticket, "sla": timeline, "agent": request.user}
        if request.htmx:
            return Template("partials/sla_timeline.html", context=context)
        return Template("pages/admin/sla_ticket.html", context=context)
