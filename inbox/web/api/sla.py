"""SLA policies and business calendars in the JSON API, for administrators' tokens: the same
actions as ``/admin/sla`` (``inbox.actions.sla.policies``), so the same checks and audit.

A policy or calendar is sent whole (``POST`` to add, ``PUT`` to replace), teams and calendars
named rather than numbered, so one file describes a desk on any installation.
"""

from __future__ import annotations

from litestar import Controller, delete, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from sqlmodel import Session

from inbox.actions.sla.policies import (
    CalendarFields,
    PolicyFields,
    delete_policy,
    parse_weekly_hours,
    save_calendar,
    save_policy,
)
from inbox.actions.staff import teams_by_name
from inbox.db import Database
from inbox.errors import InvalidInput, NotFound
from inbox.models import BusinessCalendar, SlaPolicy
from inbox.queries.sla import find_calendar, list_calendars, list_policies, list_teams
from inbox.web.api import shapes
from inbox.web.api.bodies import CalendarBody, SlaPolicyBody
from inbox.web.api.openapi import ERROR_RESPONSES
from inbox.web.api.people import AdminApiRequest, admin_token
from inbox.web.api.serializers import iso


def _policy_fields(session: Session, body: SlaPolicyBody) -> PolicyFields:
    calendar_id = None
    if body.calendar is not None:
        calendar = find_calendar(session, body.calendar)
        if calendar is None:
            raise InvalidInput(f"no such calendar: {body.calendar}")
        calendar_id = calendar.id
    return PolicyFields(
        name=body.name,
        calendar_id=calendar_id,
        position=body.position,
        enabled=body.enabled,
        priorities=list(body.priorities),
        channel_kinds=list(body.channel_kinds),
        customer_tags=list(body.customer_tags),
        team_ids=[t.id or 0 for t in teams_by_name(session, body.teams)],
        first_response_minutes=body.first_response_minutes,
        next_response_minutes=body.next_response_minutes,
        resolution_minutes=body.resolution_minutes,
        chat_target_minutes=body.chat_target_minutes,
        warn_percents=list(body.warn_percents),
        priority_targets={p: dict(t) for p, t in body.priority_targets.items()},
    )


def _calendar_fields(body: CalendarBody) -> CalendarFields:
    """The weekly hours go through the form's parser, so both check them alike."""
    if any(not all(len(span) == 2 for span in spans) for spans in body.weekly_hours.values()):
        raise InvalidInput('weekly hours are spans of two times: [["09:00", "17:00"]]')
    text = "\n".join(
        f"{day} " + " ".join(f"{start}-{end}" for start, end in spans)
        for day, spans in body.weekly_hours.items()
    )
    return CalendarFields(
        name=body.name,
        timezone=body.timezone,
        always_open=body.always_open,
        weekly_hours=parse_weekly_hours(text),
        holiday_country=body.holiday_country,
        holiday_subdivision=body.holiday_subdivision,
        closed_dates=list(body.closed_dates),
    )


def _policy(session: Session, row: SlaPolicy) -> shapes.SlaPolicy:
    teams = {t.id: t.name for t in list_teams(session)}
    calendar = session.get(BusinessCalendar, row.calendar_id) if row.calendar_id else None
    return shapes.SlaPolicy(
        id=row.id or 0,
        name=row.name,
        position=row.position,
        enabled=row.enabled,
        priorities=list(row.priorities),
        channel_kinds=list(row.channel_kinds),
        customer_tags=list(row.customer_tags),
        teams=[teams[t] for t in row.team_ids if t in teams],
        calendar=calendar.name if calendar else None,
        first_response_minutes=row.first_response_minutes,
        next_response_minutes=row.next_response_minutes,
        resolution_minutes=row.resolution_minutes,
        chat_target_minutes=row.chat_target_minutes,
        priority_targets={p: dict(t) for p, t in (row.priority_targets or {}).items()},
        warn_percents=list(row.warn_percents),
        updated_at=iso(row.updated_at),
    )


def _calendar(row: BusinessCalendar) -> shapes.BusinessCalendar:
    return shapes.BusinessCalendar(
        id=row.id or 0,
        name=row.name,
        timezone=row.timezone,
        always_open=row.always_open,
        weekly_hours={
            day: [list(span) for span in spans] for day, spans in row.weekly_hours.items()
        },
        holiday_country=row.holiday_country,
        holiday_subdivision=row.holiday_subdivision,
        closed_dates=list(row.closed_dates),
    )


