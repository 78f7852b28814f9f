"""The portal's live socket against real ``inbox serve`` processes, with a real websocket
client: a customer's open portal page hears of the agent's replies and status changes on
their own tickets, and of nothing else (another customer's ticket, an internal note).

Embedded by default (one process, the hub in memory). With ``INBOX_TEST_DATABASE=postgres
INBOX_TEST_BROKER=redis`` the customer's socket is on a second web process and the agent
writes through the first: the change travels between them over Redis.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection

from inbox.web.live.updates import SESSION_CHECK_SECONDS
from inbox.web.portal.session import PORTAL_COOKIE
from tests.support.desks import BROKER
from tests.support.live import cookie_header, open_live, receive_until, sign_in
from tests.support.portal import BOB, MARIA, open_tickets, portal_cookie
from tests.support.processes import Deployment
from tests.support.served import WAIT, api, api_token, create_agent

pytestmark = [
    pytest.mark.services,  # served desks, and the hub on Redis
    pytest.mark.skipif(BROKER == "amqp", reason="the live tests scale out on Redis only"),
]
QUIET_SECONDS = 2.0


def open_portal(address: str, server: Deployment, cookies: str, **options: Any) -> ClientConnection:
    return open_live(address, server, path="/portal/live", cookies=cookies, **options)


def nothing_arrives(ws: ClientConnection, seconds: float = QUIET_SECONDS) -> None:
    with pytest.raises(TimeoutError):
        message = ws.recv(timeout=seconds)
        raise AssertionError(f"unexpected push: {message}")


def test_the_portal_socket_is_refused_without_the_customers_own_session_and_page(
    server: Deployment,
) -> None:
    refs = open_tickets(server)
    create_agent(server, "alice@example.test", "Alice")
    maria = portal_cookie(server, MARIA)
    agent = cookie_header(sign_in(server.base_url, "alice@example.test"))
    refused: dict[str, dict[str, Any]] = {
        "no cookie": {"cookies": ""},
        "an agent's session": {"cookies": agent},
        "a made-up portal session": {"cookies": f"{PORTAL_COOKIE}=made-up"},
        "another site's page": {"cookies": maria, "origin": "http://evil.example"},
        "no Origin header": {"cookies": maria, "origin": None},
    }
    for why, options in refused.items():
        with pytest.raises(InvalidStatus) as refusal:
            open_portal(server.base_url, server, **options).close()
        assert refusal.value.response.status_code == 403, why
    for path in (f"/portal/live?ticket={refs['bob']}", "/portal/live?ticket=HD-0000-0000"):
        with pytest.raises(InvalidStatus) as refusal:  # Bob's ticket: as if it did not exist
            open_live(server.base_url, server, path=path, cookies=maria).close()
        assert refusal.value.response.status_code == 403, path
    with open_portal(server.base_url, server, maria) as ws:
        ws.ping().wait(10)


def test_customer_a_hears_the_agents_reply_and_status_and_customer_b_hears_nothing(
    server: Deployment, second_web: str, tmp_path: Path
) -> None:
    refs = open_tickets(server)
    create_agent(server, "alice@example.test", "Alice Agent")
    agent = {"Authorization": f"Bearer {api_token(server, 'alice@example.test')}"}
    maria, bob = portal_cookie(server, MARIA), portal_cookie(server, BOB)
    ticket_path = f"/portal/live?ticket={refs['maria']}"
    # Scaled out, the customers' pages are served by the second web process.
    maria_page = open_live(second_web, server, path=ticket_path, cookies=maria)
    maria_list = open_portal(second_web, server, maria)
    bob_list = open_portal(second_web, server, bob)
    with maria_page, maria_list, bob_list:
        api(server, agent, "POST", f"/tickets/{refs['maria']}/notes", json={"body": "VIP, be kind"})
        api(
            server,
            agent,
            "POST",
            f"/tickets/{refs['maria']}/replies",
            json={"body": "Your card is unblocked now."},
        )
        seen = receive_until(maria_page, lambda m: "Your card is unblocked now." in m, "reply")
        assert not any("VIP" in m for m in seen)  # the note committed first, and never came
        entry = seen[-1]
        assert entry.startswith('<ol hx-swap-oob="beforeend:#portal-messages">')
        assert re.search(r'<li class="msg dir-outbound" id="message-\d+">', entry)
        assert "Alice Agent" in entry and "internal" not in entry

        row = receive_until(maria_list, lambda m: refs["maria"] in m, "the list's row")[-1]
        assert row.startswith('<ul hx-swap-oob="afterbegin:#portal-tickets">')
        assert f'id="portal-ticket-{refs["maria"]}"' in row and "Card blocked" in row

        api(server, agent, "PATCH", f"/tickets/{refs['maria']}", json={"status": "resolved"})
        status = receive_until(maria_page, lambda m: 'id="portal-status"' in m, "the status")[-1]
        assert 'hx-swap-oob="true"' in status and ">Solved</span>" in status
        receive_until(maria_list, lambda m: ">Solved</span>" in m, "the row's new status")

        # A note alone changes nothing the customer sees: nothing is pushed at all.
        api(server, agent, "POST", f"/tickets/{refs['maria']}/notes", json={"body": "closed ok"})
        nothing_arrives(maria_page)
        nothing_arrives(maria_list, 0.5)

        # Bob heard nothing of Maria's ticket: his first push is his own ticket's row.
        api(server, agent, "POST", f"/tickets/{refs['bob']}/replies", json={"body": "Refunded."})
        heard = receive_until(bob_list, lambda m: refs["bob"] in m, "Bob's own row")
        assert len(heard) == 1
        assert refs["maria"] not in heard[0] and "Card blocked" not in heard[0]
        nothing_arrives(maria_page, 0.5)  # and Maria's page hears nothing of Bob's


def test_signing_out_of_the_portal_closes_its_socket(server: Deployment) -> None:
    open_tickets(server)
    maria = portal_cookie(server, MARIA)
    browser = httpx.Client(base_url=server.base_url, timeout=10)
    browser.cookies.set(*maria.split("=", 1))
    page = browser.get("/portal/tickets")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert page.status_code == 200 and token
    with open_portal(server.base_url, server, maria) as ws:
        browser.post("/portal/sign-out", data={"_csrf_token": token[1]})
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=SESSION_CHECK_SECONDS + WAIT)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
