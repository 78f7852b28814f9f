"""What a direct message gets after it is filed, from calls to the platform made outside the
filing transaction (``workers.social_details``): the sender's name, and WhatsApp media."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from inbox.actions.timeline import record_system_event
from inbox.blobs import BlobStore
from inbox.events import MessageAdded, record
from inbox.models import Attachment, Customer, CustomerIdentity, Message, Ticket


@dataclass(frozen=True)
class FetchedMedia:
    name: str
    content_type: str
    data: bytes | None  # None: not fetched, ``reason`` says why
    reason: str = ""


def name_social_sender(session: Session, message_id: int, name: str) -> None:
    """The profile API's name for the sender, unless someone named them meanwhile (the
    customer is still called by their platform id)."""
    message = session.get(Message, message_id)
    identity = (
        session.get(CustomerIdentity, message.author_identity_id)
        if message and message.author_identity_id
        else None
    )
    customer = session.get(Customer, identity.customer_id) if identity else None
    if message is None or identity is None or customer is None or not name.strip():
        return
    name = name.strip()[:200]
    if customer.name == identity.value:
        customer.name = name
        session.add(customer)
    if message.author_label == identity.value:
        message.author_label = name
        session.add(message)
    record(session, MessageAdded(message.ticket_id, message_id))


def attach_social_media(
    session: Session, blobs: BlobStore, message_id: int, files: list[FetchedMedia]
) -> None:
    """The media of a message, into the attachment store; a file that could not be fetched is
    named on the ticket with the reason."""
    message = session.get(Message, message_id)
    if message is None:
        return
    for file in files:
        if file.data is not None:
            session.add(
                Attachment(
                    message_id=message_id,
                    filename=file.name,
                    content_type=file.content_type,
                    size=len(file.data),
                    content_hash=blobs.put(file.data),
                )
            )
        else:
            ticket = session.get(Ticket, message.ticket_id)
            if ticket is not None:
                record_system_event(
                    session, ticket, None, f"A file of the customer's was not fetched: "
                    f"{file.name}: {file.reason}"
                )  # fmt: skip
    record(session, MessageAdded(message.ticket_id, message_id))
