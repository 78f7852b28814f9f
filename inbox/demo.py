"""``inbox demo``: a working desk for a newcomer: agents, customers, tickets on every channel."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, col, select

from inbox.actions.calls import CallDetails, log_call
from inbox.actions.chat.demo import load_chat_demo
from inbox.actions.customers import resolve_customer
from inbox.actions.directory import add_directory_account
from inbox.actions.followups import answer_survey, send_survey, snooze_ticket
from inbox.actions.help_demo import load_help_articles
from inbox.actions.macros import MacroFields, create_macro
from inbox.actions.replies import reply_to_customer
from inbox.actions.signin.agents import create_agent
from inbox.actions.signin.two_factor import second_factor_required, set_known_totp_secret
from inbox.actions.sla.clocks import recompute_sla
from inbox.actions.sla.escalations import EscalationRuleFields, save_escalation_rule
from inbox.actions.sla.policies import CalendarFields, PolicyFields, save_calendar, save_policy
from inbox.actions.social_demo import load_social_demo
from inbox.actions.tickets import add_note, open_ticket, set_status, update_ticket
from inbox.errors import Conflict
from inbox.models import Agent, Channel, Message, Team, TeamMember, Ticket, utcnow
from inbox.models.kinds import ChannelKind, Direction, MessageKind
from inbox.queries.reports.sla import desk_timezone
from inbox.rules.followup_time import snooze_presets, zone_named
from inbox.settings import Settings
from inbox.signing import survey_token

# The demo customer with tickets on several channels, for trying the portal.
DEMO_PORTAL_CUSTOMER = "maria.lopez@example.org"
DEMO_PASSWORD = "demo-desk-2026!"  # noqa: S105  (printed for the newcomer; demo only)
# Managers and admins sign in with a second factor: this authenticator key, printed too.
DEMO_TOTP_SECRET = "DEMODESKDEMODESKDEMODESKDEMODESK"  # noqa: S105
AGENTS = [
    ("admin@example.com", "Ada Admin", "admin"),
    ("manager@example.com", "Max Manager", "manager"),
    ("agent@example.com", "Alex Agent", "agent"),
]
CHANNELS = [
    ("email", "Support email", "support@example.com"),
    ("chat", "Website chat", ""),
    ("telegram", "Telegram", ""),
    ("phone", "Phone", ""),
]
# (channel kind, identity kind, identity, name, subject, first message, status, priority)
STORIES = [
    (
        "email",
        "email",
        "maria.lopez@example.org",
        "Maria Lopez",
        "Locked out after three wrong passwords",
        "Hi, I typed my password wrong three times and now my account is locked. "
        "I need to pay an instalment today.",
        "new",
        "high",
    ),
    (
        "chat",
        "chat_visitor",
        "visitor-7f3a",
        "Tom Becker",
        "Purchase I don't recognise",
        "There is a purchase of 249.00 EUR at ELECTRO-WORLD on my plan that I did not make.",
        "open",
        "urgent",
    ),
    (
        "telegram",
        "telegram_id",
        "583920117",
        "Aiko Tanaka",
        "Forgot my password",
        "Hello, I forgot my password and the reset mail never arrives.",
        "waiting on customer",
        "normal",
    ),
    (
        "phone",
        "phone",
        "+4915112345678",
        "Jonas Weber",
        "Called about a late payment fee",
        "Caller asked why a late fee was charged although he paid on the due date.",
        "open",
        "normal",
    ),
    (
        "email",
        "email",
        "sam.ortiz@example.net",
        "Sam Ortiz",
        "Change the date of my instalments",
        "Could I move my monthly instalment from the 1st to the 15th?",
        "resolved",
        "low",
    ),
]
# The embedded account directory's accounts for the demo customers: (id, name, email, phone,
# status). Maria and Jonas are locked out, to try an unlock by code or by a call.
DIRECTORY_ACCOUNTS = [
    ("acc-1001", "Maria Lopez", "maria.lopez@example.org", None, "locked"),
    ("acc-1002", "Tom Becker", "tom.becker@example.com", None, "active"),
    ("acc-1003", "Aiko Tanaka", "aiko.tanaka@example.jp", None, "active"),
    ("acc-1004", "Jonas Weber", "jonas.weber@example.de", "+4915112345678", "locked"),
    ("acc-1005", "Sam Ortiz", "sam.ortiz@example.net", None, "active"),
]
# Canned responses (text only) and macros (text and changes), on /admin/macros.
DEMO_MACROS = [
    MacroFields(
        name="Greeting",
        body="Hello {{customer.name}},\n\nThank you for writing to us about {{ticket.reference}}.",
    ),
    MacroFields(
        name="Sign-off",
        body="Kind regards,\n{{agent.name}}",
    ),
    MacroFields(
        name="Ask for the last payment amount",
        body="Hello {{customer.name}},\n\nTo confirm it is you, please tell us the amount of "
        "your last payment. Keep {{ticket.reference}} in the subject when you answer.\n\n"
        "{{agent.name}}",
        set_status="waiting on customer",
        add_tags=("identity-check",),
    ),
    MacroFields(
        name="Escalate suspected fraud",
        body="",
        set_priority="urgent",
        add_tags=("fraud",),
    ),
]
KIND_OF_MESSAGE = {
    ChannelKind.EMAIL: MessageKind.EMAIL,
    ChannelKind.CHAT: MessageKind.CHAT,
    ChannelKind.TELEGRAM: MessageKind.SOCIAL,
    ChannelKind.PHONE: MessageKind.CALL_NOTE,
}


def load_demo(session: Session, settings: Settings) -> list[str]:
    if session.exec(select(Ticket.id).limit(1)).first() is not None:
        raise Conflict("the desk already has tickets; the demo only fills an empty desk")
    agents = []
    for email, name, role in AGENTS:
        agent = session.exec(select(Agent).where(Agent.email == email)).first()
        if agent is None:
            agent = create_agent(session, email=email, name=name, role=role, password=DEMO_PASSWORD)
            if second_factor_required(agent):
                set_known_totp_secret(session, settings, agent, DEMO_TOTP_SECRET)
        agents.append(agent)
    team = Team(name="Account help")
    session.add(team)
    session.flush()
    for agent in agents:
        session.add(TeamMember(team_id=team.id or 0, agent_id=agent.id or 0))
    channels: dict[str, Channel] = {}
    for kind, name, address in CHANNELS:
        channel = session.exec(select(Channel).where(Channel.name == name)).first()
        if channel is None:
            # Demo channels point at no real server, so they are disabled: nothing is polled.
            channel = Channel(
                kind=kind, name=name, address=address, enabled=False, health="unknown"
            )
            session.add(channel)
            session.flush()
        channels[kind] = channel
    now = utcnow()
    for age, (channel_kind, id_kind, id_value, name, subject, text, status, priority) in enumerate(
        STORIES
    ):
        channel = channels[channel_kind]
        customer, identity = resolve_customer(session, kind=id_kind, value=id_value, name=name)
        ticket = open_ticket(
            session,
            prefix=settings.reference_prefix,
            subject=subject,
            customer_id=customer.id or 0,
            contact_identity_id=identity.id,
            channel_id=channel.id,
            channel_kind=channel.kind,
        )
        ticket.created_at = now - timedelta(hours=6 * (len(STORIES) - age))
        kind = KIND_OF_MESSAGE[ChannelKind(channel_kind)]
        call = kind == MessageKind.CALL_NOTE
        session.add(
            Message(
                ticket_id=ticket.id or 0,
                kind=kind,
                direction=Direction.INTERNAL if call else Direction.INBOUND,
                channel_id=channel.id,
                channel_kind=channel.kind,
                author_identity_id=None if call else identity.id,
                author_agent_id=agents[2].id if call else None,
                author_label=agents[2].name if call else f"{name} <{id_value}>",
                body_text=text,
                display_text=text,
                external_id=f"demo-{ticket.reference}",
                thread_reason=None if call else "new_ticket",
                created_at=ticket.created_at,
            )
        )
        session.flush()
        if channel_kind == ChannelKind.EMAIL and status != "new":
            reply_to_customer(
                session,
                settings,
                ticket=ticket,
                author=agents[2],
                body="Thanks for asking. I have moved your instalment to the 15th. Anything else?",
            )
        if status != "new":
            set_status(session, ticket, status)
        update_ticket(
            session,
            ticket,
            actor=agents[1],
            priority=priority,
            assignee_email=agents[2].email,
            team=team.name,
            tags=["demo"],
        )
        if channel_kind == ChannelKind.CHAT:
            add_note(
                session,
                ticket,
                actor=agents[2],
                body="Card blocked while we check with the merchant.",
            )
    _load_accounts_and_calls(session, settings, agents[2])
    for fields in DEMO_MACROS:
        create_macro(session, actor=agents[0], fields=fields)
    _load_sla(session, agents[0])
    _load_followups(session, settings, agents[2])
    articles = load_help_articles(session, agents[1])
    social = load_social_demo(session, settings, agents[2])
    chat = load_chat_demo(session, settings, channels[ChannelKind.CHAT], agents[2])
    return [
        *chat,
        f"Loaded {len(STORIES)} demo tickets on {len(CHANNELS)} channels.",
        f"Loaded {social} direct-message conversations on Telegram, Messenger, Instagram, "
        "WhatsApp and X.",
        f"Published {articles} help-centre articles at /help.",
        *(
            f"Sign in as {email} ({role}) with password {DEMO_PASSWORD}"
            for email, _, role in AGENTS
        ),
        f"Managers and admins then need a code from an authenticator app with the key "
        f"{DEMO_TOTP_SECRET} (otpauth://totp/Inbox:demo?secret={DEMO_TOTP_SECRET}).",
        f"Customer portal: {settings.base_url}/portal mails a sign-in link, but the demo "
        "channels send no mail; for the demo customer Maria, open the link that "
        f"`inbox portal link --email {DEMO_PORTAL_CUSTOMER}` prints.",
    ]


def _load_followups(session: Session, settings: Settings, agent: Agent) -> None:
    """Maria's ticket snoozed until tomorrow morning; Sam answered the survey on theirs."""
    session.flush()
    now = utcnow()
    zone = zone_named(desk_timezone(session))
    maria = session.exec(
        select(Ticket).where(Ticket.subject == "Locked out after three wrong passwords")
    ).one()
    tomorrow = next(moment for key, _, moment in snooze_presets(now, zone) if key == "tomorrow")
    snooze_ticket(session, maria, agent=agent, until=tomorrow, kind="snooze", now=now, zone=zone)
    sam = session.exec(
        select(Ticket).where(Ticket.subject == "Change the date of my instalments")
    ).one()
    survey = send_survey(session, settings, sam.id or 0)
    if survey is not None:
        answer_survey(
            session,
            settings.secret_key,
            survey_token(settings.secret_key, survey.id or 0),
            score=5,
            comment="Quick and friendly, thank you!",
        )


