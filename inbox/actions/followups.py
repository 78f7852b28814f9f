"""Follow-up workflows: settings per team, waiting-on-customer reminders and auto-resolve,
agents' snoozes and reminders, the satisfaction survey, and replies after the reopen window.

Every workflow rides on the timer table (``inbox.actions.followup_hooks`` sets the timers a
status change brings) and the outbox (``send_automatic_email``). The functions here that a
timer calls re-read and lock the ticket and check it still needs them: delivery is at least
once, and the world moves on between setting a timer and its firing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from inbox.actions.audit import record_audit
from inbox.actions.email_out import send_automatic_email
from inbox.actions.followup_hooks import (
    AUTO_RESOLVE,
    WAITING,
    note,
    shown,
)
from inbox.actions.merge import active_merge_of
from inbox.actions.signin.agents import check_admin
from inbox.actions.tickets import first_status_of, link_tickets, set_status, touch_ticket
from inbox.actions.timers import set_timer
from inbox.errors import Conflict, InvalidInput, NotFound
from inbox.events import MessageAdded, record
from inbox.models import (
    Agent,
    BusinessCalendar,
    FollowupSettings,
    Notification,
    SatisfactionSurvey,
    Team,
    Ticket,
    TicketSnooze,
    Timer,
    utcnow,
)
from inbox.models.kinds import LinkKind
from inbox.queries.followups import effective_settings, pending_followup, settings_calendar
from inbox.rules.followup_time import LATEST_SNOOZE
from inbox.settings import Settings
from inbox.signing import survey_token, verify_survey_token

SNOOZE_WAKE = "snooze_wake"
MAX_DAYS = 365
MAX_CLOSING_CHARS = 5000
MAX_COMMENT_CHARS = 2000
# A snooze shorter than this is a mistake, not a plan.
SHORTEST_SNOOZE = timedelta(minutes=1)


# --- settings ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FollowupFields:
    calendar_id: int | None
    reminder_after_days: int | None
    auto_resolve_after_days: int | None
    closing_message: str
    reopen_window_days: int
    survey_enabled: bool


def _check_fields(session: Session, fields: FollowupFields) -> None:
    for name, value in (
        ("the reminder", fields.reminder_after_days),
        ("auto-resolve", fields.auto_resolve_after_days),
    ):
        if value is not None and not 1 <= value <= MAX_DAYS:
            raise InvalidInput(f"{name} needs 1 to {MAX_DAYS} business days, or blank for none")
    if (
        fields.reminder_after_days is not None
        and fields.auto_resolve_after_days is not None
        and fields.auto_resolve_after_days <= fields.reminder_after_days
    ):
        raise InvalidInput("auto-resolve must come after the reminder")
    if not 0 <= fields.reopen_window_days <= MAX_DAYS:
        raise InvalidInput(f"the reopen window is 0 to {MAX_DAYS} days")
    if len(fields.closing_message) > MAX_CLOSING_CHARS:
        raise InvalidInput(f"the closing message has at most {MAX_CLOSING_CHARS} characters")
    if fields.calendar_id is not None and session.get(BusinessCalendar, fields.calendar_id) is None:
        raise InvalidInput("no such calendar")


def save_followup_settings(
    session: Session, fields: FollowupFields, *, actor: Agent, team_id: int | None
) -> FollowupSettings:
    """The team's settings (``team_id`` None: the desk's default), audited."""
    check_admin(actor)
    _check_fields(session, fields)
    team = session.get(Team, team_id) if team_id is not None else None
    if team_id is not None and team is None:
        raise NotFound("no such team")
    row = session.exec(
        select(FollowupSettings).where(
            col(FollowupSettings.team_id) == team_id
            if team_id is not None
            else col(FollowupSettings.team_id).is_(None)
        )
    ).first() or FollowupSettings(team_id=team_id)
    row.calendar_id = fields.calendar_id
    row.reminder_after_days = fields.reminder_after_days
    row.auto_resolve_after_days = fields.auto_resolve_after_days
    row.closing_message = fields.closing_message.strip()
    row.reopen_window_days = fields.reopen_window_days
    row.survey_enabled = fields.survey_enabled
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    record_audit(
        session,
        "followups.settings_saved",
        actor=actor,
        target_type="team" if team else "desk",
        target_id=team.name if team else "default",
        detail={
            "calendar_id": fields.calendar_id,
            "reminder_after_days": fields.reminder_after_days,
            "auto_resolve_after_days": fields.auto_resolve_after_days,
            "reopen_window_days": fields.reopen_window_days,
            "survey_enabled": fields.survey_enabled,
            "closing_message_chars": len(row.closing_message),
        },
    )
    return row


def use_default_followup_settings(session: Session, *, actor: Agent, team_id: int) -> None:
    """The team follows the desk's default again."""
    check_admin(actor)
    team = session.get(Team, team_id)
    if team is None:
        raise NotFound("no such team")
    row = session.exec(select(FollowupSettings).where(FollowupSettings.team_id == team_id)).first()
    if row is not None:
        session.delete(row)
        record_audit(
            session,
            "followups.settings_reset",
            actor=actor,
            target_type="team",
            target_id=team.name,
        )


