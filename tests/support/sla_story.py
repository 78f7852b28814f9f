"""Tickets with a past: opened by mail, answered, noted, called, changed, each step through
the real actions and then moved back to the moment the story says it happened."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, func, select

from inbox.actions.calls import CallDetails, log_call
from inbox.actions.replies import reply_to_customer
from inbox.actions.sla.clocks import recompute_sla
from inbox.actions.tickets import update_ticket
from inbox.db import Database
from inbox.models import Message, SlaClockEvent, Ticket, TicketStatusChange, utcnow
from inbox.queries.sla import ticket_sla_json
from inbox.settings import Settings
from tests.support.desk import agent_by_email, ingest, mail
from tests.support.processes import wait_for


def opened_ago(
    db: Database,
    settings: Settings,
    channel: int,
    subject: str,
    minutes: int,
    *,
    status: str | None = None,
    priority: str | None = None,
) -> str:
    """A ticket opened ``minutes`` ago, changed as given, its clocks computed now.

    A running ``inbox serve`` may file the stored mail before this process does: the ticket
    is found by its subject, whoever filed it."""
    ingest(db, settings, channel, mail(subject=subject))

    def filed() -> str | None:
        with db.reading() as session:
            return session.exec(select(Ticket.reference).where(Ticket.subject == subject)).first()

    reference = wait_for(filed, timeout=10, what=f"a ticket for {subject!r}", every=0.1)
    when = utcnow() - timedelta(minutes=minutes)
    with db.unit_of_work() as session:
        ticket = session.exec(select(Ticket).where(Ticket.reference == reference)).one()
        if status or priority:
            update_ticket(
                session,
                ticket,
                actor=agent_by_email(db, "agent@example.com"),
                status=status,
                priority=priority,
            )
        ticket.created_at = when
        session.add(ticket)
        session.execute(
            update(Message).where(col(Message.ticket_id) == ticket.id).values(created_at=when)
        )
        session.execute(
            update(TicketStatusChange)
            .where(col(TicketStatusChange.ticket_id) == ticket.id)
            .values(at=when)
        )
    with db.unit_of_work() as session:
        recompute_sla(session, ticket.id or 0, utcnow())
    return reference


@dataclass
class Story:
    """One customer's ticket on the desk, and the moments things happened to it."""

    db: Database
    settings: Settings
    channel_id: int
    agent_email: str
    standard_id: int
    ticket_id: int = 0
    reference: str = ""
    _messages_seen: int = 0
    _changes_seen: int = 0

    def moved_to(self, when: datetime) -> None:
        """What the last step wrote happened at ``when``."""
        with self.db.unit_of_work() as session:
            session.execute(
                update(Message)
                .where(
                    col(Message.ticket_id) == self.ticket_id, col(Message.id) > self._messages_seen
                )
                .values(created_at=when)
            )
            session.execute(
                update(TicketStatusChange)
                .where(
                    col(TicketStatusChange.ticket_id) == self.ticket_id,
                    col(TicketStatusChange.id) > self._changes_seen,
                )
                .values(at=when)
            )
            self._messages_seen = session.exec(select(func.max(Message.id))).one() or 0
            self._changes_seen = session.exec(select(func.max(TicketStatusChange.id))).one() or 0

    def opened(self, when: datetime, subject: str = "Card declined") -> None:
        outcome = ingest(
            self.db,
            self.settings,
            self.channel_id,
            mail(sender="Maria <maria@example.org>", subject=subject),
        )
        with self.db.unit_of_work() as session:
            ticket = session.exec(
                select(Ticket).where(Ticket.reference == outcome.ticket_reference)
            ).one()
            ticket.created_at = ticket.updated_at = when
            session.add(ticket)
            self.ticket_id, self.reference = ticket.id or 0, ticket.reference
        self.moved_to(when)

    def customer_writes(self, when: datetime) -> None:
        ingest(
            self.db,
            self.settings,
            self.channel_id,
            mail(
                sender="Maria <maria@example.org>", subject=f"Re: [{self.reference}] Card declined"
            ),
        )
        self.moved_to(when)

    def agent_replies(self, when: datetime, status_after: str | None = None) -> None:
        with self.db.unit_of_work() as session:
            reply_to_customer(
                session,
                self.settings,
                ticket=self._ticket(session),
                author=agent_by_email(self.db, self.agent_email),
                body="We are on it.",
                status_after=status_after,
            )
        self.moved_to(when)

    def agent_notes(self, when: datetime) -> None:
        from inbox.actions.tickets import add_note

        with self.db.unit_of_work() as session:
            add_note(
                session,
                self._ticket(session),
                actor=agent_by_email(self.db, self.agent_email),
                body="Checking",
            )
        self.moved_to(when)

    def agent_calls(self, when: datetime, outcome: str = "resolved") -> None:
        with self.db.unit_of_work() as session:
            log_call(
                session,
                self.settings,
                ticket=self._ticket(session),
                agent=agent_by_email(self.db, self.agent_email),
                call=CallDetails(
                    direction="outbound",
                    phone="+49 151 12345678",
                    started_at=utcnow() - timedelta(minutes=5),  # moved to ``when`` below
                    duration_seconds=120,
                    outcome=outcome,
                    summary="Talked it through",
                ),
            )
        self.moved_to(when)

    def changed(self, when: datetime, **changes: str) -> None:
        with self.db.unit_of_work() as session:
            update_ticket(
                session,
                self._ticket(session),
                actor=agent_by_email(self.db, self.agent_email),
                **changes,
            )
        self.moved_to(when)

    def recompute(self, now: datetime) -> dict[str, dict[str, object]]:
        with self.db.unit_of_work() as session:
            recompute_sla(session, self.ticket_id, now)
        with self.db.reading() as session:
            return ticket_sla_json(session, self.ticket_id, now)  # type: ignore[return-value]

    def due_at(self) -> datetime | None:
        with self.db.reading() as session:
            return self._ticket(session).sla_due_at

    def events(self) -> list[tuple[str, int, str, datetime]]:
        with self.db.reading() as session:
            rows = session.exec(
                select(SlaClockEvent)
                .where(SlaClockEvent.ticket_id == self.ticket_id)
                .order_by(col(SlaClockEvent.at), col(SlaClockEvent.id))
            ).all()
            return [(e.target, e.cycle, e.kind, e.at) for e in rows]

    def system_lines(self) -> list[str]:
        with self.db.reading() as session:
            return [
                m.body_text
                for m in session.exec(
                    select(Message).where(
                        Message.ticket_id == self.ticket_id, Message.kind == "system"
                    )
                )
            ]

    def _ticket(self, session: object) -> Ticket:
        ticket = session.get(Ticket, self.ticket_id)  # type: ignore[attr-defined]
        assert ticket is not None
        return ticket  # type: ignore[no-any-return]
