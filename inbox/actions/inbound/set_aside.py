"""Filing an item from the quarantine as a ticket after all, on an agent's word.

The desk sets aside what it must not treat as a customer's message (a loop, its own mail
coming back, a bounce that proves nothing, input it cannot read); an agent who knows better
files it as a new ticket. No automatic answer goes out, the ticket says who filed it and why
it had been set aside, and the audit log records it.
"""

from __future__ import annotations

from sqlmodel import Session

from inbox.actions.audit import record_audit
from inbox.actions.inbound.filing import FILINGS
from inbox.actions.inbound.items import finish_item
from inbox.actions.timeline import record_system_event
from inbox.blobs import BlobStore
from inbox.errors import Conflict, NotFound
from inbox.models import Agent, Channel, InboundItem, Ticket
from inbox.models.channels import SET_ASIDE_STATES
from inbox.settings import Settings


def file_set_aside_item(
    session: Session, settings: Settings, blobs: BlobStore, *, actor: Agent, item_id: int
) -> Ticket:
    item = session.get(InboundItem, item_id, with_for_update=True)
    if item is None:
        raise NotFound("no such item in the quarantine")
    if item.state not in SET_ASIDE_STATES:
        raise Conflict("this item is no longer in the quarantine")
    channel = session.get(Channel, item.channel_id)
    assert channel is not None
    ticket = FILINGS[channel.kind].file_anyway(session, settings, blobs, channel, item)
    record_system_event(
        session,
        ticket,
        actor,
        f"Filed from the quarantine by {actor.name}. It had been set aside: {item.reason}",
    )
    record_audit(
        session,
        "inbound.filed_from_quarantine",
        actor=actor,
        target_type="inbound_item",
        target_id=item.id or 0,
        detail={
            "channel": channel.name,
            "state": item.state,
            "reason": item.reason,
            "ticket": ticket.reference,
        },
    )
    finish_item(session, item, "done", f"filed as {ticket.reference} by {actor.email}")
    return ticket