# --- waiting on the customer ----------------------------------------------------------------


def _locked(session: Session, ticket_id: int) -> Ticket | None:
    return session.get(Ticket, ticket_id, with_for_update=True, populate_existing=True)


def send_waiting_reminder(session: Session, settings: Settings, ticket_id: int) -> None:
    """Fired by the reminder timer: still waiting, so ask the customer again."""
    ticket = _locked(session, ticket_id)
    if ticket is None or ticket.status_category != WAITING:
        return
    followups = effective_settings(session, ticket.team_id)
    auto = (
        session.exec(
            select(Timer.due_at).where(
                Timer.key == f"{AUTO_RESOLVE}:{ticket_id}", col(Timer.state) == "pending"
            )
        ).first()
        if followups.auto_resolve_after_days
        else None
    )
    zone = settings_calendar(session, followups).zone
    closing = (
        f"If we do not hear from you by {shown(auto, zone)}, we will close the request. "
        "You can always write to us again.\n\n"
        if auto
        else ""
    )
    body = (
        "Hello,\n\n"
        f"We are still waiting for your answer on your request {ticket.reference}. "
        "To go on, simply reply to this email.\n\n"
        f"{closing}"
        "This is an automatic message.\n"
    )
    if send_automatic_email(session, settings, ticket=ticket, kind="reminder", body=body) is None:
        note(session, ticket, "Reminder not sent: the ticket has no email address to write to.")
    touch_ticket(session, ticket)


def auto_resolve_waiting(session: Session, settings: Settings, ticket_id: int) -> None:
    """Fired by the auto-resolve timer: no answer in time, so resolve with a closing message."""
    ticket = _locked(session, ticket_id)
    if ticket is None or ticket.status_category != WAITING:
        return
    followups = effective_settings(session, ticket.team_id)
    body = closing_message(followups, ticket.reference)
    set_status(session, ticket, first_status_of(session, "resolved"))
    note(
        session,
        ticket,
        f"Resolved automatically: no answer from the customer within "
        f"{followups.auto_resolve_after_days} business days.",
    )
    send_automatic_email(session, settings, ticket=ticket, kind="closing", body=body)
    touch_ticket(session, ticket)


def closing_message(followups: FollowupSettings, reference: str) -> str:
    text = followups.closing_message.strip()
    if not text:
        window = followups.reopen_window_days
        reopen = (
            f"If you still need help, reply to this email within {window} days and we pick "
            "it up again; after that, a reply starts a new request.\n\n"
            if window
            else "If you still need help, reply to this email to start a new request.\n\n"
        )
        text = (
            "Hello,\n\n"
            "We have not heard back from you, so we have closed your request.\n\n" + reopen
        )
    return f"{text}\n\nReference: {reference}\n\nThis is an automatic message.\n"


# --- snoozes and reminders ------------------------------------------------------------------


