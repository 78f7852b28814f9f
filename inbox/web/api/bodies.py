"""What the API accepts: each request body a declared type, unknown fields refused.

Litestar decodes and checks a body against its struct before the handler runs (a field of the
wrong type, a missing one or one not declared here is refused with 422, see
``inbox.web.api.errors``), so no caller can set a column the API does not offer. What a value
means (a known status, a future date) is still checked by the actions.
"""

from __future__ import annotations

from msgspec import UNSET, Struct, UnsetType


class Body(Struct, forbid_unknown_fields=True, kw_only=True):
    """A request body: the declared fields only."""


class TicketChange(Body):
    """``PATCH /tickets/{reference}``: absent or null leaves a field as it is; a blank or null
    ``assignee`` or ``team`` clears it."""

    status: str | None = None
    priority: str | None = None
    assignee: str | UnsetType | None = UNSET
    team: str | UnsetType | None = UNSET
    tags: list[str] | None = None


class NewReply(Body):
    """``seen_message_id``: the newest message the agent saw; a reply after a newer one from
    the customer is refused as stale. ``idempotency_key`` (or the ``Idempotency-Key`` header):
    the same key again answers with the reply already queued, and sends nothing more."""

    body: str
    status: str | None = None
    seen_message_id: int | None = None
    idempotency_key: str | None = None


class NewNote(Body):
    body: str


class NewCall(Body):
    """A call logged on a ticket; ``started_at`` (ISO 8601 with zone) defaults to now minus
    the duration."""

    direction: str
    phone: str
    summary: str
    outcome: str
    started_at: str | None = None
    duration_seconds: int = 0
    verification_checks: list[str] = []


class CallerTicket(NewCall):
    """A call that opens a ticket: also its subject and the caller's name."""

    subject: str = ""
    name: str = ""


class MergeInto(Body):
    into: str


class Unmerge(Body):
    """Nothing to say: the merge to undo is the one that closed the ticket."""


class SplitOut(Body):
    message_id: int
    subject: str = ""
