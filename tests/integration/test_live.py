"""Live updates over the websocket, against real ``inbox serve`` processes and real mail.

Embedded by default (one process, the hub in memory). With ``INBOX_TEST_DATABASE=postgres
INBOX_TEST_BROKER=redis``, mail is filed by a separate ``inbox worker``, the hub is Redis
pub/sub (``INBOX_REALTIME_URL``), and presence is checked between two web processes; adding
``INBOX_TEST_REALTIME=postgres`` carries the same over PostgreSQL LISTEN/NOTIFY instead.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
import uuid
from email.message import EmailMessage
from typing import Any

import httpx
import psycopg
import pytest
import redis
from litestar.channels import Subscriber
from sqlmodel import select
from websockets.exceptions import ConnectionClosed, InvalidStatus

from inbox.db import Database
from inbox.models import Agent, Team, TeamMember
from inbox.realtime.hub import realtime_channels
from inbox.realtime.publish import Message, channel_name, open_publisher
from tests.support.dovecot import DovecotServer
from tests.support.fixtures import MailboxUser
from tests.support.isolation import own_redis_url
from tests.support.live import cookie_header, open_live, receive_until, sign_in
from tests.support.processes import Deployment
from tests.support.served import (
    WAIT,
    add_channel,
    api_token,
    create_agent,
    customer_mail,
    wait_for_ticket,
)
from tests.support.services import postgres_url, require

BROKER = os.environ.get("INBOX_TEST_BROKER", "")
pytestmark = [
    pytest.mark.services,  # served desks, and the hubs on Redis and PostgreSQL
    pytest.mark.skipif(BROKER == "amqp", reason="the live tests scale out on Redis only"),
]


def put_in_team(server: Deployment, team_name: str, *emails: str) -> None:
    """Teams have no command or page yet: set up in the database, as an administrator would."""
    db = Database(
        server.env["INBOX_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://")
    )
    with db.unit_of_work() as session:
        team = Team(name=team_name)
        session.add(team)
        session.flush()
        for email in emails:
            agent = session.exec(select(Agent).where(Agent.email == email)).one()
            session.add(TeamMember(team_id=team.id or 0, agent_id=agent.id or 0))
    db.dispose()


def deliver(dovecot: DovecotServer, mailbox: MailboxUser, mail: EmailMessage) -> None:
    dovecot.append(mailbox.user, mailbox.password, mail.as_bytes())


def reference_in(row_html: str) -> str:
    found = re.search(r'id="ticket-row-([^"]+)"', row_html)
    assert found, row_html
    return found[1]


def test_live_socket_is_refused_without_a_signed_in_browser_of_our_own_origin(
    server: Deployment,
) -> None:
    create_agent(server, "alice@example.test", "Alice")
    create_agent(server, "max@example.test", "Max Manager", role="manager")
    token = api_token(server, "alice@example.test")
    alice = cookie_header(sign_in(server.base_url, "alice@example.test"))
    # A manager must pass a second factor: after the password alone the session is pending.
    pending = cookie_header(sign_in(server.base_url, "max@example.test"))

    refused: dict[str, dict[str, Any]] = {
        "no cookie": {},
        "an API token": {"headers": {"Authorization": f"Bearer {token}"}},
        "a pending second factor": {"cookies": pending},
        "another site's page": {"cookies": alice, "origin": "http://evil.example"},
        "another port": {"cookies": alice, "origin": "http://127.0.0.1:1"},
        "no Origin header": {"cookies": alice, "origin": None},
    }
    for why, options in refused.items():
        with pytest.raises(InvalidStatus) as refusal:
            open_live(server.base_url, server, **options).close()
        assert refusal.value.response.status_code == 403, why

    with open_live(server.base_url, server, cookies=alice) as ws:
        ws.ping().wait(10)  # the same browser, from the desk's own page, is let in


def test_new_mail_reaches_the_inbox_of_agents_who_may_see_it_and_no_one_else(
    server: Deployment, dovecot: DovecotServer, mailbox_user: MailboxUser
) -> None:
    create_agent(server, "alice@example.test", "Alice")
    create_agent(server, "bob@example.test", "Bob")
    put_in_team(server, "Sales", "alice@example.test")
    put_in_team(server, "Billing", "bob@example.test")
    token = api_token(server, "alice@example.test")
    add_channel(server, mailbox_user)
    alice = open_live(
        server.base_url,
        server,
        cookies=cookie_header(sign_in(server.base_url, "alice@example.test")),
    )
    bob = open_live(
        server.base_url, server, cookies=cookie_header(sign_in(server.base_url, "bob@example.test"))
    )
    with alice, bob:
        first = customer_mail("Card declined at checkout", "My card was declined.")
        deliver(dovecot, mailbox_user, first)
        # A ticket of no team is everyone's: both inboxes get the row, at the top of the list.
        rows = {}
        for name, ws in (("alice", alice), ("bob", bob)):
            got = receive_until(ws, lambda m: "Card declined at checkout" in m, "new row")
            rows[name] = got[-1]
            assert 'hx-swap-oob="afterbegin:#ticket-rows"' in rows[name]
            assert 'class="ticket-row' in rows[name]
        reference = reference_in(rows["alice"])
        counts = receive_until(alice, lambda m: 'id="view-counts"' in m, "view counts")[-1]
        assert re.search(
            r'data-view="open">\s*<a[^>]*>All open</a>\s*<span class="count">1<', counts
        )

        # Sales takes it: it leaves Bob's list, and what happens to it next never reaches him.
        httpx.patch(
            f"{server.base_url}/api/v1/tickets/{reference}",
            json={"team": "Sales"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        ).raise_for_status()
        gone = receive_until(bob, lambda m: 'hx-swap-oob="delete"' in m, "row removal")[-1]
        assert gone == f'<tr id="ticket-row-{reference}" hx-swap-oob="delete"></tr>'

        deliver(
            dovecot,
            mailbox_user,
            customer_mail(
                "Re: Card declined at checkout",
                "It happened again, second card too.",
                In_Reply_To=str(first["Message-ID"]),
            ),
        )
        receive_until(alice, lambda m: f"ticket-row-{reference}" in m, "the row moving up")
        deliver(dovecot, mailbox_user, customer_mail("Refund question", "Where is my refund?"))
        before_sentinel = receive_until(bob, lambda m: "Refund question" in m, "the next row")
        assert not any(reference in m or "Card declined" in m for m in before_sentinel)


@pytest.mark.slow
def test_ticket_page_gets_new_messages_and_its_viewers_see_each_other(
    server: Deployment, second_web: str, dovecot: DovecotServer, mailbox_user: MailboxUser
) -> None:
    create_agent(server, "alice@example.test", "Alice")
    create_agent(server, "carol@example.test", "Carol")
    create_agent(server, "bob@example.test", "Bob")
    put_in_team(server, "Sales", "alice@example.test", "carol@example.test")
    put_in_team(server, "Billing", "bob@example.test")
    token = api_token(server, "alice@example.test")
    add_channel(server, mailbox_user)
    first = customer_mail("Chargeback", "Why was I charged twice?")
    deliver(dovecot, mailbox_user, first)
    reference = wait_for_ticket(server, token, "Chargeback")
    httpx.patch(
        f"{server.base_url}/api/v1/tickets/{reference}",
        json={"team": "Sales"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ).raise_for_status()

    bob = cookie_header(sign_in(server.base_url, "bob@example.test"))
    with pytest.raises(InvalidStatus):  # another team's ticket has no live page for Bob
        open_live(server.base_url, server, path=f"/live?ticket={reference}", cookies=bob).recv(10)

    alice_cookies = cookie_header(sign_in(server.base_url, "alice@example.test"))
    carol_cookies = cookie_header(sign_in(second_web, "carol@example.test"))
    path = f"/live?ticket={reference}"
    with open_live(server.base_url, server, path=path, cookies=alice_cookies) as alice:
        with open_live(second_web, server, path=path, cookies=carol_cookies) as carol:
            seen = receive_until(alice, lambda m: "Carol is viewing" in m, "Carol's presence")
            assert 'id="presence"' in seen[-1] and "Alice" not in seen[-1]
            receive_until(carol, lambda m: "Alice is viewing" in m, "Alice's presence")

            carol.send(json.dumps({"type": "typing", "HEADERS": {"HX-Request": "true"}}))
            receive_until(alice, lambda m: "Carol is typing a reply" in m, "Carol typing")

            deliver(
                dovecot,
                mailbox_user,
                customer_mail(
                    "Re: Chargeback",
                    "Here is my bank statement.",
                    In_Reply_To=str(first["Message-ID"]),
                ),
            )
            for ws in (alice, carol):
                entry = receive_until(ws, lambda m: "Here is my bank statement." in m, "entry")[-1]
                assert entry.startswith('<ol hx-swap-oob="beforeend:#timeline > ol.timeline">')
                assert 'class="msg kind-email dir-inbound"' in entry
                # Seen as it arrives: the composer's guard counts it seen (no "not sent").
                message_id = entry.split('id="message-')[1].split('"')[0]
                assert (
                    f'id="seen-message-id" name="seen_message_id" value="{message_id}"'
                    ' hx-swap-oob="true"'
                ) in entry
        left = receive_until(alice, lambda m: 'id="presence"' in m and "Carol" not in m, "leave")
        assert "is viewing" not in left[-1]


def test_signing_out_closes_the_live_socket(server: Deployment) -> None:
    create_agent(server, "alice@example.test", "Alice")
    browser = sign_in(server.base_url, "alice@example.test")
    with open_live(server.base_url, server, cookies=cookie_header(browser)) as ws:
        page = browser.get("/tickets")
        token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
        assert token
        browser.post("/logout", data={"_csrf_token": token[1]})
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                ws.recv(timeout=WAIT)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


def test_oversized_and_flooding_clients_are_disconnected(server: Deployment) -> None:
    create_agent(server, "alice@example.test", "Alice")
    cookies = cookie_header(sign_in(server.base_url, "alice@example.test"))
    with open_live(server.base_url, server, cookies=cookies) as ws:
        ws.send(json.dumps({"type": "viewing", "pad": "x" * 10_000}))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=WAIT)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    with open_live(server.base_url, server, cookies=cookies) as ws:
        with pytest.raises(ConnectionClosed) as closed:
            for _ in range(200):
                ws.send(json.dumps({"type": "viewing"}))
            ws.recv(timeout=WAIT)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


@pytest.mark.parametrize("kind", ["memory", "redis", "postgres"])
def test_what_a_process_publishes_reaches_the_channel_of_web_processes(kind: str) -> None:
    """A publisher, as a worker process has one, and a web process's Litestar channel: what the
    one publishes from any thread, the other hears; a message too big is never sent. When the
    web process's connection to the server drops, it connects again and hears on."""
    asyncio.run(_publish_and_hear(kind))


