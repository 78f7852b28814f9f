"""The inbox: views with live counts, filters, search, keyset pages, bulk changes and saved
views; and the quarantine, the mail that did not become a message, which an agent may file
as a ticket after all. One handler serves the page and its htmx fragment; every change is a
POST with CSRF."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate
from litestar.response import Redirect, Template

from inbox.actions.bulk import BulkChange, bulk_merge_tickets, bulk_update_tickets
from inbox.actions.inbound.set_aside import file_set_aside_item
from inbox.actions.views import delete_view, save_view
from inbox.blobs import BlobStore
from inbox.db import Database
from inbox.errors import DomainError, NotFound
from inbox.models import PRIORITIES, STATUS_CATEGORIES, Agent
from inbox.queries.quarantine import list_set_aside
from inbox.queries.tickets import (
    FILTER_FIELDS,
    TicketFilters,
    list_tickets,
    viewer_for,
)
from inbox.queries.views import assignable_agents, inbox_views, status_names, view_counts
from inbox.rules.references import normalize_reference
from inbox.settings import Settings
from inbox.web.forms import MultiForm, form_value, form_values, split_words

PAGE_SIZE = 50


def filters_from(values: dict[str, Any]) -> TicketFilters:
    """Only the declared fields; blank means unset."""
    chosen = {name: form_value(values, name) for name in FILTER_FIELDS}
    return TicketFilters(**{name: value for name, value in chosen.items() if value})


def inbox_url(filters: TicketFilters) -> str:
    """The inbox with these filters, in the address: to bookmark, share or come back to."""
    query = urlencode(filters.params())
    return "/tickets" + (f"?{query}" if query else "")


class InboxPages(Controller):
    include_in_schema = False

    @get("/", sync_to_thread=False)
    def home(self) -> Redirect:
        return Redirect("/tickets")

    @get("/tickets", sync_to_thread=True)
    def inbox(
        self,
        request: HTMXRequest,
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        view: FromQuery[str | None] = None,
        status: FromQuery[str | None] = None,
        priority: FromQuery[str | None] = None,
        channel: FromQuery[str | None] = None,
        assignee: FromQuery[str | None] = None,
        team: FromQuery[str | None] = None,
        tag: FromQuery[str | None] = None,
        q: FromQuery[str | None] = None,
        sort: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Template:
        filters = filters_from(
            {
                "view": view,
                "status": status,
                "priority": priority,
                "channel": channel,
                "assignee": assignee,
                "team": team,
                "tag": tag,
                "q": q,
                "sort": sort,
            }
        )
        return self._render(request, db, settings, filters, cursor=cursor)

    def _render(
        self,
        request: HTMXRequest,
        db: Database,
        settings: Settings,
        filters: TicketFilters,
        *,
        cursor: str | None = None,
        notice: str | None = None,
        error: str | None = None,
        status_code: int = 200,
    ) -> Template:
        """The full page; for htmx, the list (filters, bulk changes) or more rows (cursor)."""
        agent: Agent = request.user
        prefix = settings.reference_prefix
        with db.reading() as session:
            viewer = viewer_for(session, agent)
            page = list_tickets(
                session,
                prefix=prefix,
                filters=filters,
                viewer=viewer,
                limit=PAGE_SIZE,
                cursor=cursor,
            )
            context: dict[str, Any] = {
                "page": page,
                "filters": filters,
                "query": urlencode(filters.params()),
                "current": inbox_url(filters),
                "agent": agent,
                "notice": notice,
                "error": error,
            }
            if request.htmx and cursor:
                return HTMXTemplate(template_name="partials/ticket_rows.html", context=context)
            # The full page shows every view with its count; a fragment needs only the names.
            groups = (
                inbox_views(session, viewer)
                if request.htmx
                else view_counts(session, viewer, prefix=prefix)
            )
            context.update(
                views=groups,
                agents=assignable_agents(session),
                statuses=status_names(session),
                categories=STATUS_CATEGORIES,
                priorities=PRIORITIES,
                channel_names=[link.label for link in groups.channels],
                team_names=[link.label for link in groups.teams],
            )
            if request.htmx:
                return HTMXTemplate(
                    template_name="partials/inbox_list.html",
                    context=context,
                    status_code=status_code,
                    push_url=context["current"] if not notice and not error else False,
                    trigger_event="inbox-changed" if notice else None,
                    after="settle",
                )
        return Template("pages/tickets.html", context=context, status_code=status_code)

    @get("/inbox/counts", sync_to_thread=True)
    def counts(
        self,
        request: HTMXRequest,
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        current: FromQuery[str | None] = None,
    ) -> Template:
        """The views and their counts, re-fetched by the page every 30 seconds."""
        with db.reading() as session:
            viewer = viewer_for(session, request.user)
            views = view_counts(session, viewer, prefix=settings.reference_prefix)
        return HTMXTemplate(
            template_name="partials/view_counts.html",
            context={"views": views, "current": current or ""},
        )

    @post("/inbox/bulk", sync_to_thread=True)
    def bulk(
        self,
        request: HTMXRequest,
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        data: MultiForm,
    ) -> Response[Any]:
        """Change the selected tickets, or merge them into another (action ``merge``, target
        ``into``), then show the same list again."""
        filters = filters_from(data)
        assignee = form_value(data, "set_assignee")
        change = BulkChange(
            status=form_value(data, "set_status") or None,
            priority=form_value(data, "set_priority") or None,
            assignee_email=assignee if assignee not in ("", "none") else None,
            clear_assignee=assignee == "none",
            add_tags=frozenset(split_words(form_value(data, "add_tags"))),
            remove_tags=frozenset(split_words(form_value(data, "remove_tags"))),
        )
        references = form_values(data, "ticket")
        try:
            with db.unit_of_work() as session:
                if form_value(data, "action") == "merge":
                    merged = bulk_merge_tickets(
                        session,
                        actor=request.user,
                        references=references,
                        into=form_value(data, "into"),
                        prefix=settings.reference_prefix,
                    )
                    into = normalize_reference(form_value(data, "into"), settings.reference_prefix)
                    count = len(merged)
                    notice = f"Merged {count} ticket{'s' if count != 1 else ''} into {into}."
                else:
                    changed = bulk_update_tickets(
                        session,
                        actor=request.user,
                        viewer=viewer_for(session, request.user),
                        prefix=settings.reference_prefix,
                        references=references,
                        change=change,
                    )
                    notice = f"Changed {len(changed)} ticket{'s' if len(changed) != 1 else ''}."
        except NotFound:
            raise
        except DomainError as exc:
            return self._render(request, db, settings, filters, error=str(exc), status_code=422)
        if not request.htmx:
            return Redirect(inbox_url(filters), status_code=303)
        return self._render(request, db, settings, filters, notice=notice)

    @post("/inbox/views", sync_to_thread=True)
    def save(
        self,
        request: Request[Agent, Any, Any],
        db: NamedDependency[Database],
        data: MultiForm,
    ) -> Redirect:
        filters = filters_from(data)
        with db.unit_of_work() as session:
            save_view(
                session,
                owner=request.user,
                name=form_value(data, "name"),
                filters=filters,
                shared=form_value(data, "shared") == "on",
            )
        return Redirect(inbox_url(filters), status_code=303)

    @post("/inbox/views/{view_id:int}/delete", sync_to_thread=True)
    def delete(
        self,
        request: Request[Agent, Any, Any],
        db: NamedDependency[Database],
        view_id: FromPath[int],
    ) -> Redirect:
        with db.unit_of_work() as session:
            delete_view(session, actor=request.user, view_id=view_id)
        return Redirect("/tickets", status_code=303)

    @get("/quarantine", sync_to_thread=True)
    def quarantine(
        self, request: Request[Agent, Any, Any], db: NamedDependency[Database]
    ) -> Template:
        with db.reading() as session:
            items = list_set_aside(session)
        return Template("pages/quarantine.html", context={"items": items, "agent": request.user})

    @post("/quarantine/{item_id:int}/ticket", sync_to_thread=True)
    def file_from_quarantine(
        self,
        request: Request[Agent, Any, Any],
        item_id: FromPath[int],
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        blobs: NamedDependency[BlobStore],
    ) -> Redirect:
        """File a set-aside mail as a new ticket after all (audited), and open it."""
        with db.unit_of_work() as session:
            ticket = file_set_aside_item(
                session, settings, blobs, actor=request.user, item_id=item_id
            )
            reference = ticket.reference
        return Redirect(f"/tickets/{reference}", status_code=303)
