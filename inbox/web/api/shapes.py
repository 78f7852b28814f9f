"""What the API answers with (INTERFACES.md): each response body a declared type, so that
``/schema`` describes every shape by name.

Times are ISO 8601 strings as ``datetime.isoformat`` writes them. A field that only some
answers carry (a message's ``thread_reason`` is inbound only) is ``UNSET`` elsewhere and then
left out of the JSON, not sent as null.
"""

from __future__ import annotations

from msgspec import UNSET, Struct, UnsetType, field


class Shape(Struct, kw_only=True):
    """A response body."""


class ErrorBody(Shape):
    """Every refusal: ``error`` a stable code (``invalid``, ``not_found``, ``conflict``, …),
    ``detail`` a sentence for people."""

    error: str
    detail: str


class SlaClock(Shape):
    """One SLA target's clock; ``remaining_minutes`` are business minutes, negative once
    breached."""

    due_at: str | None
    state: str
    remaining_minutes: int
    cycle: int
    policy: str


class Identity(Shape):
    kind: str
    value: str


class CustomerName(Shape):
    name: str


class Customer(CustomerName):
    identities: list[Identity]


class TicketSummary(Shape):
    """A ticket as the list shows it; ``sla`` maps each target to its clock."""

    reference: str
    subject: str
    status: str
    status_category: str
    priority: str
    channel: str
    channel_kind: str
    assignee: str | None
    created_at: str | None
    updated_at: str | None
    sla: dict[str, SlaClock]
    customer: CustomerName


class TicketPage(Shape):
    """One page of the ticket list; ``next_cursor`` asks for the next, null on the last."""

    items: list[TicketSummary]
    next_cursor: str | None


class AttachmentInfo(Shape):
    id: int
    filename: str
    content_type: str
    size: int


class Message(Shape):
    """``thread_reason`` and ``verification`` on inbound messages only, ``delivery`` on
    outbound ones only, ``delivery_error`` only when a delivery failed."""

    id: int
    kind: str
    direction: str
    channel: str | None
    author: str
    subject: str
    body_text: str
    display_text: str
    has_html: bool
    created_at: str | None
    automatic: bool
    attachments: list[AttachmentInfo]
    thread_reason: str | UnsetType | None = UNSET
    verification: str | UnsetType = UNSET
    delivery: str | UnsetType | None = UNSET
    delivery_error: str | UnsetType = UNSET


class Link(Shape):
    kind: str
    reference: str
    reason: str


class Ticket(TicketSummary):
    """One ticket with its customer's identities and its messages, oldest first."""

    customer: Customer
    team: str | None
    tags: list[str]
    links: list[Link]
    messages: list[Message]


class Note(Message, kw_only=True):
    """A note, with whom its mentions notified and the mentions that named nobody."""

    notified: list[str]
    not_notified: list[str]


class Call(Shape):
    direction: str
    phone: str
    started_at: str
    duration_seconds: int
    outcome: str
    summary: str
    identity_verified: bool
    verification_checks: list[str]
    agent_id: int


class CallMessage(Message, kw_only=True):
    """A call logged on a ticket: its message and the call."""

    call: Call


class CallTicket(Shape):
    """The ticket a call opened; ``spoken_reference`` is how to read it out on the phone."""

    reference: str
    spoken_reference: str
    subject: str
    status: str
    channel: str


class OpenedCall(Shape):
    ticket: CallTicket
    message: Message
    call: Call


class MergedTickets(Shape):
    """Both tickets of a merge or unmerge, as they are afterwards."""

    source: Ticket
    target: Ticket


class QuarantineItem(Shape):
    """An inbound item that did not become a message. ``state``: ``quarantined`` (it could not
    be processed) or ``ignored`` (set aside on purpose: a loop, our own mail coming back, a
    bounce that names no mail we sent); ``sender`` and ``subject`` are blank when it is no
    mail at all."""

    id: int
    channel: str
    received_at: str | None
    state: str
    reason: str
    size: int
    sender: str
    subject: str


class QuarantinePage(Shape):
    items: list[QuarantineItem]


class Compliance(Shape):
    """Met, breached and still open clocks of one target; ``percent`` met of those decided,
    null when none is decided yet."""

    target: str
    met: int
    breached: int
    open: int
    percent: float | None


class GroupCompliance(Compliance):
    group: str
    key: str


class Minutes(Shape):
    median: float | None
    p90: float | None


class TargetTimes(Shape):
    target: str
    count: int
    business_minutes: Minutes
    calendar_minutes: Minutes


class Breach(Shape):
    reference: str
    target: str
    policy: str
    breached_at: str | None
    url: str


class BacklogCount(Shape):
    bucket: str
    count: int


