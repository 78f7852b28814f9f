"""SQLModel tables. No I/O and no framework imports here."""

from inbox.models.agents import ROLES, Agent, AgentSession, ApiToken, AuditEvent, Team, TeamMember
from inbox.models.channels import Channel, InboundItem
from inbox.models.customers import Customer, CustomerIdentity
from inbox.models.messages import Attachment, Message
from inbox.models.tickets import (
    PRIORITIES,
    STATUS_CATEGORIES,
    Ticket,
    TicketLink,
    TicketStatus,
    TicketTag,
)
from inbox.models.types import utcnow
from inbox.models.work import Outbox, Timer

__all__ = [
    "PRIORITIES",
    "ROLES",
    "STATUS_CATEGORIES",
    "Agent",
    "AgentSession",
    "ApiToken",
    "Attachment",
    "AuditEvent",
    "Channel",
    "Customer",
    "CustomerIdentity",
    "InboundItem",
    "Message",
    "Outbox",
    "Team",
    "TeamMember",
    "Ticket",
    "TicketLink",
    "TicketStatus",
    "TicketTag",
    "Timer",
    "utcnow",
]
