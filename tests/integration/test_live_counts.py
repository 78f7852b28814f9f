"""The sidebar's counts on an agent's live inbox list go out again only when one of them
moved: most changes (a customer's next message on an open ticket) move none, and with many
agents online every unchanged sidebar would be rendered and sent for nothing."""

from __future__ import annotations

import re
from typing import Any

from markupsafe import Markup

from inbox.models import Agent
from inbox.queries.tickets import TicketFilters, viewer_for
from inbox.web.live.connections import Connection
from inbox.web.live.updates import LiveUpdates
from tests.support.desk import make_agent, make_channel, new_ticket
from tests.support.desks import InProcessDesk

ALL_OPEN = re.compile(r'data-view="open">\s*<a[^>]*>All open</a>\s*<span class="count">(\d+)<')


def _all_open(html: str) -> int:
    found = ALL_OPEN.search(html)
    assert found, html
    return int(found.group(1))


def test_an_agents_list_is_sent_its_counts_again_only_when_one_moved(desk: InProcessDesk) -> None:
    live: LiveUpdates = desk.app.state.live
    channel = make_channel(desk.db, desk.settings)
    agent_id, _token = make_agent(desk.db)
    reference = new_ticket(desk.db, desk.settings, channel, subject="Locked out", sender="a@x.org")
    with desk.db.reading() as session:
        agent = session.get(Agent, agent_id)
        assert agent is not None
        viewer = viewer_for(session, agent)
    socket: Any = None
    conn = Connection(socket, agent, viewer, "", Markup(""), "key", filters=TicketFilters())

    first = live.render_counts(conn)
    assert first is not None and _all_open(first) == 1
    assert live.render_counts(conn) is None  # nothing changed

    # The customer writes again on the same ticket: its row changes, no count does.
    new_ticket(
        desk.db, desk.settings, channel, subject=f"Re: Locked out [{reference}]", sender="a@x.org"
    )
    assert live.render_counts(conn) is None

    new_ticket(desk.db, desk.settings, channel, subject="Card declined", sender="b@x.org")
    moved = live.render_counts(conn)
    assert moved is not None and _all_open(moved) == 2