def _existing_policy(session: Session, policy_id: int) -> SlaPolicy:
    row = session.get(SlaPolicy, policy_id)
    if row is None or row.deleted_at is not None:
        raise NotFound("no such policy")
    return row


class SlaApi(Controller):
    path = "/api/v1/sla"
    tags = ["configuration"]
    guards = [admin_token]

    @get("/policies", sync_to_thread=True, responses=ERROR_RESPONSES)
    def policies(self, db: NamedDependency[Database]) -> shapes.SlaPolicyList:
        with db.reading() as session:
            return shapes.SlaPolicyList(items=[_policy(session, p) for p in list_policies(session)])

    @get("/policies/{policy_id:int}", sync_to_thread=True, responses=ERROR_RESPONSES)
    def policy(self, policy_id: FromPath[int], db: NamedDependency[Database]) -> shapes.SlaPolicy:
        with db.reading() as session:
            return _policy(session, _existing_policy(session, policy_id))

    @post("/policies", sync_to_thread=True, responses=ERROR_RESPONSES, status_code=HTTP_201_CREATED)
    def add_policy(
        self,
        request: AdminApiRequest,
        data: JSONBody[SlaPolicyBody],
        db: NamedDependency[Database],
    ) -> shapes.SlaPolicy:
        with db.unit_of_work() as session:
            row = save_policy(session, _policy_fields(session, data), actor=request.user)
            return _policy(session, row)

    @put("/policies/{policy_id:int}", sync_to_thread=True, responses=ERROR_RESPONSES)
    def replace_policy(
        self,
        request: AdminApiRequest,
        policy_id: FromPath[int],
        data: JSONBody[SlaPolicyBody],
        db: NamedDependency[Database],
    ) -> shapes.SlaPolicy:
        with db.unit_of_work() as session:
            _existing_policy(session, policy_id)
            fields = _policy_fields(session, data)
            row = save_policy(session, fields, actor=request.user, policy_id=policy_id)
            return _policy(session, row)

    @delete(
        "/policies/{policy_id:int}",
        sync_to_thread=True,
        responses=ERROR_RESPONSES,
        status_code=HTTP_204_NO_CONTENT,
    )
    def remove_policy(
        self, request: AdminApiRequest, policy_id: FromPath[int], db: NamedDependency[Database]
    ) -> None:
        """The only policy is not deleted (409): tickets would have no SLA clocks."""
        with db.unit_of_work() as session:
            delete_policy(session, policy_id, actor=request.user)

    @get("/calendars", sync_to_thread=True, responses=ERROR_RESPONSES)
    def calendars(self, db: NamedDependency[Database]) -> shapes.BusinessCalendarList:
        with db.reading() as session:
            return shapes.BusinessCalendarList(
                items=[_calendar(c) for c in list_calendars(session)]
            )

    @get("/calendars/{calendar_id:int}", sync_to_thread=True, responses=ERROR_RESPONSES)
    def calendar(
        self, calendar_id: FromPath[int], db: NamedDependency[Database]
    ) -> shapes.BusinessCalendar:
        with db.reading() as session:
            row = session.get(BusinessCalendar, calendar_id)
            if row is None:
                raise NotFound("no such calendar")
            return _calendar(row)

    @post(
        "/calendars", sync_to_thread=True, responses=ERROR_RESPONSES, status_code=HTTP_201_CREATED
    )
    def add_calendar(
        self,
        request: AdminApiRequest,
        data: JSONBody[CalendarBody],
        db: NamedDependency[Database],
    ) -> shapes.BusinessCalendar:
        fields = _calendar_fields(data)
        with db.unit_of_work() as session:
            return _calendar(save_calendar(session, fields, actor=request.user))

    @put("/calendars/{calendar_id:int}", sync_to_thread=True, responses=ERROR_RESPONSES)
    def replace_calendar(
        self,
        request: AdminApiRequest,
        calendar_id: FromPath[int],
        data: JSONBody[CalendarBody],
        db: NamedDependency[Database],
    ) -> shapes.BusinessCalendar:
        fields = _calendar_fields(data)
        with db.unit_of_work() as session:
            row = save_calendar(session, fields, actor=request.user, calendar_id=calendar_id)
            return _calendar(row)
