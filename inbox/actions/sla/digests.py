"""SLA alert mail to agents, gathered into digests.

When a warning or breach notifies an agent, the alert waits in ``sla_alert_mail`` for its
``sla_digest`` timer (a row in the timer table, so it survives restarts and broker flushes,
and fires once however many schedulers run). The first alert after a quiet spell waits
``DIGEST_DELAY``, so that alerts firing together (a sweep of tickets all due at 10:00)
leave together; after a mail, the next one waits until ``DIGEST_WINDOW`` has passed. Every
alert waiting when the timer fires goes into one mail: a single alert as it is, several as a
digest listing each ticket with its reference, subject, target and due time, linked.

Writers of one agent's alert mail take a lock on the agent's row first (in agent id order),
so an alert queued while that agent's digest is being sent either makes it into that mail
or gets a timer of its own, never neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from inbox.actions.automatic_mail import queue_agent_mail
from inbox.actions.timers import set_timer
from inbox.models import Agent, SlaAlert, SlaAlertMail, SlaClock, Ticket
from inbox.queries.sla import TARGET_LABELS
from inbox.settings import Settings

DIGEST_TIMER = "sla_digest"
# The first alert after a quiet spell waits this long for others firing with it.
DIGEST_DELAY = timedelta(minutes=1)
# At most one alert mail per agent in this long; what fires meanwhile waits for the next.
DIGEST_WINDOW = timedelta(minutes=15)


def queue_alert_mail(session: Session, *, alert_id: int, agent_id: int, now: datetime) -> None:
    """Put the alert in the agent's next mail, setting the timer that sends it if none is
    waiting yet."""
    session.get(Agent, agent_id, with_for_update=True, populate_existing=True)
    waiting = session.exec(
        select(SlaAlertMail.flush_at)
        .where(SlaAlertMail.agent_id == agent_id, col(SlaAlertMail.sent_at).is_(None))
        .order_by(col(SlaAlertMail.flush_at))
    ).first()
    if waiting is not None:
        flush_at = waiting
    else:
        last = session.exec(
            select(func.max(SlaAlertMail.sent_at)).where(SlaAlertMail.agent_id == agent_id)
        ).one()
        flush_at = now + DIGEST_DELAY
        if last is not None:
            flush_at = max(flush_at, last + DIGEST_WINDOW)
    session.add(
        SlaAlertMail(alert_id=alert_id, agent_id=agent_id, created_at=now, flush_at=flush_at)
    )
    set_timer(
        session,
        kind=DIGEST_TIMER,
        due_at=flush_at,
        key=f"sla-digest:{agent_id}:{flush_at:%Y%m%dT%H%M%S}",
        payload={"agent_id": agent_id},
    )


@dataclass(frozen=True)
class DigestLine:
    reference: str
    subject: str
    what: str
    due_at: datetime | None
    missed: bool


def flush_alert_mail(session: Session, settings: Settings, *, agent_id: int, now: datetime) -> int:
    """Send the agent every alert waiting for them, in one mail; returns how many it listed.

    A warning whose clock stopped or paused meanwhile (the ticket was answered, is waiting,
    or was closed) is dropped from the mail; a breach stays, it happened.
    """
    agent = session.get(Agent, agent_id, with_for_update=True, populate_existing=True)
    rows = session.exec(
        select(SlaAlertMail, SlaAlert, Ticket)
        .join(SlaAlert, col(SlaAlert.id) == SlaAlertMail.alert_id)
        .join(Ticket, col(Ticket.id) == SlaAlert.ticket_id)
        .where(SlaAlertMail.agent_id == agent_id, col(SlaAlertMail.sent_at).is_(None))
        .order_by(col(SlaAlert.due_at), col(SlaAlertMail.id))
    ).all()
    if not rows:
        return 0
    lines = [
        _line(alert, ticket)
        for _, alert, ticket in rows
        if alert.kind == "breach" or _still_running(session, alert)
    ]
    key: str | None = None
    if agent is not None and agent.is_active and lines:
        key = f"sla-alert:{agent_id}:{rows[0][0].id}"
        subject, body = _compose(settings, agent, lines)
        if not queue_agent_mail(
            session, settings, agent=agent, kind="sla_alert", key=key, subject=subject, body=body
        ):
            key = None
    for mail, _, _ in rows:
        mail.sent_at = now
        mail.outbox_key = key
        session.add(mail)
    session.flush()
    return len(lines) if key else 0


def _still_running(session: Session, alert: SlaAlert) -> bool:
    clock = session.exec(
        select(SlaClock).where(
            SlaClock.ticket_id == alert.ticket_id, SlaClock.target == alert.target
        )
    ).first()
    return (
        clock is not None
        and clock.cycle == alert.cycle
        and clock.stopped_at is None
        and clock.state != "paused"
    )


def _line(alert: SlaAlert, ticket: Ticket) -> DigestLine:
    label = TARGET_LABELS.get(alert.target, alert.target)
    if alert.kind == "breach":
        what = f"{label} target missed"
    else:
        what = f"{alert.percent}% of the {label.lower()} target used"
    return DigestLine(
        ticket.reference,
        ticket.subject or "(no subject)",
        what,
        alert.due_at,
        alert.kind == "breach",
    )


def _compose(settings: Settings, agent: Agent, lines: list[DigestLine]) -> tuple[str, str]:
    base = settings.base_url.rstrip("/")

    def due(line: DigestLine) -> str:
        return line.due_at.strftime("%Y-%m-%d %H:%M UTC") if line.due_at else "not set"

    if len(lines) == 1:
        (line,) = lines
        subject = f"[{line.reference}] SLA: {line.what}"
        body = (
            f"Hello {agent.name},\n\n"
            f"{line.reference} ({line.subject}): {line.what}, due {due(line)}.\n\n"
            f"Open the ticket: {base}/tickets/{line.reference}\n"
        )
        return subject, body
    missed = sum(line.missed for line in lines)
    counts = ", ".join(
        part
        for part in (
            f"{missed} missed" if missed else "",
            _plural(len(lines) - missed, "warning") if len(lines) - missed else "",
        )
        if part
    )
    subject = f"SLA digest: {len(lines)} tickets need attention ({counts})"
    listing = "\n\n".join(
        f"- {line.reference}: {line.subject}\n"
        f"  {line.what}, due {due(line)}\n"
        f"  {base}/tickets/{line.reference}"
        for line in lines
    )
    body = (
        f"Hello {agent.name},\n\n"
        f"These SLA warnings and breaches came together:\n\n{listing}\n\n"
        f"Breaching soon: {base}/tickets?view=breaching&sort=sla\n"
    )
    return subject, body


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"
