"""SLA policies, their escalation rules, and business calendars, for administrators.

Forms accept only the fields declared here; every change is a POST with a CSRF token.
"""

from __future__ import annotations

from typing import Any

from litestar import get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
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
    delete_policy,
    format_weekly_hours,
    parse_weekly_hours,
    save_calendar,
    save_policy,
)
from inbox.db import Database
from inbox.errors import Conflict, InvalidInput, NotFound
from inbox.models import PRIORITIES, SLA_TARGETS, BusinessCalendar, SlaPolicy
from inbox.models.kinds import ChannelKind
from inbox.queries.escalations import list_escalation_rules
from inbox.queries.sla import TARGET_LABELS, list_calendars, list_policies, list_teams
from inbox.rules.business_time import supported_countries
from inbox.web.admin.layout import AdminController, AdminRequest
from inbox.web.forms import MultiForm, form_value, form_values, split_words


def _minutes(values: dict[str, Any], name: str) -> int | None:
    text = form_value(values, name)
    if not text:
        return None
    if not text.isdigit():
        raise InvalidInput(f"{name.replace('_', ' ')} must be whole minutes")
    return int(text)


def _numbers(text: str, what: str) -> list[int]:
    words = split_words(text)
    if not all(w.isdigit() for w in words):
        raise InvalidInput(f"{what} must be whole numbers")
    return [int(w) for w in words]


def policy_fields(values: dict[str, Any]) -> PolicyFields:
    calendar = form_value(values, "calendar_id")
    return PolicyFields(
        name=form_value(values, "name"),
        calendar_id=int(calendar) if calendar.isdigit() else None,
        position=(_numbers(form_value(values, "position"), "position") or [0])[0],
        enabled=form_value(values, "enabled") == "yes",
        priorities=form_values(values, "priorities"),
        channel_kinds=form_values(values, "channel_kinds"),
        customer_tags=split_words(form_value(values, "customer_tags")),
        team_ids=[int(t) for t in form_values(values, "team_ids") if t.isdigit()],
        first_response_minutes=_minutes(values, "first_response_minutes"),
        next_response_minutes=_minutes(values, "next_response_minutes"),
        resolution_minutes=_minutes(values, "resolution_minutes"),
        chat_target_minutes=_minutes(values, "chat_target_minutes"),
        warn_percents=_numbers(form_value(values, "warn_percents"), "warnings"),
        priority_targets=_priority_targets(values),
    )


def _priority_targets(values: dict[str, Any]) -> dict[str, dict[str, int]]:
    """The grid of targets per priority: ``urgent_first_response`` and so on, blank for the
    policy's own target."""
    found: dict[str, dict[str, int]] = {}
    for priority in PRIORITIES:
        for target in SLA_TARGETS:
            minutes = _minutes(values, f"{priority}_{target}")
            if minutes is not None:
                found.setdefault(priority, {})[target] = minutes
    return found


def rule_fields(values: dict[str, Any]) -> EscalationRuleFields:
    percents = _numbers(form_value(values, "warn_percent"), "the warning")
    team = form_value(values, "assign_team_id")
    return EscalationRuleFields(
        trigger=form_value(values, "trigger"),
        target=form_value(values, "target"),
        warn_percent=percents[0] if percents else None,
        notify_assignee=form_value(values, "notify_assignee") == "yes",
        notify_managers=form_value(values, "notify_managers") == "yes",
        set_priority=form_value(values, "set_priority"),
        assign_team_id=int(team) if team.isdigit() else None,
        position=(_numbers(form_value(values, "position"), "position") or [0])[0],
    )


def calendar_fields(values: dict[str, Any]) -> CalendarFields:
    return CalendarFields(
        name=form_value(values, "name"),
        timezone=form_value(values, "timezone") or "UTC",
        always_open=form_value(values, "always_open") == "yes",
        weekly_hours=parse_weekly_hours(form_value(values, "weekly_hours")),
        holiday_country=form_value(values, "holiday_country") or None,
        holiday_subdivision=form_value(values, "holiday_subdivision") or None,
        closed_dates=split_words(form_value(values, "closed_dates")),
    )


class SlaAdminPages(AdminController):
    path = "/admin/sla"

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
        status: int | None = None,
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
        return Template(
            "pages/admin/sla.html",
            context=context,
            status_code=status or (422 if failed else 200),
        )

    @get("/", sync_to_thread=True)
    def index(self, request: AdminRequest, db: NamedDependency[Database]) -> Template:
        return self._page(request, db)

    @get("/policies/{policy_id:int}", sync_to_thread=True)
    def edit_policy(
        self, request: AdminRequest, policy_id: FromPath[int], db: NamedDependency[Database]
    ) -> Template:
        with db.reading() as session:
            policy = session.get(SlaPolicy, policy_id)
        if policy is None or policy.deleted_at is not None:
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
        self, request: AdminRequest, db: NamedDependency[Database], data: MultiForm
    ) -> Template | Redirect:
        return self._save_policy(request, db, data, None)

    @post("/policies/{policy_id:int}", sync_to_thread=True)
    def update_policy(
        self,
        request: AdminRequest,
        policy_id: FromPath[int],
        db: NamedDependency[Database],
        data: MultiForm,
    ) -> Template | Redirect:
        return self._save_policy(request, db, data, policy_id)

    @post("/policies/{policy_id:int}/delete", sync_to_thread=True)
    def remove_policy(
        self, request: AdminRequest, policy_id: FromPath[int], db: NamedDependency[Database]
    ) -> Template | Redirect:
        try:
            with db.unit_of_work() as session:
                delete_policy(session, policy_id, actor=request.user)
        except Conflict as exc:
            with db.reading() as session:
                policy = session.get(SlaPolicy, policy_id)
            return self._page(request, db, policy=policy, error=str(exc), status=exc.status)
        return Redirect("/admin/sla", status_code=303)

    @post("/policies/{policy_id:int}/escalations", sync_to_thread=True)
    def add_escalation(
        self,
        request: AdminRequest,
        policy_id: FromPath[int],
        db: NamedDependency[Database],
        data: MultiForm,
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
        self, request: AdminRequest, db: NamedDependency[Database], data: MultiForm
    ) -> Template | Redirect:
        return self._save_calendar(request, db, data, None)

    @post("/calendars/{calendar_id:int}", sync_to_thread=True)
    def update_calendar(
        self,
        request: AdminRequest,
        calendar_id: FromPath[int],
        db: NamedDependency[Database],
        data: MultiForm,
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
