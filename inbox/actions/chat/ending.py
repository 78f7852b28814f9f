"""After a chat: the visitor's satisfaction score (the ticket's one satisfaction survey, as the
follow-up workflows send by mail, answered in the widget) and the transcript, mailed to the
visitor's proven address only (``inbox.actions.chat.email_proof``)."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from inbox.actions.automatic_mail import queue_contact_mail
from inbox.actions.chat.email_proof import proven_email
from inbox.actions.followups import record_survey_answer
from inbox.errors import Conflict, NotFound
from inbox.models import (
    ChatConversation,
    ChatEntry,
    ChatVisitor,
    SatisfactionSurvey,
    Ticket,
    utcnow,
)
from inbox.queries.chat import newest_conversation
from inbox.queries.chat_files import file_names
from inbox.settings import Settings

TRANSCRIPT_KIND = "chat_transcript"
AUTHORS = {"agent": "", "system": "Desk"}


def _latest(session: Session, visitor_id: int) -> tuple[ChatConversation, Ticket]:
    conversation = newest_conversation(session, visitor_id=visitor_id)
    ticket = session.get(Ticket, conversation.ticket_id) if conversation else None
    if conversation is None or ticket is None:
        raise NotFound("there is no chat to speak of yet")
    return conversation, ticket


def rate_chat(session: Session, visitor_id: int, *, score: int, comment: str) -> Ticket:
    """The visitor's score for their latest chat: its ticket's survey, answered once."""
    _, ticket = _latest(session, visitor_id)
    survey = session.exec(
        select(SatisfactionSurvey).where(SatisfactionSurvey.ticket_id == ticket.id)
    ).first()
    if survey is None:
        try:
            with session.begin_nested():
                survey = SatisfactionSurvey(ticket_id=ticket.id or 0, sent_at=utcnow())
                session.add(survey)
                session.flush()
        except IntegrityError:
            survey = session.exec(
                select(SatisfactionSurvey).where(SatisfactionSurvey.ticket_id == ticket.id)
            ).one()
    record_survey_answer(session, survey, score=score, comment=comment)
    return ticket


def mail_transcript(session: Session, settings: Settings, visitor_id: int) -> str:
    """Queue the latest chat's transcript to the visitor's proven address; the address.
    ``Conflict`` while there is none (or no email channel to send from)."""
    visitor = session.get(ChatVisitor, visitor_id)
    address = proven_email(visitor) if visitor else ""
    if visitor is None or not address:
        raise Conflict(
            "we can mail the transcript once your email address is confirmed: follow the link"
            " we mailed you"
        )
    conversation, ticket = _latest(session, visitor_id)
    entries = session.exec(
        select(ChatEntry)
        .where(ChatEntry.conversation_id == conversation.id)
        .order_by(col(ChatEntry.seq))
    ).all()
    files = file_names(session, [e.message_id for e in entries if e.message_id is not None])
    lines = [
        f"[{e.created_at:%Y-%m-%d %H:%M} UTC] "
        f"{'You' if e.author == 'visitor' else (e.name or AUTHORS.get(e.author, ''))}: {e.text}"
        + "".join(f" [file: {name}]" for name in files.get(e.message_id or 0, ()))
        for e in entries
    ]
    body = (
        f"Hello{' ' + visitor.name if visitor.name else ''},\n\n"
        f"here is your chat with us, reference {ticket.reference}. To write to us about it,"
        " answer this mail or quote the reference.\n\n" + "\n".join(lines) + "\n"
    )
    sent = queue_contact_mail(
        session,
        settings,
        to_address=address,
        to_name=visitor.name,
        kind=TRANSCRIPT_KIND,
        key=f"{TRANSCRIPT_KIND}:{conversation.id}:{conversation.last_seq}",
        subject=f"Your chat with us [{ticket.reference}]",
        body=body,
        ticket=ticket,
    )
    if not sent:
        raise Conflict("the transcript cannot be mailed just now")
    return address