def _load_sla(session: Session, admin: Agent) -> None:
    """A Berlin office calendar, an urgent policy and a default one; then the clocks."""
    office = save_calendar(
        session,
        CalendarFields(
            name="Berlin office",
            timezone="Europe/Berlin",
            weekly_hours={day: [("09:00", "17:00")] for day in ("mon", "tue", "wed", "thu", "fri")},
            holiday_country="DE",
            holiday_subdivision="BE",
        ),
        actor=admin,
    )
    urgent = save_policy(
        session,
        PolicyFields(
            name="Urgent",
            position=10,
            priorities=["urgent"],
            first_response_minutes=30,
            next_response_minutes=60,
            resolution_minutes=240,
        ),
        actor=admin,
    )
    standard = save_policy(
        session,
        PolicyFields(
            name="Standard",
            position=100,
            calendar_id=office.id,
            first_response_minutes=240,
            next_response_minutes=480,
            resolution_minutes=2400,
        ),
        actor=admin,
    )
    escalations = [
        (standard, EscalationRuleFields(trigger="warning", warn_percent=90, notify_assignee=True)),
        (
            standard,
            EscalationRuleFields(
                trigger="breach", notify_assignee=True, notify_managers=True, set_priority="raise"
            ),
        ),
        (
            urgent,
            EscalationRuleFields(trigger="breach", notify_assignee=True, notify_managers=True),
        ),
    ]
    for policy, rule in escalations:
        save_escalation_rule(session, rule, actor=admin, policy_id=policy.id or 0)
    now = utcnow()
    for ticket_id in session.exec(select(Ticket.id)).all():
        recompute_sla(session, ticket_id or 0, now)


def _load_accounts_and_calls(session: Session, settings: Settings, agent: Agent) -> None:
    """Accounts in the embedded directory, and a logged call back to Jonas."""
    for account_id, name, email, phone, status in DIRECTORY_ACCOUNTS:
        add_directory_account(
            session,
            account_id=account_id,
            name=name,
            email=email,
            phone=phone,
            status=status,
            locked_reason="too many wrong passwords" if status == "locked" else "",
        )
    jonas = session.exec(
        select(Ticket).where(Ticket.channel_kind == ChannelKind.PHONE).order_by(col(Ticket.id))
    ).first()
    if jonas is not None:
        log_call(
            session,
            settings,
            ticket=jonas,
            agent=agent,
            call=CallDetails(
                direction=Direction.OUTBOUND,
                phone="+4915112345678",
                started_at=utcnow() - timedelta(hours=2),
                duration_seconds=245,
                outcome="resolved",
                summary="Called back: the payment arrived a day late at the bank. Waived the "
                "fee as a goodwill gesture and explained the booking times.",
                verification_checks=("date_of_birth", "postcode_on_file", "last_payment_amount"),
            ),
        )