class DailyVolume(Shape):
    date: str
    channel: str
    count: int


class Satisfaction(Shape):
    answers: int
    average: float | None


class ClockRow(Shape):
    """One SLA clock of one ticket, as the CSV export has it too."""

    reference: str
    subject: str
    target: str
    policy: str
    state: str
    started_at: str | None
    due_at: str | None
    met_at: str | None
    breached_at: str | None
    business_minutes_used: float
    channel: str
    team: str
    assignee: str
    priority: str


class SlaReport(Shape):
    """The SLA report for ``from``..``to`` (dates, inclusive) in ``tz``."""

    from_: str = field(name="from")
    to: str
    tz: str
    group_by: str
    compliance: list[GroupCompliance]
    totals: list[Compliance]
    times: list[TargetTimes]
    breaches: list[Breach]
    backlog: list[BacklogCount]
    volume: list[DailyVolume]
    satisfaction: Satisfaction
    rows: list[ClockRow]


class HealthCheck(Shape):
    """One thing that can go wrong, by a stable ``cause`` (``channel:3``, ``outbox:failed``,
    ``timers:dead``, ``broker``, …); ``level`` is ``ok``, ``warning`` or ``red``."""

    cause: str
    title: str
    level: str
    detail: str


class ChannelHealth(Shape):
    name: str
    kind: str
    address: str
    enabled: bool
    health: str
    detail: str
    last_polled_at: str | None
    level: str


class FailedOutbound(Shape):
    id: int
    kind: str
    recipient: str
    ticket: str | None
    attempts: int
    last_error: str
    created_at: str | None


class DeadLetter(Shape):
    """A timer that failed on every one of its attempts."""

    id: int
    kind: str
    ticket: str | None
    due_at: str | None
    attempts: int
    last_error: str


class ServiceHealth(Shape):
    name: str
    level: str
    detail: str


class DeskHealth(Shape):
    """``GET /healthz?deep=1``: what /admin/health shows; ``status`` is the worst level."""

    status: str
    checked_at: str | None
    checks: list[HealthCheck]
    channels: list[ChannelHealth]
    quarantined: int
    failed_outbound_count: int
    failed_outbound: list[FailedOutbound]
    stuck_outbound: int
    stuck_timers: int
    oldest_stuck_timer: str | None
    dead_letter_count: int
    dead_letters: list[DeadLetter]
    services: list[ServiceHealth]


class Team(Shape):
    """A team and the addresses of its members."""

    id: int
    name: str
    members: list[str]


class TeamList(Shape):
    items: list[Team]


class Agent(Shape):
    id: int
    email: str
    name: str
    role: str
    active: bool
    teams: list[str]
    two_factor: bool
    may_unlock_accounts: bool
    created_at: str | None


class AgentList(Shape):
    items: list[Agent]


class SlaPolicy(Shape):
    """A policy as ``SlaPolicyBody`` sets it, with its id."""

    id: int
    name: str
    position: int
    enabled: bool
    priorities: list[str]
    channel_kinds: list[str]
    customer_tags: list[str]
    teams: list[str]
    calendar: str | None
    first_response_minutes: int | None
    next_response_minutes: int | None
    resolution_minutes: int | None
    chat_target_minutes: int | None
    priority_targets: dict[str, dict[str, int]]
    warn_percents: list[int]
    updated_at: str | None


class SlaPolicyList(Shape):
    """In the order they are tried; the first whose every condition a ticket meets applies."""

    items: list[SlaPolicy]


class BusinessCalendar(Shape):
    id: int
    name: str
    timezone: str
    always_open: bool
    weekly_hours: dict[str, list[list[str]]]
    holiday_country: str | None
    holiday_subdivision: str | None
    closed_dates: list[str]


class BusinessCalendarList(Shape):
    items: list[BusinessCalendar]


class HelpArticle(Shape):
    """A help-centre article; ``url`` is its public address (it answers only once
    ``status`` is ``published``); ``views`` and ``helpful_yes``/``helpful_no`` count readers."""

    id: int
    title: str
    slug: str
    body_markdown: str
    category: str
    locale: str
    status: str
    url: str
    views: int
    helpful_yes: int
    helpful_no: int
    created_at: str
    updated_at: str
    published_at: str | None


class HelpArticleList(Shape):
    items: list[HelpArticle]


class HelpCategory(Shape):
    """A help-centre category: ``name`` in the desk's default locale, ``names`` per locale
    (the default's included; a locale missing shows the default name); ``url`` its public
    address; ``articles`` how many articles, drafts included, it holds."""

    slug: str
    name: str
    names: dict[str, str]
    url: str
    articles: int


class HelpCategoryList(Shape):
    items: list[HelpCategory]
