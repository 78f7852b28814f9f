"""A chat visitor's typed email address: only its confirmation link is mailed to it, naming
nothing of the chat; following the link proves it, the chat joins that address's customer, and
from then on an answer to the visitor who has gone is mailed there, and their mailed answer
comes back to the same ticket."""

from __future__ import annotations

import email
import re
from datetime import timedelta
from email import policy

from sqlmodel import col, select

from inbox.actions.chat.routing import end_chat
from inbox.actions.replies import reply_to_customer
from inbox.db import Database
from inbox.models import (
    Agent,
    ChatConversation,
    ChatEntry,
    ChatVisitor,
    Customer,
    CustomerIdentity,
    Message,
    Outbox,
    Ticket,
    utcnow,
)
from inbox.rules.chat import proof_token
from inbox.settings import Settings
from tests.support.chat_desk import chat_channel, visitor_writes
from tests.support.desk import ingest, mail, make_agent, make_channel, new_ticket, outbox_mail
from tests.support.web import Client

CLAIM = "maria@example.org"


def _chat_ticket(db: Database, settings: Settings, claimed: str = CLAIM) -> tuple[int, str]:
    """A visitor who typed ``claimed`` writes; their visitor id and the ticket's reference."""
    channel_id = chat_channel(db, settings, name="Website")
    ack = visitor_writes(
        db, settings, channel_id, "Maria Lopez", text="My card payment failed twice",
        claimed_email=claimed,
    )  # fmt: skip
    with db.reading() as session:
        visitor = session.exec(
            select(ChatVisitor).where(ChatVisitor.claimed_email == claimed)
        ).one()
    return visitor.id or 0, ack.reference


def _mails(db: Database, settings: Settings, kind: str) -> list[email.message.EmailMessage]:
    with db.reading() as session:
        rows = session.exec(select(Outbox).where(Outbox.kind == kind).order_by(col(Outbox.id)))
        return [
            email.message_from_bytes(outbox_mail(settings, row), policy=policy.default)  # type: ignore[misc]
            for row in rows
        ]


def _reply(db: Database, settings: Settings, reference: str, body: str, key: str) -> None:
    with db.unit_of_work() as session:
        agent = session.exec(select(Agent).where(Agent.email == "ann@example.com")).one()
        ticket = session.exec(select(Ticket).where(Ticket.reference == reference)).one()
        reply_to_customer(
            session, settings, ticket=ticket, author=agent, body=body, idempotency_key=key
        )


def _link(db: Database, settings: Settings) -> str:
    proof = _mails(db, settings, "chat_email_proof")[-1]
    found = re.search(r"(/chat/confirm\?token=\S+)", proof.get_content())
    assert found
    return found.group(1)


