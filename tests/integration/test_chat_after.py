"""After a chat, over a real socket: the visitor scores it (the ticket's satisfaction survey,
once) and asks for the transcript, which is mailed only to an address they have confirmed."""

from __future__ import annotations

from email import message_from_bytes, policy

from sqlmodel import select

from inbox.actions.channels import add_email_channel
from inbox.models import ChatVisitor, Message, Outbox, SatisfactionSurvey, Ticket, utcnow
from inbox.settings import load_settings
from tests.support.chat_socket import Chat, database, hello, of_type, receive, say, send
from tests.support.desk import outbox_mail
from tests.support.processes import Deployment
from tests.support.served import desk_box, desk_database


def test_the_visitor_scores_the_chat_once_and_the_score_is_its_tickets_survey(
    server: Deployment,
) -> None:
    chat = Chat(server)
    with chat.open() as ws:
        hello(ws, name="Maria Lopez")
        reference = say(ws, "I cannot log in")["reference"]
        send(ws, type="end")
        receive(ws, of_type("ended"))
        send(ws, type="rate", score=9)
        assert receive(ws, of_type("error"))["code"] == "invalid"
        send(ws, type="rate", score=4, comment="Quick, thanks")
        assert receive(ws, of_type("rated")) == {"type": "rated", "score": 4}
        send(ws, type="rate", score=1)
        refused = receive(ws, of_type("error"))
        assert refused["code"] == "refused" and "answered already" in refused["detail"]
    db = database(server)
    with db.reading() as session:
        ticket = session.exec(select(Ticket).where(Ticket.reference == reference)).one()
        survey = session.exec(
            select(SatisfactionSurvey).where(SatisfactionSurvey.ticket_id == ticket.id)
        ).one()
        timeline = session.exec(select(Message.body_text).where(Message.ticket_id == ticket.id))
        assert (survey.score, survey.comment) == (4, "Quick, thanks")
        assert "Satisfaction survey answered: 4 of 5.\nComment: Quick, thanks" in list(timeline)
    db.dispose()


def test_the_transcript_goes_only_to_a_confirmed_address_and_once(server: Deployment) -> None:
    chat = Chat(server)
    with desk_database(server) as session:  # the desk's own address, which mail leaves from
        channel = add_email_channel(
            session,
            desk_box(server),
            name="Support",
            address="support@example.com",
            imap_url="imap://127.0.0.1:9",
            smtp_url="smtp://127.0.0.1:9",
            imap_redacted="imap://127.0.0.1:9",
            smtp_redacted="smtp://127.0.0.1:9",
        )
        channel.enabled = False  # nothing is fetched or sent here: the outbox keeps the mail
    with chat.open() as ws:
        hello(ws, name="Maria Lopez", email="maria@example.org")
        reference = say(ws, "My card payment failed twice")["reference"]
        send(ws, type="transcript")
        refused = receive(ws, of_type("error"))
        assert refused["code"] == "refused" and "confirmed" in refused["detail"]

        with desk_database(server) as session:  # as if the visitor followed the link
            visitor = session.exec(select(ChatVisitor)).one()
            visitor.email_proven_at = utcnow()
            session.add(visitor)
        for _ in range(2):
            send(ws, type="transcript")
            assert receive(ws, of_type("transcript_sent"))["to"] == "maria@example.org"
    db = database(server)
    with db.reading() as session:
        [row] = session.exec(select(Outbox).where(Outbox.kind == "chat_transcript")).all()
    db.dispose()
    mail = message_from_bytes(outbox_mail(load_settings(server.env), row), policy=policy.default)
    assert mail["To"] == "Maria Lopez <maria@example.org>"
    assert reference in mail["Subject"]
    body = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "You: My card payment failed twice" in body
    assert f"Desk: Thanks, we have your message. Your reference is {reference}." in body
