"""The inbox as agents use it: views and counts, filters, search, sorts and pages, bulk changes,
saved views, and who sees what. Runs unchanged on SQLite and on PostgreSQL
(``INBOX_TEST_DATABASE=postgres``): the search table below must give the same tickets on both."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from inbox.actions.signin.tokens import create_api_token
from inbox.actions.tickets import add_note
from inbox.db import Database
from inbox.models import (
    Agent,
    AuditEvent,
    Customer,
    Message,
    Team,
    TeamMember,
    Ticket,
    utcnow,
)
from inbox.rules.references import ALPHABET, BODY_LENGTH, check_symbol, format_reference
from inbox.settings import Settings
from tests.support.desk import (
    change_ticket,
    ingest,
    mail,
    make_agent,
    make_channel,
    make_team,
    new_ticket,
    set_ticket_columns,
    ticket_by_reference,
)
from tests.support.web import (
    Client,
    api_references,
    csrf_token,
    page_references,
    sign_in,
    walk_api_tickets,
)


def _login(client: Client, email: str) -> str:
    """Signs in; returns a CSRF token for the forms of the inbox."""
    sign_in(client, email)
    return csrf_token(client.get("/tickets").text)


def _counts(html: str) -> dict[str, int]:
    return {
        key: int(count)
        for key, count in re.findall(
            r'data-view="([^"]+)">\s*<a [^>]*>[^<]*</a>\s*<span class="count">(\d+)</span>', html
        )
    }


# --- search: one table, both backends -------------------------------------------------------


@pytest.fixture
def corpus(db: Database, settings: Settings) -> dict[str, str]:
    """Four tickets; D's message quotes A's reference."""
    channel = make_channel(db, settings)
    make_agent(db)
    refs = {
        "A": new_ticket(
            db,
            settings,
            channel,
            sender="Maria Lopez <maria@example.org>",
            subject="Refund for double charge",
            body="I was charged twice for order 4471.",
        ),
        "B": new_ticket(
            db,
            settings,
            channel,
            sender="José Müller <jose.mueller@example.net>",
            subject="Locked out",
            body="Mein Konto ist gesperrt (seit gestern).",
        ),
        "C": new_ticket(
            db,
            settings,
            channel,
            sender="Tom Becker <tom@example.com>",
            subject="Card declined at NEAR store",
            body='The terminal said "error: -5" and (again) *declined* it.',
        ),
    }
    refs["D"] = new_ticket(
        db,
        settings,
        channel,
        sender="Aiko Tanaka <aiko@example.jp>",
        subject="Question about fees",
        body=f"Why was a late fee charged? Same as {refs['A']} before.",
    )
    return refs


def _spellings(reference: str) -> list[str]:
    """Every way people type a reference back: case, dashes, spaces, O for 0, I or L for 1."""
    body = reference.split("-", 1)[1]
    return [
        reference,
        reference.lower(),
        reference.replace("-", ""),
        reference.replace("-", " "),
        body,
        body.replace("-", "").lower(),
        reference.replace("0", "O").replace("1", "l").lower(),
        reference.replace("0", "o").replace("1", "I"),
    ]


SEARCHES: list[tuple[str, set[str]]] = [
    ("refund", {"A"}),
    ("REFUND double", {"A"}),
    ("refu", {"A"}),
    ("double refu", {"A"}),  # the last word, still being typed, matches by prefix
    ("refu double", set()),  # the others are whole words
    ("charge", {"A", "D"}),
    ("charged twice", {"A"}),
    ("maria", {"A"}),
    ("Maria Lopez", {"A"}),
    ("maria@example.org", {"A"}),
    ("example.net", {"B"}),
    ("müller", {"B"}),
    ("MÜLLER", {"B"}),
    ("José", {"B"}),
    ("gesperrt", {"B"}),
    ("4471", {"A"}),
    # FTS syntax is text: quotes, *, NEAR, column filters, -, : and parentheses.
    ('"declined', {"C"}),
    ('"error: -5"', {"C"}),
    ("(again)", {"C"}),
    ("near", {"C"}),
    ("NEAR(card store)", {"C"}),
    ("declined*", {"C"}),
    ("card OR refund", set()),
    ("refund -double", {"A"}),
    ("subject:refund", set()),
    ("document:refund", set()),
    ("refund & !double | x", set()),
    ("'refund':*", {"A"}),
    ("nonexistentword", set()),
    ("*", {"A", "B", "C", "D"}),
    ('"" () : -', {"A", "B", "C", "D"}),
]


@pytest.mark.parametrize(("query", "expected"), SEARCHES)
def test_search_finds_the_same_tickets_on_every_backend(
    client: Client, db: Database, corpus: dict[str, str], query: str, expected: set[str]
) -> None:
    token = make_agent(db, "searcher@example.com")[1]
    found = set(api_references(client, token, q=query))
    assert found == {corpus[label] for label in expected}


def test_search_finds_a_reference_in_every_tolerated_spelling(
    client: Client, db: Database, corpus: dict[str, str]
) -> None:
    token = make_agent(db, "searcher@example.com")[1]
    for spelling in _spellings(corpus["A"]):
        found = set(api_references(client, token, q=spelling))
        # A itself, and D whose message quotes A's reference.
        assert found == {corpus["A"], corpus["D"]}, spelling
    assert set(api_references(client, token, q=f"{corpus['A'].lower()} refund")) == {corpus["A"]}


def test_search_input_is_bounded(client: Client, db: Database, corpus: dict[str, str]) -> None:
    token = make_agent(db, "searcher@example.com")[1]
    long_query = " ".join(["refund"] + [f"w{i}" * 40 for i in range(60)])
    assert api_references(client, token, q=long_query) == []  # cut, not refused and not slow
    assert api_references(client, token, q="refund " + "x" * 5000) == []


def test_search_follows_new_messages_and_renamed_customers(
    client: Client, db: Database, settings: Settings, corpus: dict[str, str]
) -> None:
    token = make_agent(db, "searcher@example.com")[1]
    assert api_references(client, token, q="chargeback") == []
    with db.unit_of_work() as session:
        ticket = session.exec(select(Ticket).where(Ticket.reference == corpus["B"])).one()
        agent = session.exec(select(Agent).where(Agent.email == "agent@example.com")).one()
        add_note(session, ticket, actor=agent, body="Customer threatens a chargeback.")
    assert api_references(client, token, q="chargeback") == [corpus["B"]]
    with db.unit_of_work() as session:
        session.execute(
            update(Customer)
            .where(col(Customer.id) == ticket.customer_id)
            .values(name="Josephine Example")
        )
    assert api_references(client, token, q="josephine") == [corpus["B"]]
    assert api_references(client, token, q="mueller") == [corpus["B"]]  # still in the address
    # A reply in a thread joins the ticket's text.
    ingest(
        db,
        settings,
        1,
        mail(
            sender="Maria Lopez <maria@example.org>",
            subject=f"Re: [{corpus['A']}] Refund",
            body="Any news about my reimbursement?",
        ),
    )
    assert corpus["A"] in api_references(client, token, q="reimbursement")


# --- views, filters and counts ---------------------------------------------------------------


@pytest.fixture
def inbox(db: Database, settings: Settings) -> dict[str, str]:
    """Tickets in every state an inbox view tells apart."""
    channel = make_channel(db, settings)
    chat = make_channel(db, settings, name="Chat", address="chat@example.com")
    me = make_agent(db, "me@example.com", name="Me Myself")[0]
    make_agent(db, "other@example.com", name="Olga Other")
    make_team(db, "Billing", me)
    refs = {}
    for label in ("mine", "unassigned", "waiting", "resolved", "breaching", "later", "chat"):
        refs[label] = new_ticket(
            db,
            settings,
            chat if label == "chat" else channel,
            sender=f"{label} <{label}@example.org>",
            subject=f"About {label}",
        )
    change_ticket(db, refs["mine"], "me@example.com", assignee_email="me@example.com", tags=["vip"])
    change_ticket(db, refs["waiting"], "me@example.com", status="waiting on customer")
    change_ticket(db, refs["resolved"], "me@example.com", status="resolved")
    change_ticket(db, refs["breaching"], "me@example.com", priority="urgent", team="Billing")
    for label in ("waiting", "resolved", "breaching", "later", "chat"):
        change_ticket(db, refs[label], "me@example.com", assignee_email="other@example.com")
    now = utcnow()
    set_ticket_columns(db, refs["breaching"], sla_due_at=now + timedelta(hours=1))
    set_ticket_columns(db, refs["later"], sla_due_at=now + timedelta(days=3))
    set_ticket_columns(db, refs["resolved"], sla_due_at=now + timedelta(minutes=5))  # met: resolved
    return refs


def test_views_show_the_right_tickets(client: Client, db: Database, inbox: dict[str, str]) -> None:
    token = make_agent(db, "admin@example.com", role="admin")[1]
    everyone = set(inbox.values())
    me_token = make_agent(db, "me2@example.com")[1]
    open_ = everyone - {inbox["resolved"]}

    def view(name: str, **params: str) -> set[str]:
        return set(api_references(client, token, view=name, **params))

    assert view("all") == everyone
    assert view("open") == open_
    assert view("unassigned") == {inbox["unassigned"]}
    assert view("waiting") == {inbox["waiting"]}
    assert view("breaching") == {inbox["breaching"]}
    assert view("open", channel="Chat") == {inbox["chat"]}
    assert view("open", team="Billing") == {inbox["breaching"]}
    assert set(api_references(client, me_token, view="mine")) == set()  # nobody gave me2 a ticket


def test_filters_combine(client: Client, db: Database, inbox: dict[str, str]) -> None:
    token = make_agent(db, "admin@example.com", role="admin")[1]

    def found(**params: str) -> set[str]:
        return set(api_references(client, token, **params))

    assert found(status="resolved") == {inbox["resolved"]}
    assert found(status="waiting on customer") == {inbox["waiting"]}
    assert found(priority="urgent") == {inbox["breaching"]}
    assert found(channel="Chat") == {inbox["chat"]}
    assert found(assignee="me@example.com") == {inbox["mine"]}
    assert found(assignee="none") == {inbox["unassigned"]}
    assert found(team="Billing") == {inbox["breaching"]}
    assert found(team="none") == set(inbox.values()) - {inbox["breaching"]}
    assert found(tag="VIP") == {inbox["mine"]}
    assert found(tag="vip", assignee="none") == set()
    assert found(q="about", channel="Support", assignee="other@example.com") == {
        inbox["waiting"],
        inbox["resolved"],
        inbox["breaching"],
        inbox["later"],
    }


def test_unknown_view_sort_or_cursor_is_refused(
    client: Client, db: Database, inbox: dict[str, str]
) -> None:
    headers = {"Authorization": f"Bearer {make_agent(db, 'a2@example.com')[1]}"}
    for params in ({"view": "secret"}, {"sort": "subject; drop"}, {"cursor": "garbage"}):
        response = client.get("/api/v1/tickets", params=params, headers=headers)
        assert response.status_code == 422 and response.json()["error"] == "invalid"
    first = client.get("/api/v1/tickets", params={"limit": 1}, headers=headers).json()
    other_sort = {"limit": 1, "sort": "created", "cursor": first["next_cursor"]}
    assert client.get("/api/v1/tickets", params=other_sort, headers=headers).status_code == 422


def test_inbox_page_shows_views_with_counts_and_refetchable_counts(
    client: Client, db: Database, inbox: dict[str, str]
) -> None:
    _login(client, "me@example.com")
    page = client.get("/tickets").text
    counts = _counts(page)
    assert "all" not in counts and counts["open"] == 6 and counts["mine"] == 1
    assert counts["unassigned"] == 1 and counts["waiting"] == 1 and counts["breaching"] == 1
    assert counts["channel:Chat"] == 1 and counts["team:Billing"] == 1
    assert 'hx-trigger="every 30s' in page
    change_ticket(db, inbox["unassigned"], "me@example.com", assignee_email="me@example.com")
    fragment = client.get("/inbox/counts").text
    assert "<html" not in fragment
    assert _counts(fragment)["mine"] == 2 and _counts(fragment)["unassigned"] == 0
    mine = client.get("/tickets?view=mine").text
    assert set(page_references(mine)) == {inbox["mine"], inbox["unassigned"]}


def test_search_box_and_filters_in_the_page(
    client: Client, db: Database, inbox: dict[str, str]
) -> None:
    _login(client, "me@example.com")
    assert page_references(client.get("/tickets", params={"q": "about chat"}).text) == [
        inbox["chat"]
    ]
    rows = client.get(
        "/tickets", params={"status": "resolved"}, headers={"HX-Request": "true"}
    ).text
    assert "<html" not in rows and page_references(rows) == [inbox["resolved"]]


# --- sorts and keyset pages -------------------------------------------------------------------


def test_every_sort_pages_through_ties_without_losing_or_repeating(
    client: Client, db: Database, settings: Settings
) -> None:
    channel = make_channel(db, settings)
    token = make_agent(db, "admin@example.com", role="admin")[1]
    same = utcnow().replace(microsecond=0)
    refs = [new_ticket(db, settings, channel, subject=f"tie {n}") for n in range(7)]
    priorities = ["low", "urgent", "normal", "urgent", "high", "urgent", "low"]
    for n, ref in enumerate(refs):
        change_ticket(db, ref, "admin@example.com", priority=priorities[n])
    dues = [None, same, same + timedelta(hours=1), None, same, None, same]
    for n, ref in enumerate(refs):
        set_ticket_columns(db, ref, created_at=same, updated_at=same, sla_due_at=dues[n])
    ids = {ref: ticket_by_reference(db, ref).id or 0 for ref in refs}

    newest_first = sorted(refs, key=lambda r: -ids[r])
    assert walk_api_tickets(client, token, limit=2, sort="updated") == newest_first
    assert walk_api_tickets(client, token, limit=2, sort="created") == newest_first
    assert walk_api_tickets(client, token, limit=2, sort="newest") == newest_first
    assert walk_api_tickets(client, token, limit=2, sort="newest", q="tie") == newest_first
    rank = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
    by_priority = sorted(refs, key=lambda r: (rank[priorities[refs.index(r)]], ids[r]))
    assert walk_api_tickets(client, token, limit=2, sort="priority") == by_priority
    due_of = dict(zip(refs, dues, strict=True))
    timed = sorted((r for r in refs if due_of[r]), key=lambda r: (str(due_of[r]), ids[r]))
    untimed = sorted((r for r in refs if due_of[r] is None), key=lambda r: ids[r])
    assert walk_api_tickets(client, token, limit=2, sort="sla") == timed + untimed


def test_pages_in_the_browser_follow_the_cursor(
    client: Client, db: Database, settings: Settings
) -> None:
    channel = make_channel(db, settings)
    make_agent(db, "me@example.com")
    refs = [new_ticket(db, settings, channel, subject=f"many {n}") for n in range(55)]
    _login(client, "me@example.com")
    first = client.get("/tickets").text
    assert len(page_references(first)) == 50
    more = re.search(r'hx-get="(/tickets\?cursor=[^"]+)"', first)
    assert more
    rest = client.get(more.group(1).replace("&amp;", "&"), headers={"HX-Request": "true"}).text
    assert set(page_references(first)) | set(page_references(rest)) == set(refs)
    assert len(page_references(rest)) == 5 and "More" not in rest


# --- who sees what ------------------------------------------------------------------------------


@pytest.fixture
def teams(db: Database, settings: Settings) -> dict[str, str]:
    channel = make_channel(db, settings)
    agent = make_agent(db, "agent@example.com")[0]
    manager = make_agent(db, "manager@example.com", role="manager")[0]
    make_agent(db, "admin@example.com", role="admin")
    make_team(db, "Billing", agent)
    make_team(db, "Fraud", manager)
    refs = {
        label: new_ticket(
            db, settings, channel, subject=f"scoped {label}", sender=f"{label}@example.org"
        )
        for label in ("billing", "fraud", "noteam", "fraud_mine")
    }
    change_ticket(db, refs["billing"], "admin@example.com", team="Billing")
    change_ticket(db, refs["fraud"], "admin@example.com", team="Fraud")
    change_ticket(
        db,
        refs["fraud_mine"],
        "admin@example.com",
        team="Fraud",
        assignee_email="agent@example.com",
    )
    return refs


def test_agents_see_their_teams_unteamed_and_assigned_tickets_everywhere(
    client: Client, db: Database, teams: dict[str, str]
) -> None:
    token = make_agent(db, "agent-api@example.com")[1]
    with db.unit_of_work() as session:
        billing = session.exec(select(Team).where(Team.name == "Billing")).one()
        agent = session.exec(select(Agent).where(Agent.email == "agent-api@example.com")).one()
        session.add(TeamMember(team_id=billing.id or 0, agent_id=agent.id or 0))
    assert set(api_references(client, token)) == {teams["billing"], teams["noteam"]}
    assert api_references(client, token, q="scoped fraud") == []  # search is scoped too
    _login(client, "agent@example.com")
    page = client.get("/tickets").text
    assert set(page_references(page)) == {teams["billing"], teams["noteam"], teams["fraud_mine"]}
    assert _counts(page)["open"] == 3 and "team:Fraud" not in _counts(page)
    assert page_references(client.get("/tickets?q=fraud").text) == [teams["fraud_mine"]]


def test_managers_see_their_teams_and_administrators_everything(
    client: Client, db: Database, teams: dict[str, str]
) -> None:
    with db.unit_of_work() as session:
        manager = session.exec(select(Agent).where(Agent.email == "manager@example.com")).one()
        admin = session.exec(select(Agent).where(Agent.email == "admin@example.com")).one()
        manager_token = create_api_token(session, manager)
        admin_token = create_api_token(session, admin)
    assert set(api_references(client, manager_token)) == {
        teams["fraud"],
        teams["fraud_mine"],
        teams["noteam"],
    }
    assert set(api_references(client, admin_token)) == set(teams.values())
    assert set(api_references(client, admin_token, q="scoped")) == set(teams.values())


# --- bulk changes ------------------------------------------------------------------------------


def test_bulk_assign_and_status_change_each_ticket_with_its_own_event(
    client: Client, db: Database, inbox: dict[str, str]
) -> None:
    csrf = _login(client, "me@example.com")
    chosen = [inbox["unassigned"], inbox["later"]]
    response = client.post(
        "/inbox/bulk",
        data={
            "ticket": chosen,
            "set_assignee": "me@example.com",
            "set_status": "waiting on customer",
            "set_priority": "high",
            "add_tags": "refund, vip",
            "view": "open",
            "_csrf_token": csrf,
        },
        headers={"HX-Request": "true", "HX-Target": "inbox-list"},
    )
    assert response.status_code == 200 and "Changed 2 tickets." in response.text
    assert "inbox-changed" in response.headers["hx-trigger-after-settle"]
    for reference in chosen:
        ticket = ticket_by_reference(db, reference)
        assert ticket.status_category == "waiting_on_customer" and ticket.priority == "high"
        with db.reading() as session:
            events = session.exec(
                select(Message.body_text).where(
                    Message.ticket_id == ticket.id, Message.kind == "system"
                )
            ).all()
        assert any("me@example.com" in e and "waiting on customer" in e for e in events)
    token = make_agent(db, "admin@example.com", role="admin")[1]
    assert set(api_references(client, token, tag="refund")) == set(chosen)
    client.post(
        "/inbox/bulk",
        data={"ticket": chosen, "remove_tags": "refund", "_csrf_token": csrf},
    )
    assert api_references(client, token, tag="refund") == []
    assert set(api_references(client, token, tag="vip")) == {*chosen, inbox["mine"]}


def test_bulk_change_needs_csrf_and_is_all_or_nothing(
    client: Client, db: Database, settings: Settings, inbox: dict[str, str]
) -> None:
    csrf = _login(client, "me@example.com")
    no_token = client.post(
        "/inbox/bulk", data={"ticket": [inbox["unassigned"]], "set_status": "resolved"}
    )
    assert no_token.status_code == 403
    make_team(db, "Secret")
    change_ticket(db, inbox["later"], "other@example.com", team="Secret")  # not visible to me
    hidden = client.post(
        "/inbox/bulk",
        data={
            "ticket": [inbox["unassigned"], inbox["later"]],
            "set_status": "resolved",
            "_csrf_token": csrf,
        },
    )
    assert hidden.status_code == 404
    bad = client.post(
        "/inbox/bulk",
        data={"ticket": [inbox["unassigned"]], "set_assignee": "nobody@x.org", "_csrf_token": csrf},
    )
    assert bad.status_code == 422 and "no such agent" in bad.text
    assert ticket_by_reference(db, inbox["unassigned"]).status_category == "new"
    assert ticket_by_reference(db, inbox["unassigned"]).assignee_id is None


# --- saved views -------------------------------------------------------------------------------


def test_saved_views_personal_and_shared(
    client: Client, db: Database, inbox: dict[str, str]
) -> None:
    csrf = _login(client, "me@example.com")
    for name, shared in (("My urgent", ""), ("Team VIPs", "on")):
        params = {"priority": "urgent"} if name == "My urgent" else {"tag": "vip", "sort": "sla"}
        saved = client.post(
            "/inbox/views",
            data={**params, "name": name, "shared": shared, "view": "open", "_csrf_token": csrf},
            follow_redirects=False,
        )
        assert saved.status_code == 303
    page = client.get("/tickets").text
    counts = _counts(page)
    mine = re.search(r'data-view="(saved:\d+)">\s*<a href="([^"]+)">My urgent', page)
    assert mine and "priority=urgent" in mine.group(2) and counts[mine.group(1)] == 1
    assert page_references(client.get(mine.group(2).replace("&amp;", "&")).text) == [
        inbox["breaching"]
    ]
    client.cookies.clear()
    other_csrf = _login(client, "other@example.com")
    other_page = client.get("/tickets").text
    assert "Team VIPs" in other_page and "My urgent" not in other_page
    view_id = mine.group(1).split(":")[1]
    refused = client.post(f"/inbox/views/{view_id}/delete", data={"_csrf_token": other_csrf})
    assert refused.status_code == 404
    client.cookies.clear()
    csrf = _login(client, "me@example.com")
    client.post(f"/inbox/views/{view_id}/delete", data={"_csrf_token": csrf})
    assert "My urgent" not in client.get("/tickets").text


# --- bulk merge --------------------------------------------------------------------------------


def _messages(db: Database, reference: str) -> list[str]:
    """The texts of a ticket's messages, system events included."""
    ticket = ticket_by_reference(db, reference)
    with db.reading() as session:
        return list(
            session.exec(
                select(Message.body_text)
                .where(Message.ticket_id == ticket.id)
                .order_by(col(Message.id))
            ).all()
        )


