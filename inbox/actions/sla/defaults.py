"""The SLA policy a desk starts with, so that clocks run and reports fill from the first
ticket: first-response and resolution targets per priority, counted round the clock on a
calendar named "Business hours" until an administrator sets its hours, and a chat target:
an agent's first answer within two minutes of a live chat entering the queue.

It is tried last (``DEFAULT_POSITION``), so a policy an administrator adds comes first; it can
be edited like any other, and not deleted while it is the only one. Set when the database is
created or migrated (``inbox.migrate``) if the desk has no SLA policy at all, so a desk that
deleted it in favour of its own never gets it back.
"""

from __future__ import annotations

from sqlmodel import Session, select

from inbox.actions.sla.policies import CalendarFields, PolicyFields, save_calendar, save_policy
from inbox.models import BusinessCalendar, SlaPolicy

DEFAULT_POLICY = "Default"
DEFAULT_CALENDAR = "Business hours"
DEFAULT_POSITION = 1000
# Business minutes per priority: (first response, resolution).
DEFAULT_TARGETS = {
    "urgent": (60, 8 * 60),
    "high": (4 * 60, 24 * 60),
    "normal": (8 * 60, 3 * 24 * 60),
    "low": (24 * 60, 7 * 24 * 60),
}
# Minutes from a live chat entering the queue to an agent's first chat message.
DEFAULT_CHAT_TARGET_MINUTES = 2


def ensure_default_sla_policy(session: Session) -> SlaPolicy | None:
    """The default policy, on a desk that has no SLA policy (nor had one); None otherwise."""
    if session.exec(select(SlaPolicy.id)).first() is not None:
        return None
    calendar = session.exec(
        select(BusinessCalendar).where(BusinessCalendar.name == DEFAULT_CALENDAR)
    ).first() or save_calendar(
        session, CalendarFields(name=DEFAULT_CALENDAR, timezone="UTC", always_open=True), actor=None
    )
    normal_first, normal_resolution = DEFAULT_TARGETS["normal"]
    policy = save_policy(
        session,
        PolicyFields(
            name=DEFAULT_POLICY,
            calendar_id=calendar.id,
            position=DEFAULT_POSITION,
            first_response_minutes=normal_first,
            resolution_minutes=normal_resolution,
            priority_targets={
                priority: {"first_response": first, "resolution": resolution}
                for priority, (first, resolution) in DEFAULT_TARGETS.items()
            },
        ),
        actor=None,
    )
    # Not one of the fields an administrator's form saves, which therefore keep it.
    policy.chat_target_minutes = DEFAULT_CHAT_TARGET_MINUTES
    session.add(policy)
    return policy
