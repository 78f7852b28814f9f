"""Live updates in the browser: new mail shows up in an open inbox, and two agents on one
ticket see each other, without anyone reloading."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.browsing import SHOTS, signed_in_page
from tests.support.dovecot import DovecotServer
from tests.support.fixtures import MailboxUser
from tests.support.processes import Deployment
from tests.support.served import (
    add_channel,
    api_token,
    create_agent,
    customer_mail,
    wait_for_ticket,
)


def test_new_mail_appears_in_an_open_inbox_without_a_reload(
    browser: Any, server: Deployment, dovecot: DovecotServer, mailbox_user: MailboxUser
) -> None:
    create_agent(server, "alice@example.test", "Alice Agent")
    add_channel(server, mailbox_user)
    page = signed_in_page(browser, server, "alice@example.test", "/tickets")
    assert page.locator("tr.ticket-row").count() == 0
    page.evaluate("window.sameDocument = true")

    raw = customer_mail("Payment failed twice", "Both attempts were declined.")
    dovecot.append(mailbox_user.user, mailbox_user.password, raw.as_bytes())

    row = page.locator("tr.ticket-row", has_text="Payment failed twice")
    row.wait_for()
    assert row.locator("td").nth(3).inner_text() == "Maria Lopez"
    assert page.locator("td.empty").count() == 0  # "No tickets match." made way for the row
    page.wait_for_function(
        "() => document.querySelector('li[data-view=open] .count').textContent === '1'"
    )
    assert page.evaluate("window.sameDocument") is True  # no reload happened
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "live-inbox.png"), full_page=True)

    dovecot.append(
        mailbox_user.user,
        mailbox_user.password,
        customer_mail("Where is my card?", "It has not arrived.").as_bytes(),
    )
    page.locator("tr.ticket-row", has_text="Where is my card?").wait_for()
    subjects = page.locator("tr.ticket-row td.subject a").all_inner_texts()
    assert subjects == ["Where is my card?", "Payment failed twice"]  # newest on top
    assert page.htmx_errors == []
    page.context.close()


@pytest.mark.slow
def test_two_agents_on_one_ticket_see_each_other_and_who_is_typing(
    browser: Any, server: Deployment, dovecot: DovecotServer, mailbox_user: MailboxUser
) -> None:
    create_agent(server, "alice@example.test", "Alice Agent")
    create_agent(server, "carol@example.test", "Carol Agent")
    token = api_token(server, "alice@example.test")
    add_channel(server, mailbox_user)
    raw = customer_mail("Chargeback on my card", "I was charged twice.")
    dovecot.append(mailbox_user.user, mailbox_user.password, raw.as_bytes())
    reference = wait_for_ticket(server, token, "Chargeback on my card")

    alice = signed_in_page(browser, server, "alice@example.test", f"/tickets/{reference}")
    carol = signed_in_page(browser, server, "carol@example.test", f"/tickets/{reference}")
    alice.locator("#presence", has_text="Carol Agent is viewing").wait_for()
    carol.locator("#presence", has_text="Alice Agent is viewing").wait_for()
    assert "Alice Agent" not in alice.locator("#presence").inner_text()  # only the others

    carol.fill("#reply-body", "Let me check the payment log")
    alice.locator("#presence", has_text="Carol Agent is typing a reply").wait_for()
    SHOTS.mkdir(parents=True, exist_ok=True)
    alice.screenshot(path=str(SHOTS / "live-presence.png"), full_page=True)

    follow_up = customer_mail(
        "Re: Chargeback on my card",
        "Here is the second charge: 49.90 EUR.",
        In_Reply_To=str(raw["Message-ID"]),
    )
    dovecot.append(mailbox_user.user, mailbox_user.password, follow_up.as_bytes())
    for page in (alice, carol):  # both open pages show the customer's new message
        page.locator("#timeline li.msg", has_text="49.90 EUR").wait_for()
        assert page.locator("#timeline li.msg", has_text="49.90 EUR").count() == 1
    assert carol.input_value("#reply-body") == "Let me check the payment log"  # draft kept

    carol.context.close()
    # A function, compiled once: the page's policy refuses to evaluate a string again.
    alice.wait_for_function(
        "() => !document.querySelector('#presence').textContent.includes('Carol')"
    )
    assert alice.htmx_errors == []
    alice.context.close()
