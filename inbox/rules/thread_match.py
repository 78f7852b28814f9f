"""Which ticket an inbound mail belongs to, from the strongest signal down.

1. a signed reply token in a recipient address (``support+t42.xxxx@``),
2. one of our signed Message-IDs, or a stored one, in In-Reply-To/References,
3. a ``[REF]`` subject tag, only when the sender already takes part in that ticket.

A weak or conflicting match never joins silently: the mail opens a new ticket,
linked to the candidate as a possible follow-up for an agent to confirm.
The functions here are pure; the caller looks things up in the database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

from inbox.mail.parse import ParsedMail
from inbox.rules.references import find_reference_tags
from inbox.signing import token_from_address, verify_message_id

T = TypeVar("T")


@dataclass(frozen=True)
class ThreadSignals:
    token_ticket_ids: tuple[int, ...]
    signed_ticket_ids: tuple[int, ...]
    referenced_ids: tuple[str, ...]
    subject_refs: tuple[str, ...]


@dataclass(frozen=True)
class ThreadDecision:
    ticket_id: int | None
    reason: str
    linked_ticket_id: int | None = None
    link_reason: str = ""


def read_signals(parsed: ParsedMail, *, secret: bytes, prefix: str) -> ThreadSignals:
    recipients = (*parsed.to, *parsed.cc, *parsed.delivered_to)
    tokens = _unique(t for t in (token_from_address(secret, a) for a in recipients) if t)
    referenced = _unique((*parsed.in_reply_to, *reversed(parsed.references)))
    signed = _unique(t for t in (verify_message_id(secret, m) for m in referenced) if t)
    unsigned = tuple(m for m in referenced if verify_message_id(secret, m) is None)
    return ThreadSignals(
        token_ticket_ids=tokens,
        signed_ticket_ids=signed,
        referenced_ids=unsigned,
        subject_refs=tuple(find_reference_tags(parsed.subject, prefix)),
    )


def decide(
    signals: ThreadSignals,
    *,
    existing: set[int],
    stored_ticket_ids: tuple[int, ...],
    subject_tickets: dict[int, bool],
) -> ThreadDecision:
    """``existing``: signalled tickets that exist; ``subject_tickets``: ticket -> takes part."""
    strong: list[tuple[int, str]] = [
        *((t, "reply_token") for t in signals.token_ticket_ids if t in existing),
        *((t, "message_id") for t in signals.signed_ticket_ids if t in existing),
        *((t, "message_id") for t in stored_ticket_ids),
    ]
    distinct = _unique(t for t, _ in strong)
    if len(distinct) == 1:
        return ThreadDecision(ticket_id=distinct[0], reason=strong[0][1])
    if len(distinct) > 1:
        return ThreadDecision(
            ticket_id=None,
            reason="possible_followup",
            linked_ticket_id=distinct[0],
            link_reason="the mail's reply signals point at different tickets",
        )
    for ticket_id, takes_part in subject_tickets.items():
        if takes_part:
            return ThreadDecision(ticket_id=ticket_id, reason="subject_tag")
    if subject_tickets:
        return ThreadDecision(
            ticket_id=None,
            reason="possible_followup",
            linked_ticket_id=next(iter(subject_tickets)),
            link_reason="subject names this ticket, but the sender does not take part in it",
        )
    return ThreadDecision(ticket_id=None, reason="new_ticket")


def _unique(values: Iterable[T]) -> tuple[T, ...]:
    return tuple(dict.fromkeys(values))
