"""Filing stored mail: threading by mail headers and tokens, bounces, loops, and the
acknowledgement a new ticket sends (RFC 3834). The email channel kind's part of the inbound
pipeline (``inbox.actions.inbound.filing`` runs it).

Plainly new mail (a sender writing without any sign of an earlier conversation: the bulk of
any backlog) is filed in a few multi-row statements per channel (``file_new``); everything
else one item at a time (``file_one``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import update
from sqlmodel import Session, col, select

from inbox.actions.customers import (
    Contact,
    clear_bounce_marks,
    resolve_customer,
    resolve_customers,
)
from inbox.actions.email_out import (
    AcknowledgementRequest,
    queue_acknowledgements,
    recent_acknowledgements,
)
from inbox.actions.followups import customer_wrote, past_reopen_window, start_followup_ticket
from inbox.actions.inbound.bounces import file_bounce
from inbox.actions.inbound.email_set_aside import file_mail_anyway
from inbox.actions.inbound.items import IngestOutcome, finish_item
from inbox.actions.inbound.rows import attachment_rows, loop_reason, may_acknowledge, message_row
from inbox.actions.inbound.thread_lookup import find_thread
from inbox.actions.merge import merged_into
from inbox.actions.rows import insert_rows
from inbox.actions.tickets import (
    link_tickets,
    open_ticket,
    reopen_on_customer_message,
    touch_ticket,
)
from inbox.blobs import BlobStore
from inbox.events import MessageAdded, TicketCreated, record
from inbox.mail.inbound import InboundMail
from inbox.mail.parse import ParsedMail
from inbox.models import (
    Attachment,
    Channel,
    Customer,
    CustomerIdentity,
    InboundItem,
    Message,
    Ticket,
    utcnow,
)
from inbox.models.kinds import IdentityKind, LinkKind
from inbox.rules.references import new_reference
from inbox.rules.thread_match import read_signals
from inbox.settings import Settings


class EmailFiling:
    """The email kind's filing, for ``inbox.actions.inbound.filing``."""

    def batch(
        self,
        session: Session,
        settings: Settings,
        channel_ids: set[int],
        items: Sequence[InboundMail],
    ) -> MailBatch:
        return MailBatch.load(session, settings, channel_ids, items)

    def plainly_new(
        self, settings: Settings, channel: Channel, item: InboundMail, batch: MailBatch
    ) -> bool:
        return not batch.already_filed(channel.id or 0, item.external_id) and _plainly_new(
            settings, channel, item
        )

    def file_new(
        self,
        session: Session,
        settings: Settings,
        blobs: BlobStore,
        channel: Channel,
        items: Sequence[InboundMail],
        batch: MailBatch,
    ) -> dict[int, IngestOutcome]:
        return _file_new_tickets(session, settings, blobs, channel, items, batch)

    def file_one(
        self,
        session: Session,
        settings: Settings,
        blobs: BlobStore,
        row: InboundItem,
        item: InboundMail,
        batch: MailBatch,
    ) -> IngestOutcome:
        return _file(session, settings, blobs, row, item, batch)

    def file_anyway(
        self,
        session: Session,
        settings: Settings,
        blobs: BlobStore,
        channel: Channel,
        row: InboundItem,
    ) -> Ticket:
        return file_mail_anyway(session, settings, blobs, channel, row)


def _plainly_new(settings: Settings, channel: Channel, mail: InboundMail) -> bool:
    """A mail that can only open a new ticket: parsed, from a person's address, no loop, no
    bounce, and no reply token, Message-ID reference or ticket reference in it."""
    parsed = mail.parsed
    if mail.error is not None or parsed is None or not parsed.from_address or parsed.is_bounce:
        return False
    if loop_reason(settings, channel, parsed):
        return False
    signals = read_signals(parsed, secret=settings.secret_key, prefix=settings.reference_prefix)
    return not (
        signals.token_ticket_ids
        or signals.signed_ticket_ids
        or signals.referenced_ids
        or signals.subject_refs
    )