def _unknown_reference(settings: Settings) -> str:
    """Well formed, with a valid check symbol, and no ticket's."""
    body = ALPHABET[2] * BODY_LENGTH
    return format_reference(settings.reference_prefix, body + check_symbol(body))


def test_bulk_merge_moves_each_ticket_into_the_target_as_a_single_merge_would(
    client: Client, db: Database, inbox: dict[str, str]
) -> None:
    csrf = _login(client, "me@example.com")
    target = inbox["chat"]
    chosen = [inbox["unassigned"], inbox["later"], target]  # the target, selected too, is left be
    before = {r: _messages(db, r) for r in chosen}
    response = client.post(
        "/inbox/bulk",
        data={
            "ticket": chosen,
            "action": "merge",
            "into": _spellings(target)[-1],
            "view": "open",
            "_csrf_token": csrf,
        },
        headers={"HX-Request": "true", "HX-Target": "inbox-list"},
    )
    assert response.status_code == 200, response.text
    assert f"Merged 2 tickets into {target}." in response.text
    assert "inbox-changed" in response.headers["hx-trigger-after-settle"]
    on_target = _messages(db, target)
    for source in chosen[:2]:
        ticket = ticket_by_reference(db, source)
        assert ticket.status_category == "closed"
        left = _messages(db, source)
        assert len(left) == 1 and f"merged into {target}" in left[0]
        assert all(m in on_target for m in before[source])
        assert any(f"merged from {source} ({len(before[source])} message" in m for m in on_target)
    assert ticket_by_reference(db, target).status_category != "closed"
    with db.reading() as session:
        audit = session.exec(select(AuditEvent).where(AuditEvent.action == "ticket.merge")).all()
    assert sorted(a.target_id for a in audit) == sorted(chosen[:2])
    assert {a.detail["into"] for a in audit} == {target}
    # Merged once, never twice: the whole request is refused.
    again = client.post(
        "/inbox/bulk",
        data={
            "ticket": [inbox["waiting"], inbox["unassigned"]],
            "action": "merge",
            "into": target,
            "_csrf_token": csrf,
        },
    )
    assert again.status_code == 422 and "already merged" in again.text
    assert ticket_by_reference(db, inbox["waiting"]).status_category == "waiting_on_customer"