def snooze_ticket(
    session: Session,
    ticket: Ticket,
    *,
    agent: Agent,
    until: datetime,
    kind: str,
    now: datetime,
    zone: ZoneInfo,
) -> TicketSnooze:
    """Snooze (hide from the queues until ``until``) or set a reminder; replaces the
    ticket's pending one."""
    if kind not in ("snooze", "reminder"):
        raise InvalidInput("choose snooze or reminder")
    if until < now + SHORTEST_SNOOZE:
        raise InvalidInput("choose a moment in the future")
    if until > now + LATEST_SNOOZE:
        raise InvalidInput("choose a moment within a year")
    if kind == "snooze" and ticket.status_category in ("resolved", "closed"):
        raise InvalidInput("a resolved ticket is out of the queues already")
    previous = pending_followup(session, ticket.id or 0)
    if previous is not None:
        _end(session, previous, "cancelled", "replaced", now)
    snooze = TicketSnooze(ticket_id=ticket.id or 0, agent_id=agent.id or 0, kind=kind, until=until)
    session.add(snooze)
    session.flush()
    set_timer(
        session,
        kind=SNOOZE_WAKE,
        due_at=until,
        key=f"snooze:{snooze.id}",
        ticket_id=ticket.id,
        payload={"snooze_id": snooze.id},
    )
    what = "Snoozed" if kind == "snooze" else "Reminder set"
    _event(session, ticket, f"{what} by {agent.name} until {shown(until, zone)}.")
    return snooze


def cancel_followup(session: Session, ticket: Ticket, *, agent: Agent) -> None:
    snooze = pending_followup(session, ticket.id or 0)
    if snooze is None:
        return
    _end(session, snooze, "cancelled", "cancelled", utcnow())
    what = "Snooze" if snooze.kind == "snooze" else "Reminder"
    _event(session, ticket, f"{what} cancelled by {agent.name}.")


def wake_followup(session: Session, snooze_id: int, *, now: datetime) -> None:
    """Fired at the snooze's time: the ticket comes back and the agent hears of it."""
    snooze = session.get(TicketSnooze, snooze_id, with_for_update=True, populate_existing=True)
    if snooze is None or snooze.state != "pending":
        return
    ticket = _locked(session, snooze.ticket_id)
    if ticket is None:
        return
    _end(session, snooze, "woken", "time", now)
    _wake(session, ticket, snooze, "its time came")


def customer_wrote(session: Session, ticket: Ticket, *, now: datetime) -> None:
    """A message from the customer wakes a snoozed ticket early (a reminder stays)."""
    snooze = pending_followup(session, ticket.id or 0)
    if snooze is None or snooze.kind != "snooze":
        return
    _end(session, snooze, "woken", "customer_wrote", now)
    _wake(session, ticket, snooze, "the customer wrote")


def _wake(session: Session, ticket: Ticket, snooze: TicketSnooze, why: str) -> None:
    agent = session.get(Agent, snooze.agent_id)
    if snooze.kind == "snooze":
        text = f"Back from snooze: {why}."
    else:
        text = f"Reminder for {agent.name if agent else 'an agent'}: follow up on this ticket."
    _event(session, ticket, text)
    if agent is not None and agent.is_active:
        session.add(
            Notification(
                agent_id=agent.id or 0,
                kind=snooze.kind,
                ticket_id=ticket.id,
                text=text[:500],
            )
        )


def _end(session: Session, snooze: TicketSnooze, state: str, reason: str, now: datetime) -> None:
    snooze.state = state
    snooze.ended_at = now
    snooze.end_reason = reason
    session.add(snooze)
    session.execute(
        update(Timer)
        .where(col(Timer.key) == f"snooze:{snooze.id}", col(Timer.state) == "pending")
        .values(state="cancelled", lease_until=None)
    )


def _event(session: Session, ticket: Ticket, text: str) -> None:
    message = note(session, ticket, text)
    session.flush()
    touch_ticket(session, ticket)
    record(session, MessageAdded(ticket.id or 0, message.id or 0))


# --- satisfaction survey --------------------------------------------------------------------


class _NotSent(Exception):
    pass


def survey_link(settings: Settings, survey_id: int) -> str:
    return f"{settings.base_url}/survey/{survey_token(settings.secret_key, survey_id)}"


