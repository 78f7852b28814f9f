"""Files from the composer in a real browser: an agent reaches the file input from the reply box
with the keyboard, attaches a screenshot to a reply and sees it on the timeline; a file over
the size limit is named before anything is sent; a social ticket says why it takes none."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.accessibility import assert_accessible
from tests.support.browsing import SHOTS, open_inbox_signed_in
from tests.support.chat_files import png
from tests.support.processes import Deployment
from tests.support.served import load_demo_desk


def _open_ticket(page: Any, base_url: str, subject: str, words: str) -> str:
    """The ticket of that subject, found by searching for ``words``, as a page of its own."""
    page.goto(f"{base_url}/tickets?q={words}")
    row = page.locator("tr.ticket-row", has_text=subject)
    reference = str(row.get_attribute("id")).removeprefix("ticket-row-")
    page.goto(f"{base_url}/tickets/{reference}")
    page.wait_for_selector("p.reference")
    return reference


def test_an_agent_attaches_a_screenshot_to_a_reply_and_sees_it_on_the_timeline(
    browser: Any, server: Deployment, tmp_path: Path
) -> None:
    load_demo_desk(server)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = tmp_path / "transfer-status.png"
    shot.write_bytes(png(480, 300))
    too_large = tmp_path / "scan.pdf"
    too_large.write_bytes(b"%PDF-1.4\n" + b"0" * (6 * 1024 * 1024))
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    open_inbox_signed_in(page, server.base_url)
    _open_ticket(page, server.base_url, "Locked out after three wrong passwords", "locked")

    # The limits are said in words under the labelled input, which Tab reaches from the text.
    files = page.locator("#reply-files")
    assert page.locator("label[for=reply-files]").inner_text() == "Attach files"
    hint = page.locator("#reply-files-hint").inner_text()
    assert hint.startswith("Up to 3 files of at most 5 MB each: PNG, JPEG, GIF or WebP")
    page.keyboard.press("r")
    page.keyboard.type("Hello Maria, this is what our system shows for your account.")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "reply-files"

    # Too large: named at once, and the form is not sent.
    files.set_input_files(str(too_large))
    problem = page.locator("#reply-files-problem")
    problem.wait_for(state="visible")
    assert problem.inner_text() == "scan.pdf is larger than 5 MB."
    page.locator("form.composer.reply").screenshot(path=str(SHOTS / "reply-files-too-large.png"))
    page.click("form.composer.reply button[type=submit]")
    page.wait_for_timeout(500)
    assert page.locator("li.msg .attachments", has_text="scan.pdf").count() == 0

    files.set_input_files(str(shot))
    assert problem.is_hidden()
    page.screenshot(path=str(SHOTS / "reply-files-chosen-1440.png"), full_page=True)
    assert_accessible(page, "the ticket page's composer with a file chosen")
    page.click("form.composer.reply button[type=submit]")

    sent = page.locator("li.msg.dir-outbound", has_text="this is what our system shows")
    sent.wait_for()
    link = sent.locator(".attachments a", has_text="transfer-status.png")
    assert link.count() == 1 and link.get_attribute("download") is not None
    assert "image/png" in sent.locator(".attachments").inner_text()
    assert page.input_value("#reply-body") == ""  # a fresh composer
    assert page.evaluate("document.getElementById('reply-files').files.length") == 0
    page.screenshot(path=str(SHOTS / "reply-files-sent-1440.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.locator("#composer").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "reply-files-sent-390.png"), full_page=True)
    files.set_input_files(str(shot))
    page.locator("#composer").screenshot(path=str(SHOTS / "reply-files-composer-390.png"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing sticks out
    assert_accessible(page, "the ticket page's composer on a phone")

    # A Telegram ticket says why its replies take no files; its note still does.
    page.set_viewport_size({"width": 1440, "height": 900})
    _open_ticket(page, server.base_url, "Is the app down?", "down")
    assert page.locator("#reply-files").count() == 0
    assert (
        page.locator("#reply-files-off")
        .inner_text()
        .startswith("Files cannot be sent on this channel yet")
    )
    page.click("label[for=tab-note]")
    assert page.locator("#note-files").is_visible()
    page.click("label[for=tab-reply]")
    page.locator("#composer").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "reply-files-social-1440.png"))
    assert_accessible(page, "the composer of a social ticket")
    page.close()
