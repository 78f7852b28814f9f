"""What a bounce can prove about the mail it returns. Pure: the caller looks things up.

Anyone can write a delivery-status report naming any address. Only a bounce that names a
mail the desk sent may mark an address undeliverable: by one of our signed Message-IDs, by a
signed reply token in the returned mail's Reply-To (or in the bounce's own recipients), or by
a Message-ID the desk stored for a mail it sent (which the caller looks up among
``returned_ids``). And even then only an address that mail went to: the caller checks that.
"""

from __future__ import annotations

from dataclasses import dataclass

from inbox.mail.parse import ParsedMail
from inbox.signing import token_from_address, verify_message_id

MAX_RETURNED_IDS = 10


@dataclass(frozen=True)
class BounceClaims:
    # The Message-IDs the bounce names for the returned mail: its own, then In-Reply-To.
    returned_ids: tuple[str, ...]
    # Those of them the desk signed, each with the ticket it names (0: mail about no ticket).
    signed: tuple[tuple[str, int], ...]
    # Tickets named by a signed reply token.
    token_ticket_ids: tuple[int, ...]


def read_bounce(parsed: ParsedMail, *, secret: bytes) -> BounceClaims:
    named = (parsed.bounce_original_message_id, *parsed.in_reply_to)
    returned_ids = tuple(dict.fromkeys(i for i in named if i))[:MAX_RETURNED_IDS]
    signed = tuple(
        (message_id, ticket_id)
        for message_id in returned_ids
        if (ticket_id := verify_message_id(secret, message_id)) is not None
    )
    addresses = (*parsed.bounce_original_reply_to, *parsed.to, *parsed.delivered_to)
    tokens = (token_from_address(secret, address) for address in addresses[:20])
    return BounceClaims(
        returned_ids=returned_ids,
        signed=signed,
        token_ticket_ids=tuple(dict.fromkeys(t for t in tokens if t)),
    )