def test_bulk_merge_needs_csrf_and_a_target_the_agent_may_see(
    client: Client, db: Database, settings: Settings, inbox: dict[str, str]
) -> None:
    csrf = _login(client, "me@example.com")
    chosen = [inbox["unassigned"], inbox["waiting"]]
    form = {"ticket": chosen, "action": "merge", "into": inbox["mine"]}
    assert client.post("/inbox/bulk", data=form).status_code == 403
    make_team(db, "Secret")
    change_ticket(db, inbox["later"], "other@example.com", team="Secret")  # not visible to me
    before = {r: _messages(db, r) for r in inbox.values()}
    hidden = client.post("/inbox/bulk", data={**form, "into": inbox["later"], "_csrf_token": csrf})
    unknown = client.post(
        "/inbox/bulk", data={**form, "into": _unknown_reference(settings), "_csrf_token": csrf}
    )
    for refused in (hidden, unknown):  # the same answer: a hidden ticket is not revealed
        assert refused.status_code == 422 and "no ticket with that reference" in refused.text
    hidden_source = client.post(
        "/inbox/bulk",
        data={**form, "ticket": [*chosen, inbox["later"]], "_csrf_token": csrf},
    )
    assert hidden_source.status_code == 404
    only_target = client.post(
        "/inbox/bulk", data={**form, "ticket": [inbox["mine"]], "_csrf_token": csrf}
    )
    assert only_target.status_code == 422 and "other than" in only_target.text
    assert {r: _messages(db, r) for r in inbox.values()} == before
    assert ticket_by_reference(db, inbox["unassigned"]).status_category == "new"
    assert ticket_by_reference(db, inbox["waiting"]).status_category == "waiting_on_customer"
    with db.reading() as session:
        assert (
            session.exec(select(AuditEvent).where(AuditEvent.action == "ticket.merge")).all() == []
        )


