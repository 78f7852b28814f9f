"""The ``sla_countdown`` template function: an inbox row's SLA countdown, rendered on the
server (pages and live pushes alike share the template engine it is registered on)."""

from __future__ import annotations

from litestar.plugins.jinja import JinjaTemplateEngine

from inbox.models import Ticket, utcnow
from inbox.queries.tickets import BREACHING_SOON, ListedTicket
from inbox.rules.sla_countdown import Countdown, countdown, running_due_at


def sla_countdown(ticket: Ticket | ListedTicket) -> Countdown | None:
    due_at = running_due_at(ticket.status_category, ticket.sla_due_at)
    if due_at is None:
        return None
    return countdown(due_at, utcnow(), soon=BREACHING_SOON)


def register_template_functions(engine: JinjaTemplateEngine) -> None:
    engine.engine.globals["sla_countdown"] = sla_countdown