async def _publish_and_hear(kind: str) -> None:
    name = f"inbox-test-{uuid.uuid4().hex[:8]}"  # to find this listener's connection
    url = _realtime_url(kind, name)
    channels = realtime_channels(url)
    publisher = open_publisher(url, channels)
    heard: list[Message] = []

    async def hear(subscriber: Subscriber) -> None:
        async for payload in subscriber.iter_events():
            heard.append(json.loads(payload))

    async def publish_until_heard(ticket_id: int) -> None:
        deadline = time.monotonic() + WAIT
        message = {"type": "ticket", "kind": "changed", "ticket_id": ticket_id}
        # A subscription takes a moment to reach the server: publish until one is heard.
        while message not in heard:
            assert time.monotonic() < deadline, f"{ticket_id} never arrived"
            await asyncio.to_thread(publisher.publish, message)  # as a committing thread does
            await asyncio.sleep(0.2)

    try:
        async with channels:
            publisher.attach(asyncio.get_running_loop())
            listening = asyncio.create_task(hear(await channels.subscribe(channel_name(url))))
            await publish_until_heard(42)
            publisher.publish({"type": "ticket", "kind": "bulky", "pad": "x" * 10_000})
            await publish_until_heard(43)
            assert not any(m.get("kind") == "bulky" for m in heard)  # too big: never sent
            if kind != "memory":
                await asyncio.to_thread(_drop_connections_named, kind, name)
                await publish_until_heard(44)
            listening.cancel()
    finally:
        await asyncio.to_thread(publisher.close)


def _realtime_url(kind: str, name: str) -> str | None:
    """The hub of ``kind``; its connections carry ``name``."""
    if kind == "memory":
        return None
    if kind == "redis":
        return f"{own_redis_url()}?client_name={name}"
    url = postgres_url()
    require(None if url else "PostgreSQL is not reachable", "PostgreSQL")
    assert url is not None
    return f"{url}{'&' if '?' in url else '?'}application_name={name}"


def _drop_connections_named(kind: str, name: str) -> None:
    """The server closes this listener's connections, as on a restart or a failover."""
    if kind == "redis":
        client = redis.Redis.from_url(own_redis_url())
        ids = [c["id"] for c in client.client_list() if c.get("name") == name]
        assert ids, "no connection to drop"
        for client_id in ids:
            client.client_kill_filter(_id=client_id)
        client.close()
        return
    url = postgres_url()
    assert url is not None
    with psycopg.connect(
        url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
    ) as conn:
        dropped = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            (name,),
        ).fetchall()
    assert dropped, "no connection to drop"