def send_survey(session: Session, settings: Settings, ticket_id: int) -> SatisfactionSurvey | None:
    """Fired after a resolution: one survey per ticket, only if it is still resolved, was not
    merged away, and surveys are on for its team."""
    ticket = _locked(session, ticket_id)
    if ticket is None or ticket.status_category not in ("resolved", "closed"):
        return None
    if not effective_settings(session, ticket.team_id).survey_enabled:
        return None
    if active_merge_of(session, ticket) is not None:
        return None
    try:
        with session.begin_nested():
            survey = SatisfactionSurvey(ticket_id=ticket_id, sent_at=utcnow())
            session.add(survey)
            session.flush()
            link = survey_link(settings, survey.id or 0)
            message = send_automatic_email(
                session, settings, ticket=ticket, kind="survey", body=_survey_body(ticket, link)
            )
            if message is None:
                raise _NotSent
            # The link is the customer's alone: agents (and the API, and search) see the
            # mail without it, so nobody answers in the customer's place. The outbox keeps
            # the mail as sent.
            message.body_text = message.display_text = message.body_text.replace(
                link, "[survey link]"
            )
            session.add(message)
            survey.message_id = message.id
            session.add(survey)
            session.flush()
    except IntegrityError:
        return None  # sent already, by another worker
    except _NotSent:
        note(session, ticket, "Satisfaction survey not sent: no email address to write to.")
        return None
    return survey


def _survey_body(ticket: Ticket, link: str) -> str:
    scores = "\n".join(
        f"  {score} ({label}): {link}?score={score}"
        for score, label in (
            (5, "excellent"),
            (4, "good"),
            (3, "fair"),
            (2, "poor"),
            (1, "very poor"),
        )
    )
    return (
        "Hello,\n\n"
        f"Your request {ticket.reference} has been resolved. How did we do?\n\n"
        f"Choose a score, and tell us more if you like:\n\n{scores}\n\n"
        "The link needs no password and works only for this request.\n\n"
        "This is an automatic message.\n"
    )


def find_survey(session: Session, secret: bytes, token: str) -> SatisfactionSurvey:
    survey_id = verify_survey_token(secret, token)
    survey = session.get(SatisfactionSurvey, survey_id) if survey_id else None
    if survey is None:
        raise NotFound("no such survey")
    return survey


def answer_survey(
    session: Session, secret: bytes, token: str, *, score: int, comment: str
) -> SatisfactionSurvey:
    """The customer's answer: once per survey; it lands on the ticket's timeline."""
    survey = find_survey(session, secret, token)
    return record_survey_answer(session, survey, score=score, comment=comment)


def record_survey_answer(
    session: Session, survey: SatisfactionSurvey, *, score: int, comment: str
) -> SatisfactionSurvey:
    """A survey's answer, from its mailed link or from the chat widget: once per survey; it
    lands on the ticket's timeline."""
    session.refresh(survey, with_for_update=True)
    if survey.answered_at is not None:
        raise Conflict("this survey has been answered already: thank you")
    if not 1 <= score <= 5:
        raise InvalidInput("choose a score from 1 to 5")
    comment = comment.strip()
    if len(comment) > MAX_COMMENT_CHARS:
        raise InvalidInput(f"a comment has at most {MAX_COMMENT_CHARS} characters")
    survey.score = score
    survey.comment = comment
    survey.answered_at = utcnow()
    session.add(survey)
    ticket = session.get(Ticket, survey.ticket_id)
    assert ticket is not None
    text = f"Satisfaction survey answered: {score} of 5."
    if comment:
        text += f"\nComment: {comment}"
    message = note(session, ticket, text)
    session.flush()
    record(session, MessageAdded(ticket.id or 0, message.id or 0))
    return survey


# --- replies after resolution ---------------------------------------------------------------


def past_reopen_window(session: Session, ticket: Ticket, now: datetime) -> bool:
    """A resolved or closed ticket whose team's reopen window has run out: a reply to it
    opens a new ticket instead of reopening this one."""
    if ticket.status_category not in ("resolved", "closed") or ticket.resolved_at is None:
        return False
    window = timedelta(days=effective_settings(session, ticket.team_id).reopen_window_days)
    return now - ticket.resolved_at > window


def start_followup_ticket(session: Session, ticket: Ticket, previous: Ticket) -> None:
    """The new ticket a late reply opened: linked to the old one, in the same team."""
    link_tickets(
        session,
        ticket.id or 0,
        previous.id or 0,
        LinkKind.FOLLOWUP,
        f"reply after {previous.reference} was resolved and its reopen window closed",
    )
    ticket.team_id = previous.team_id
    session.add(ticket)
    resolved = f"{previous.resolved_at:%Y-%m-%d}" if previous.resolved_at else "earlier"
    note(session, ticket, f"Follow-up of {previous.reference}, resolved {resolved}.")
    note(
        session,
        previous,
        f"The customer wrote again after the reopen window: see {ticket.reference}.",
    )
