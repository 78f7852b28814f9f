"""Macros and canned responses: defined by managers and administrators, applied by agents.

A macro's text may name a few placeholders (``{{customer.name}}``, ``{{ticket.reference}}``,
``{{agent.name}}`` …). They are filled by one pass of plain substitution: the text never goes
through a template engine, a value is never substituted again, and an unknown placeholder or
any other brace stays as written. The result is plain text, escaped wherever it is shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlmodel import Session, col, select

from inbox.actions.audit import record_audit
from inbox.actions.tickets import update_ticket
from inbox.actions.timeline import record_system_event
from inbox.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from inbox.models import (
    PRIORITIES,
    Agent,
    Customer,
    CustomerIdentity,
    Macro,
    Ticket,
    TicketStatus,
    TicketTag,
    utcnow,
)
from inbox.models.kinds import IdentityKind

MAX_MACRO_CHARS = 20_000
MAX_TAGS = 10
PLACEHOLDER = re.compile(r"\{\{\s*([a-z]+\.[a-z_]+)\s*\}\}")
PLACEHOLDERS = (
    "customer.name",
    "customer.email",
    "ticket.reference",
    "ticket.subject",
    "agent.name",
    "agent.email",
)


def check_can_manage_macros(agent: Agent) -> None:
    if agent.role not in ("manager", "admin"):
        raise PermissionDenied("only managers and administrators define macros")


@dataclass(frozen=True)
class MacroFields:
    """What a manager types into the macro form."""

    name: str
    body: str = ""
    set_status: str | None = None
    set_priority: str | None = None
    add_tags: tuple[str, ...] = ()


def _checked(session: Session, fields: MacroFields) -> MacroFields:
    name = " ".join(fields.name.split())
    if not name:
        raise InvalidInput("a macro needs a name")
    if len(name) > 100:
        raise InvalidInput("a macro's name has at most 100 characters")
    body = fields.body.replace("\r\n", "\n").strip()
    if len(body) > MAX_MACRO_CHARS:
        raise InvalidInput(f"a macro's text has at most {MAX_MACRO_CHARS:,} characters")
    status = fields.set_status or None
    if (
        status
        and session.exec(select(TicketStatus).where(TicketStatus.name == status)).first() is None
    ):
        raise InvalidInput(f"unknown status {status!r}")
    priority = fields.set_priority or None
    if priority and priority not in PRIORITIES:
        raise InvalidInput(f"priority must be one of {', '.join(PRIORITIES)}")
    tags = tuple(sorted({_clean_tag(t) for t in fields.add_tags} - {""}))
    if len(tags) > MAX_TAGS:
        raise InvalidInput(f"a macro adds at most {MAX_TAGS} tags")
    if not body and not (status or priority or tags):
        raise InvalidInput("a macro needs text, or a change to make, or both")
    return MacroFields(name, body, status, priority, tags)


def _clean_tag(tag: str) -> str:
    cleaned = "".join(c for c in tag.strip().lower() if c.isalnum() or c in "-_:.")
    if len(cleaned) > 64:
        raise InvalidInput("a tag has at most 64 characters")
    return cleaned


def _name_taken(session: Session, name: str, except_id: int | None) -> bool:
    query = select(Macro.id).where(Macro.name == name)
    if except_id is not None:
        query = query.where(col(Macro.id) != except_id)
    return session.exec(query).first() is not None


def create_macro(session: Session, *, actor: Agent, fields: MacroFields) -> Macro:
    check_can_manage_macros(actor)
    checked = _checked(session, fields)
    if _name_taken(session, checked.name, None):
        raise Conflict(f"a macro named {checked.name!r} exists already")
    macro = Macro(
        name=checked.name,
        body=checked.body,
        set_status=checked.set_status,
        set_priority=checked.set_priority,
        add_tags=list(checked.add_tags),
        created_by_id=actor.id,
    )
    session.add(macro)
    session.flush()
    record_audit(session, "macro.create", actor=actor, target_type="macro", target_id=macro.id or 0)
    return macro


def update_macro(session: Session, *, actor: Agent, macro_id: int, fields: MacroFields) -> Macro:
    check_can_manage_macros(actor)
    macro = session.get(Macro, macro_id)
    if macro is None:
        raise NotFound("no such macro")
    checked = _checked(session, fields)
    if _name_taken(session, checked.name, macro.id):
        raise Conflict(f"a macro named {checked.name!r} exists already")
    macro.name = checked.name
    macro.body = checked.body
    macro.set_status = checked.set_status
    macro.set_priority = checked.set_priority
    macro.add_tags = list(checked.add_tags)
    macro.updated_at = utcnow()
    session.add(macro)
    record_audit(session, "macro.update", actor=actor, target_type="macro", target_id=macro_id)
    return macro


def delete_macro(session: Session, *, actor: Agent, macro_id: int) -> None:
    check_can_manage_macros(actor)
    macro = session.get(Macro, macro_id)
    if macro is None:
        raise NotFound("no such macro")
    session.delete(macro)
    record_audit(
        session,
        "macro.delete",
        actor=actor,
        target_type="macro",
        target_id=macro_id,
        detail={"name": macro.name},
    )


def placeholder_values(session: Session, ticket: Ticket, agent: Agent) -> dict[str, str]:
    customer = session.get(Customer, ticket.customer_id)
    contact = (
        session.get(CustomerIdentity, ticket.contact_identity_id)
        if ticket.contact_identity_id
        else None
    )
    email = contact.value if contact and contact.kind == IdentityKind.EMAIL else ""
    return {
        "customer.name": customer.name if customer else "",
        "customer.email": email,
        "ticket.reference": ticket.reference,
        "ticket.subject": ticket.subject,
        "agent.name": agent.name,
        "agent.email": agent.email,
    }


def fill_placeholders(text: str, values: dict[str, str]) -> str:
    """One pass: known placeholders become their values; everything else stays literal."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


@dataclass(frozen=True)
class AppliedMacro:
    macro: Macro
    text: str
    changed: bool


def apply_macro(session: Session, *, actor: Agent, ticket: Ticket, macro_id: int) -> AppliedMacro:
    """Makes the macro's changes to the ticket (as system events) and returns its text, filled
    in, for the reply box. A canned response only returns its text."""
    macro = session.get(Macro, macro_id)
    if macro is None:
        raise NotFound("no such macro")
    text = fill_placeholders(macro.body, placeholder_values(session, ticket, actor))
    if not macro.changes_ticket:
        return AppliedMacro(macro, text, changed=False)
    tags = None
    if macro.add_tags:
        current = set(session.exec(select(TicketTag.tag).where(TicketTag.ticket_id == ticket.id)))
        wanted = current | set(macro.add_tags)
        tags = sorted(wanted) if wanted != current else None
    record_system_event(session, ticket, actor, f"macro applied: {macro.name}")
    update_ticket(
        session,
        ticket,
        actor=actor,
        status=macro.set_status,
        priority=macro.set_priority,
        tags=tags,
    )
    return AppliedMacro(macro, text, changed=True)