def _file_new_tickets(
    session: Session,
    settings: Settings,
    blobs: BlobStore,
    channel: Channel,
    mails: Sequence[InboundMail],
    batch: MailBatch,
) -> dict[int, IngestOutcome]:
    """One new ticket per mail, written in a few multi-row statements.

    What ``_file`` does for a new ticket, for many mails at once. A conflict (another
    worker created the same sender meanwhile, a mail already filed) raises, and the caller
    files the group one by one instead.
    """
    now = utcnow()
    plain = [(mail, mail.parsed) for mail in mails if mail.parsed and mail.parsed.from_address]
    if len(plain) != len(mails):
        raise ValueError("only parsed mail with a sender is filed in bulk")
    senders: dict[str, str] = {}
    for _, parsed in plain:
        senders.setdefault(parsed.from_address or "", parsed.from_name)
    contacts = resolve_customers(session, IdentityKind.EMAIL, senders)
    # Each sender writes again, so a bounce's mark on their address no longer holds.
    clear_bounce_marks(session, [c.identity_id for c in contacts.values() if c.undeliverable])
    new = [
        _NewTicket(
            mail,
            parsed,
            contacts[parsed.from_address or ""],
            new_reference(settings.reference_prefix),
            (parsed.subject or "(no subject)")[:998],
        )
        for mail, parsed in plain
    ]
    ticket_ids = insert_rows(
        session,
        Ticket,
        [
            {
                "reference": n.reference,
                "subject": n.subject,
                "customer_id": n.contact.customer_id,
                "contact_identity_id": n.contact.identity_id,
                "channel_id": channel.id,
                "channel_kind": channel.kind,
                "created_at": now,
                "updated_at": now,
                "last_customer_message_at": now,
            }
            for n in new
        ],
    )
    message_ids = insert_rows(
        session,
        Message,
        [
            message_row(
                channel,
                n.mail,
                n.parsed,
                ticket_id=ticket_id,
                identity_id=n.contact.identity_id,
                thread_reason="new_ticket",
                now=now,
            )
            for n, ticket_id in zip(new, ticket_ids, strict=True)
        ],
    )
    insert_rows(
        session,
        Attachment,
        [
            row
            for n, message_id in zip(new, message_ids, strict=True)
            for row in attachment_rows(blobs, message_id, n.parsed)
        ],
    )
    requests: dict[int, AcknowledgementRequest] = {}
    counts: dict[str, int] = {}
    for n, ticket_id in zip(new, ticket_ids, strict=True):
        address = n.contact.value
        if may_acknowledge(n.parsed, undeliverable=False) and batch.may_acknowledge(
            address, already=counts.get(address, 0)
        ):
            counts[address] = counts.get(address, 0) + 1
            requests[n.mail.item_id] = AcknowledgementRequest(
                ticket_id=ticket_id,
                reference=n.reference,
                ticket_subject=n.subject,
                to_address=address,
                to_name=n.contact.customer_name,
                thread_ids=(n.mail.external_id,),
            )
    queue_acknowledgements(session, settings, channel, list(requests.values()))
    session.execute(
        update(InboundItem)
        .where(col(InboundItem.id).in_([mail.item_id for mail in mails]))
        .values(state="done", reason="", processed_at=now, lease_until=None)
    )
    for ticket_id, message_id in zip(ticket_ids, message_ids, strict=True):
        record(session, TicketCreated(ticket_id))
        record(session, MessageAdded(ticket_id, message_id))
    return {
        n.mail.item_id: IngestOutcome("done", n.reference, True, n.mail.item_id in requests)
        for n in new
    }


@dataclass(frozen=True)
class _NewTicket:
    mail: InboundMail
    parsed: ParsedMail
    contact: Contact
    reference: str
    subject: str


@dataclass
class MailBatch:
    """What every item of a batch would otherwise ask the database for, asked once."""

    settings: Settings
    filed_ids: set[tuple[int, str]]
    acknowledgements: dict[str, int]
    # Held here because the session only keeps weak references: without this, every item
    # would load its channel again.
    channels: dict[int, Channel] = field(default_factory=dict)

    @classmethod
    def load(
        cls,
        session: Session,
        settings: Settings,
        channel_ids: set[int],
        mails: Sequence[InboundMail],
    ) -> MailBatch:
        external_ids = {m.external_id for m in mails if m.parsed is not None}
        # Sender identities are keyed by the From address as parsed: the acknowledgement's
        # recipient.
        senders = {m.parsed.from_address for m in mails if m.parsed and m.parsed.from_address}
        filed = (
            session.exec(
                select(Message.channel_id, Message.external_id).where(
                    col(Message.channel_id).in_(channel_ids),
                    col(Message.external_id).in_(external_ids),
                )
            ).all()
            if external_ids
            else []
        )
        return cls(
            settings=settings,
            filed_ids={(channel_id or 0, external_id or "") for channel_id, external_id in filed},
            acknowledgements=recent_acknowledgements(session, settings, senders),
        )

    def channel(self, session: Session, channel_id: int) -> Channel:
        channel = self.channels.get(channel_id) or session.get(Channel, channel_id)
        assert channel is not None
        self.channels[channel_id] = channel
        return channel

    def already_filed(self, channel_id: int, external_id: str) -> bool:
        return (channel_id, external_id) in self.filed_ids

    def may_acknowledge(self, address: str, *, already: int = 0) -> bool:
        """``already``: acknowledgements decided but not yet counted by ``filed``."""
        total = self.acknowledgements.get(address, 0) + already
        return total < self.settings.auto_reply_limit

    def filed(self, channel_id: int, item: InboundMail, outcome: IngestOutcome) -> None:
        """Count an item that committed (its savepoint), for the items after it."""
        if outcome.state == "done" and item.parsed is not None:
            self.filed_ids.add((channel_id, item.external_id))
            address = item.parsed.from_address
            if outcome.acknowledged and address:
                self.acknowledgements[address] = self.acknowledgements.get(address, 0) + 1


