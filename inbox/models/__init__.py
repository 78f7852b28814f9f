"""SQLModel tables. No I/O and no framework imports here."""

from inbox.models import counts as counts  # the inbox's live counts
from inbox.models import reporting as reporting  # the SLA report's rollup tables
from inbox.models.accounts import (
    CallNote,
    DirectoryAccount,
    DirectoryCode,
    IdentityProof,
    UnlockRequest,
)
from inbox.models.agents import (
    ROLES,
    Agent,
    AgentSession,
    ApiToken,
    AuditEvent,
    OneTimeCode,
    RecoveryCode,
    SignInDevice,
    Team,
    TeamMember,
)
from inbox.models.channels import Channel, InboundItem
from inbox.models.chat import AgentChatStatus, ChatConversation, ChatEntry, ChatVisitor
from inbox.models.customers import Customer, CustomerIdentity
from inbox.models.escalations import SlaAlert, SlaAlertMail, SlaEscalationRule
from inbox.models.followups import FollowupSettings, SatisfactionSurvey, TicketSnooze
from inbox.models.help import (
    HelpArticle,
    HelpCategory,
    HelpCategoryName,
    HelpCentreState,
    HelpFeedback,
    HelpImage,
    HelpSearchMiss,
    HelpVisit,
)
from inbox.models.messages import Attachment, Message
from inbox.models.portal import PortalLink, PortalSession
from inbox.models.sla import (
    SLA_TARGETS,
    BusinessCalendar,
    CustomerTag,
    SlaClock,
    SlaClockEvent,
    SlaPolicy,
    TicketStatusChange,
)
from inbox.models.social import SocialConversation
from inbox.models.tickets import (
    PRIORITIES,
    STATUS_CATEGORIES,
    Ticket,
    TicketLink,
    TicketStatus,
    TicketTag,
)
from inbox.models.types import utcnow
from inbox.models.views import SavedView
from inbox.models.work import HealthAlert, Outbox, Timer
from inbox.models.workspace import Macro, Notification, TicketMerge, TicketRead

__all__ = [
    "PRIORITIES",
    "ROLES",
    "SLA_TARGETS",
    "STATUS_CATEGORIES",
    "Agent",
    "AgentChatStatus",
    "AgentSession",
    "ApiToken",
    "Attachment",
    "AuditEvent",
    "BusinessCalendar",
    "CallNote",
    "Channel",
    "ChatConversation",
    "ChatEntry",
    "ChatVisitor",
    "Customer",
    "CustomerIdentity",
    "CustomerTag",
    "DirectoryAccount",
    "DirectoryCode",
    "FollowupSettings",
    "HealthAlert",
    "HelpArticle",
    "HelpCategory",
    "HelpCategoryName",
    "HelpCentreState",
    "HelpFeedback",
    "HelpImage",
    "HelpSearchMiss",
    "HelpVisit",
    "IdentityProof",
    "InboundItem",
    "Macro",
    "Message",
    "Notification",
    "OneTimeCode",
    "Outbox",
    "PortalLink",
    "PortalSession",
    "RecoveryCode",
    "SatisfactionSurvey",
    "SavedView",
    "SignInDevice",
    "SlaAlert",
    "SlaAlertMail",
    "SlaClock",
    "SlaClockEvent",
    "SlaEscalationRule",
    "SlaPolicy",
    "SocialConversation",
    "Team",
    "TeamMember",
    "Ticket",
    "TicketLink",
    "TicketMerge",
    "TicketRead",
    "TicketSnooze",
    "TicketStatus",
    "TicketStatusChange",
    "TicketTag",
    "Timer",
    "UnlockRequest",
    "utcnow",
]
