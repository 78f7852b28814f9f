"""What the API accepts: each request body a declared type, unknown fields refused.

Litestar decodes and checks a body against its struct before the handler runs (a field of the
wrong type, a missing one or one not declared here is refused with 422, see
``inbox.web.api.errors``), so no caller can set a column the API does not offer. What a value
means (a known status, a future date) is still checked by the actions.
"""

from __future__ import annotations

from msgspec import UNSET, Struct, UnsetType, field


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


class NewTeam(Body):
    name: str


class TeamChange(Body):
    """``PATCH /teams/{id}``: a new name."""

    name: str


class NewAgent(Body):
    """``POST /agents``: the agent signs in with ``password`` (at least 12 characters, not
    containing their name or address); ``teams`` by name."""

    email: str
    name: str
    password: str
    role: str = "agent"
    teams: list[str] = []


class AgentChange(Body):
    """``PATCH /agents/{id}``: absent fields stay as they are; ``teams`` (by name) replaces
    the agent's teams; ``active: false`` deactivates (sessions and API tokens end)."""

    role: str | None = None
    active: bool | None = None
    teams: list[str] | None = None


class SlaPolicyBody(Body):
    """A whole SLA policy (``POST`` and ``PUT``): targets in business minutes, null for none;
    ``priority_targets`` the targets of some priorities that differ
    (``{"urgent": {"first_response": 30}}``); ``teams`` and ``calendar`` by name, no
    ``calendar`` meaning round the clock. Empty conditions accept every ticket.
    ``chat_target_minutes`` is the chat report's target for a chat's first answer."""

    name: str
    position: int = 0
    enabled: bool = True
    priorities: list[str] = []
    channel_kinds: list[str] = []
    customer_tags: list[str] = []
    teams: list[str] = []
    calendar: str | None = None
    first_response_minutes: int | None = None
    next_response_minutes: int | None = None
    resolution_minutes: int | None = None
    chat_target_minutes: int | None = None
    priority_targets: dict[str, dict[str, int]] = {}
    warn_percents: list[int] = field(default_factory=lambda: [75, 90])


class CalendarBody(Body):
    """A whole business calendar (``POST`` and ``PUT``): ``weekly_hours`` maps a weekday
    (``mon`` … ``sun``) to its opening spans (``[["09:00", "12:00"], ["13:00", "17:00"]]``),
    days left out being closed; public holidays of ``holiday_country`` (and region), plus
    the desk's own ``closed_dates`` (``YYYY-MM-DD``)."""

    name: str
    timezone: str = "UTC"
    always_open: bool = False
    weekly_hours: dict[str, list[list[str]]] = {}
    holiday_country: str | None = None
    holiday_subdivision: str | None = None
    closed_dates: list[str] = []


class NewArticle(Body):
    """A help-centre article: a blank ``slug`` is made from the title, a blank ``locale`` is
    the desk's default (``en``), a new ``category`` name creates the category; ``status``
    ``draft`` (the default) or ``published``."""

    title: str
    body_markdown: str = ""
    slug: str = ""
    category: str = ""
    locale: str = ""
    status: str = "draft"


class CategoryNamesChange(Body):
    """``PATCH /help/categories/{slug}``: ``names`` sets the category's name in each locale
    it gives (``{"de": "Anmelden"}``); a blank name removes that locale's (not the default
    locale's, which may change but not go blank). Locales not given stay as they are."""

    names: dict[str, str]


class ArticleChange(Body):
    """``PATCH /help/articles/{id}``: absent or null leaves a field as it is; ``status``
    ``published`` publishes, ``draft`` takes the article off the public pages."""

    title: str | None = None
    body_markdown: str | None = None
    slug: str | None = None
    category: str | None = None
    locale: str | None = None
    status: str | None = None
