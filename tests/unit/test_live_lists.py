"""What a web process sends an agent's live inbox list: each changed ticket once per batch,
and nothing for a ticket the list cannot show (its scope or view rules it out)."""

from __future__ import annotations

from typing import Any

from inbox.queries.tickets import TicketFilters, Viewer
from inbox.web.live.connections import Connection, could_list, merged

ME, COLLEAGUE, MY_TEAM, OTHER_TEAM = 7, 8, 3, 4


def _list(view: str = "all", role: str = "agent") -> Connection:
    viewer = Viewer(agent_id=ME, email="me@example.com", role=role, team_ids=frozenset({MY_TEAM}))
    socket: Any = None
    agent: Any = None
    return Connection(socket, agent, viewer, "", "", "key", filters=TicketFilters(view=view))  # type: ignore[arg-type]


def test_a_batch_of_changes_becomes_one_message_per_ticket_in_order() -> None:
    batch = [
        {"type": "ticket", "kind": "changed", "ticket_id": 1, "messages": [10]},
        {"type": "ticket", "kind": "created", "ticket_id": 2, "messages": [20]},
        {"type": "ticket", "kind": "changed", "ticket_id": 1, "messages": [10, 11]},
        {"type": "presence_refresh"},
    ]
    assert merged(batch) == [
        {"type": "ticket", "kind": "changed", "ticket_id": 1, "messages": [10, 11]},
        {"type": "ticket", "kind": "created", "ticket_id": 2, "messages": [20]},
    ]
    assert merged([{"type": "ticket", "kind": "changed", "ticket_id": 5, "messages": []},
                   {"type": "ticket", "kind": "created", "ticket_id": 5, "messages": [50]}]) == [
        {"type": "ticket", "kind": "created", "ticket_id": 5, "messages": [50]}
    ]  # fmt: skip


def test_my_tickets_list_hears_only_of_tickets_assigned_to_me() -> None:
    mine = _list("mine")
    assert could_list(mine, ME, None)
    assert could_list(mine, ME, OTHER_TEAM)  # assigned to me: in scope whatever its team
    assert not could_list(mine, COLLEAGUE, MY_TEAM)
    assert not could_list(mine, None, None)


def test_the_unassigned_list_and_an_agents_scope() -> None:
    unassigned = _list("unassigned")
    assert could_list(unassigned, None, MY_TEAM) and could_list(unassigned, None, None)
    assert not could_list(unassigned, COLLEAGUE, MY_TEAM)
    assert not could_list(unassigned, None, OTHER_TEAM)  # another team's: out of scope
    everything = _list("all")
    assert could_list(everything, COLLEAGUE, MY_TEAM) and could_list(everything, None, None)
    assert not could_list(everything, COLLEAGUE, OTHER_TEAM)
    assert could_list(_list("all", role="admin"), COLLEAGUE, OTHER_TEAM)
    assert could_list(_list("open"), COLLEAGUE, None)  # the query decides the rest
