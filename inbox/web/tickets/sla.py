"""A ticket's SLA clocks and their transitions."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Template

from inbox.actions.tickets import can_see_ticket
from inbox.db import Database
from inbox.errors import NotFound
from inbox.models import utcnow
from inbox.queries.sla import sla_timeline
from inbox.queries.tickets import find_ticket
from inbox.settings import Settings


class TicketSlaPages(Controller):
    """A ticket's clocks and transitions: the fragment the ticket page loads, or a page."""

    path = "/tickets"
    include_in_schema = False

    @get("/{reference:str}/sla", sync_to_thread=True)
    def clocks(
        self,
        request: HTMXRequest,
        reference: FromPath[str],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
    ) -> Template:
        with db.reading() as session:
            ticket = find_ticket(session, reference, settings.reference_prefix)
            if not can_see_ticket(session, request.user, ticket):
                raise NotFound("no such ticket")
            timeline = sla_timeline(session, ticket.id or 0, utcnow())
        context = {"ticket": ticket, "sla": timeline, "agent": request.user}
        if request.htmx:
            return Template("partials/sla_timeline.html", context=context)
        return Template("pages/ticket_sla.html", context=context)
