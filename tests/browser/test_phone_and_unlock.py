"""What a manager clicks on the phone: log a call that opens a ticket, read the reference
out, then unlock the caller's account with a code the caller reads back."""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import select

from inbox.db import Database
from inbox.models import Agent
from tests.support.browsing import SHOTS, submit_sign_in
from tests.support.desk import confirm_second_factor
from tests.support.processes import Deployment, run_cli, wait_for
from tests.support.served import load_demo_desk
from tests.support.smtp_peer import SmtpPeer


def test_call_opens_a_ticket_and_the_callers_account_is_unlocked(
    browser: Any, server: Deployment, smtp_peer: SmtpPeer
) -> None:
    load_demo_desk(server)
    run_cli(
        server.env,
        "channel",
        "add-email",
        "--name",
        "Mail out",
        "--address",
        "help@desk.example",
        "--imap",
        "imap://help%40desk.example:pw@127.0.0.1:9/INBOX",
        "--smtp",
        smtp_peer.smtp_url(),
    )
    page = browser.new_page()
    page.goto(f"{server.base_url}/login")
    submit_sign_in(page, "manager@example.com")
    page.wait_for_load_state()
    db = Database(server.env["INBOX_DATABASE_URL"])
    with db.reading() as session:
        manager = session.exec(select(Agent).where(Agent.email == "manager@example.com")).one()
    confirm_second_factor(db, manager.id or 0)  # the two-factor sign-in is tested elsewhere

    page.goto(f"{server.base_url}/calls/new")
    page.fill("input[name=name]", "Jonas Weber")
    page.fill("input[name=subject]", "Locked out of the app")
    page.fill("input[name=phone]", "+49 151 1234 5678")  # demo account acc-1004 has it on file
    page.fill("input[name=duration_minutes]", "3")
    page.select_option("select[name=outcome]", "callback_needed")
    page.fill("textarea[name=summary]", "Locked out after a new phone; wants to pay today.")
    page.click("form.call button[type=submit]")
    reference = page.locator("#new-reference").inner_text()
    assert re.fullmatch(r"HD-[0-9A-Z]{4}-[0-9A-Z]{5}", reference)
    assert page.locator("p.spoken").inner_text().startswith("Hotel Delta — ")

    page.click(f"a[href='/tickets/{reference}']")
    page.wait_for_selector("li.kind-call_note")
    assert "Locked out after a new phone" in page.locator("li.kind-call_note").inner_text()
    panel = page.locator("#customer-panel")
    panel.locator("dd.account-status").wait_for()
    assert panel.locator("dd.account-id").inner_text() == "acc-1004"
    assert panel.locator("dd.account-status").inner_text().startswith("locked")
    assert "+49 1511 2345678" in panel.locator("ul.identities").inner_text()

    panel.locator("button.send-code").click()
    page.wait_for_selector("p.notice >> text=Code sent to j***@example.de")
    [*_, code_mail] = smtp_peer.wait_for(1, timeout=20)
    assert code_mail.rcpt_tos == ("jonas.weber@example.de",)
    code = re.search(r"verification code is (\d{6})", code_mail.message.get_content())
    assert code, "no code in the mail"
    assert code.group(1) not in page.content()  # the agent never sees the code itself

    page.fill("form.verify-code input[name=code]", code.group(1))  # the caller reads it out
    page.click("form.verify-code button")
    page.wait_for_selector("p.notice >> text=Identity confirmed with the code")
    page.fill("form.unlock input[name=reason]", "Locked out after too many wrong passwords")
    page.click("form.unlock button")
    page.wait_for_selector("p.notice >> text=Unlock requested")

    def unlocked() -> bool | None:
        """The account service unlocks first; the ticket records it, and the workflow its
        end, in the desk's own transactions right after, so the page is reloaded until it
        shows all three."""
        page.reload()
        page.locator("#customer-panel dd.account-status").wait_for()
        status = page.locator("#customer-panel dd.account-status").inner_text()
        recorded = page.locator("li.kind-system", has_text="Account acc-1004 unlocked").count()
        state = page.locator("strong.unlock-state").first
        state.wait_for()
        return True if status == "active" and recorded and state.inner_text() == "done" else None

    wait_for(unlocked, timeout=20, what="the account to be unlocked", every=0.5)
    assert page.locator("li.kind-system", has_text="Account acc-1004 unlocked").count() == 1
    notice = next(
        r
        for r in smtp_peer.wait_for(2, timeout=20)
        if r.message["Subject"] == "We are unlocking your account"
    )
    assert notice.rcpt_tos == ("jonas.weber@example.de",)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "phone-and-unlock.png"), full_page=True)
    assert reference in notice.message.get_content()
    db.dispose()
    page.close()