def _file(
    session: Session,
    settings: Settings,
    blobs: BlobStore,
    item: InboundItem,
    mail: InboundMail,
    batch: MailBatch,
) -> IngestOutcome:
    channel = batch.channel(session, item.channel_id)
    parsed = mail.parsed
    if parsed is None:
        return finish_item(session, item, "quarantined", mail.unparseable)

    skip = loop_reason(settings, channel, parsed)
    if skip:
        return finish_item(session, item, "ignored", skip)
    external_id = mail.external_id
    if batch.already_filed(channel.id or 0, external_id):
        return finish_item(session, item, "duplicate", "this mail is already on a ticket")
    if parsed.is_bounce:
        reference = file_bounce(session, settings, channel, item.id or 0, parsed, external_id)
        if reference is None:
            return finish_item(session, item, "ignored", "a bounce that names no mail we sent")
        note = "bounce filed on its ticket" if reference else "bounce of a mail about no ticket"
        finish_item(session, item, "done", note)
        return IngestOutcome("done", reference or None)

    customer, identity = _sender(session, parsed)
    if identity is not None and identity.undeliverable_at is not None:
        clear_bounce_marks(session, [identity.id or 0])  # they write again: mail arrives
    decision = find_thread(session, settings, parsed, identity)
    ticket = session.get(Ticket, decision.ticket_id) if decision.ticket_id else None
    if ticket is not None:
        ticket = merged_into(session, ticket)
    # Out-of-office and other automatic answers neither reopen a ticket nor open a new one.
    automatic = parsed.is_auto_reply or parsed.is_bulk
    resolved_long_ago = (
        ticket
        if ticket is not None and not automatic and past_reopen_window(session, ticket, utcnow())
        else None
    )
    if resolved_long_ago is not None:
        ticket = None
    new_ticket = ticket is None
    if ticket is None:
        ticket = open_ticket(
            session,
            prefix=settings.reference_prefix,
            subject=parsed.subject or "(no subject)",
            customer_id=customer.id or 0,
            contact_identity_id=identity.id if identity else None,
            channel_id=channel.id,
            channel_kind=channel.kind,
        )
        if decision.linked_ticket_id:
            link_tickets(
                session,
                ticket.id or 0,
                decision.linked_ticket_id,
                LinkKind.POSSIBLE_FOLLOWUP,
                decision.link_reason,
            )
        if resolved_long_ago is not None:
            start_followup_ticket(session, ticket, resolved_long_ago)
    elif not automatic:
        reopen_on_customer_message(session, ticket)
        customer_wrote(session, ticket, now=utcnow())
    ticket.last_customer_message_at = utcnow()
    touch_ticket(session, ticket)  # before the flush below: one UPDATE of the ticket, not two

    message = Message(
        **message_row(
            channel,
            mail,
            parsed,
            ticket_id=ticket.id or 0,
            identity_id=identity.id if identity else None,
            thread_reason=decision.reason,
            now=utcnow(),
        )
    )
    session.add(message)
    session.flush()
    for row in attachment_rows(blobs, message.id or 0, parsed):
        session.add(Attachment(**row))
    record(session, MessageAdded(ticket.id or 0, message.id or 0))

    acknowledged = (
        new_ticket
        and identity is not None
        and may_acknowledge(parsed, identity.undeliverable_at is not None)
        and batch.may_acknowledge(identity.value)
    )
    if acknowledged:
        assert identity is not None
        request = AcknowledgementRequest(
            ticket_id=ticket.id or 0,
            reference=ticket.reference,
            ticket_subject=ticket.subject,
            to_address=identity.value,
            to_name=customer.name,
            thread_ids=(external_id,),  # the new ticket holds this one mail
        )
        queue_acknowledgements(session, settings, channel, [request])
    finish_item(session, item, "done", "")
    return IngestOutcome("done", ticket.reference, new_ticket, acknowledged)


def _sender(session: Session, parsed: ParsedMail) -> tuple[Customer, CustomerIdentity | None]:
    if parsed.from_address:
        return resolve_customer(
            session, kind=IdentityKind.EMAIL, value=parsed.from_address, name=parsed.from_name
        )
    customer = Customer(name=parsed.from_name or "Unknown sender")
    session.add(customer)
    session.flush()
    return customer, None