# --- the page's weight and its compact rows ---------------------------------------------------


def test_the_inbox_at_fifty_rows_stays_under_60_kb_and_shows_each_last_message_s_first_line(
    client: Client, db: Database, settings: Settings
) -> None:
    channel = make_channel(db, settings)
    make_agent(db)
    for n in range(51):
        new_ticket(
            db,
            settings,
            channel,
            sender=f"Customer Number{n} With A Long Name <customer{n}@example.org>",
            subject=f"Question {n} about the instalments of my loan and the fees on my card",
            body=f"\nMy payment number {n} is missing from the statement.\n"
            + "More words on the second line. " * 40,
        )
    sign_in(client)
    page = client.get("/tickets")
    assert page.text.count('class="ticket-row ') == 50
    assert len(page.content) < 60_000, len(page.content)
    # The row shows the first line that has words, not the whole message.
    assert '<span class="preview">My payment number 50 is missing from the statement.</span>' in (
        page.text
    )
    assert "More words on the second line" not in page.text


def test_a_ticket_is_unread_for_each_agent_until_they_open_it_and_again_when_the_customer_writes(
    client: Client, db: Database, settings: Settings
) -> None:
    channel = make_channel(db, settings)
    make_agent(db)
    make_agent(db, "colleague@example.com", name="Cleo Colleague")
    reference = new_ticket(db, settings, channel, subject="Locked out", body="Please help.")

    def unread(page: str) -> bool:
        row = re.search(rf'<tr class="ticket-row[^"]*"[^>]*id="ticket-row-{reference}"', page)
        assert row, page
        return " unread" in row.group(0)

    sign_in(client)
    assert unread(client.get("/tickets").text)
    client.get(f"/tickets/{reference}")  # opening it reads it, in the pane or as a page
    assert not unread(client.get("/tickets").text)
    assert 'class="unread-mark"' not in client.get("/tickets").text

    with Client(client.app) as other:  # another agent has not opened it
        sign_in(other, "colleague@example.com")
        assert unread(other.get("/tickets").text)

    ingest(db, settings, channel, mail(subject=f"Re: Locked out [{reference}]", body="Still?"))
    page = client.get("/tickets").text
    assert page.count('class="ticket-row ') == 1  # the same ticket, now unread again
    assert unread(page)