def test_a_claimed_address_gets_only_its_link_and_answers_once_the_visitor_proves_it(
    db: Database, settings: Settings, client: Client
) -> None:
    make_channel(db, settings)  # the desk's own address, which mail leaves from
    make_agent(db, email="ann@example.com", name="Ann Agent")
    visitor_id, reference = _chat_ticket(db, settings)

    [proof] = _mails(db, settings, "chat_email_proof")
    assert proof["To"].addresses[0].addr_spec == CLAIM
    text = proof.get_content()
    assert "/chat/confirm?token=" in text
    assert reference not in text and "card payment" not in text  # nothing of the chat

    # Not proven: the answer stays in the chat.
    _reply(db, settings, reference, "Which card was it?", "reply-one")
    # Gone, but the address is a claim: still nothing mailed.
    with db.unit_of_work() as session:
        conversation = session.exec(
            select(ChatConversation).where(ChatConversation.visitor_id == visitor_id)
        ).one()
        end_chat(session, conversation, by_label="the visitor", now=utcnow())
    _reply(db, settings, reference, "We found the payment.", "reply-two")
    assert _mails(db, settings, "reply") == []

    link = _link(db, settings)
    page = client.get(link)  # opening the link (a mail scanner does) proves nothing
    assert page.status_code == 200 and "Confirm this address" in page.text
    with db.reading() as session:
        visitor = session.get(ChatVisitor, visitor_id)
        assert visitor is not None and visitor.email_proven_at is None
    token = link.split("token=", 1)[1]
    done = client.post(
        "/chat/confirm",
        data={"token": token, "_csrf_token": _csrf(page.text)},
    )
    assert done.status_code == 201 or done.status_code == 200
    assert f"{CLAIM}</strong> is confirmed" in done.text

    _reply(db, settings, reference, "The refund is on its way.", "reply-three")
    [answer] = _mails(db, settings, "reply")
    assert answer["To"].addresses[0].addr_spec == CLAIM
    assert reference in answer["Subject"] and "The refund is on its way." in answer.get_content()
    with db.reading() as session:
        ticket = session.exec(select(Ticket).where(Ticket.reference == reference)).one()
        customer = session.get(Customer, ticket.customer_id)
        assert customer is not None
        addresses = session.exec(
            select(CustomerIdentity.value).where(CustomerIdentity.customer_id == customer.id)
        ).all()
        assert CLAIM in addresses
        replies = session.exec(
            select(Message).where(
                Message.ticket_id == ticket.id, Message.body_text == "The refund is on its way."
            )
        ).all()
        assert [m.kind for m in replies] == ["email"]  # one message, mailed
        shown = session.exec(
            select(ChatEntry).where(ChatEntry.text == "The refund is on its way.")
        ).one()
        assert shown.message_id == replies[0].id  # and waiting in the chat too
        events = " ".join(
            session.exec(select(Message.body_text).where(Message.ticket_id == ticket.id))
        )
    assert "Mailed a confirmation link to maria@example.org" in events
    assert "proved the address maria@example.org" in events

    # The visitor answers the mail: it joins the same ticket.
    outcome = ingest(
        db,
        settings,
        1,
        mail(
            sender=f"Maria Lopez <{CLAIM}>",
            to=answer["Reply-To"].addresses[0].addr_spec,
            subject=f"Re: {answer['Subject']}",
            body="Thank you, it arrived.",
            headers={"In-Reply-To": answer["Message-ID"]},
        ),
    )
    assert outcome.ticket_reference == reference


def test_a_claim_on_an_existing_customers_address_joins_their_history_only_once_proven(
    db: Database, settings: Settings, client: Client
) -> None:
    channel_id = make_channel(db, settings)
    earlier = new_ticket(db, settings, channel_id, sender=f"Maria Lopez <{CLAIM}>")
    _, reference = _chat_ticket(db, settings)

    def customer_of(ref: str) -> int:
        with db.reading() as session:
            return session.exec(select(Ticket.customer_id).where(Ticket.reference == ref)).one()

    assert customer_of(reference) != customer_of(earlier)
    link = _link(db, settings)
    page = client.get(link)
    client.post(
        "/chat/confirm", data={"token": link.split("token=", 1)[1], "_csrf_token": _csrf(page.text)}
    )
    assert customer_of(reference) == customer_of(earlier)


def test_a_forged_changed_or_expired_link_proves_nothing(
    db: Database, settings: Settings, client: Client
) -> None:
    make_channel(db, settings)
    visitor_id, _ = _chat_ticket(db, settings)
    link = _link(db, settings)
    token = link.split("token=", 1)[1]
    past = int((utcnow() - timedelta(minutes=1)).timestamp())
    for bad in (
        token[:-2] + ("00" if not token.endswith("00") else "11"),  # forged
        proof_token(settings.secret_key, visitor_id, CLAIM, past),  # expired
        proof_token(settings.secret_key, visitor_id, "other@example.org", past + 3600),
    ):
        page = client.get(f"/chat/confirm?token={bad}")
        assert page.status_code == 400 and "not valid, or has expired" in page.text
    # The visitor typed another address since: the old link is for the old one.
    with db.unit_of_work() as session:
        visitor = session.get(ChatVisitor, visitor_id)
        assert visitor is not None
        visitor.claimed_email = "new@example.org"
        session.add(visitor)
    assert client.get(link).status_code == 400


def _csrf(html: str) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)
