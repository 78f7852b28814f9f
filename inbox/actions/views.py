"""Saved inbox views: an agent names the current filters and sort, for themselves or all."""

from __future__ import annotations

from sqlmodel import Session, select

from inbox.errors import InvalidInput, NotFound
from inbox.models import Agent, SavedView
from inbox.queries.tickets import TicketFilters

MAX_NAME_CHARS = 80
MAX_SAVED_VIEWS = 50


def save_view(
    session: Session, *, owner: Agent, name: str, filters: TicketFilters, shared: bool
) -> SavedView:
    """Saves under ``name``; saving again under the same name replaces that view."""
    name = " ".join(name.split())
    if not name:
        raise InvalidInput("a saved view needs a name")
    if len(name) > MAX_NAME_CHARS:
        raise InvalidInput(f"a view name has at most {MAX_NAME_CHARS} characters")
    view = session.exec(
        select(SavedView).where(SavedView.owner_id == owner.id, SavedView.name == name)
    ).first()
    if view is None:
        owned = session.exec(select(SavedView.id).where(SavedView.owner_id == owner.id)).all()
        if len(owned) >= MAX_SAVED_VIEWS:
            raise InvalidInput(f"at most {MAX_SAVED_VIEWS} saved views each")
        view = SavedView(owner_id=owner.id or 0, name=name)
    view.query = filters.params()
    view.shared = shared
    session.add(view)
    session.flush()
    return view


def delete_view(session: Session, *, actor: Agent, view_id: int) -> None:
    """The owner deletes a view; an administrator may delete a shared one."""
    view = session.get(SavedView, view_id)
    allowed = view is not None and (
        view.owner_id == actor.id or (view.shared and actor.role == "admin")
    )
    if view is None or not allowed:
        raise NotFound("no such view")
    session.delete(view)
