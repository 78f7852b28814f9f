"""Files in live chat, in Chromium: a visitor on a shop's page (another origin) chooses a
screenshot in the widget, sees it as a thumbnail, and the agent sees it on the ticket page; a
pasted screenshot goes the same way; a program under a picture's name is refused in words."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.browsing import SHOTS
from tests.support.chat_files import EXE, png
from tests.support.chat_shop import Shop, agent_page, start_chat, visitor_page
from tests.support.processes import Deployment
from tests.support.served import create_agent


def _loaded(image: Any) -> bool:
    return bool(image.evaluate("img => img.complete && img.naturalWidth > 0"))


def _paste(page: Any, image: bytes) -> None:
    """What the browser's clipboard holds after a screenshot, pasted: one PNG file, no text."""
    page.locator("#inbox-chat-input").evaluate(
        """(input, bytes) => {
          const data = new DataTransfer();
          data.items.add(new File([new Uint8Array(bytes)], "image.png", {type: "image/png"}));
          input.dispatchEvent(new ClipboardEvent("paste", {clipboardData: data, bubbles: true}));
        }""",
        list(image),
    )


def test_a_visitor_chooses_a_screenshot_and_the_agent_sees_it_on_the_ticket(
    browser: Any, server: Deployment, shop: Shop, tmp_path: Path
) -> None:
    create_agent(server, "alex@example.test", "Alex Agent")
    screenshot = tmp_path / "payment-error.png"
    screenshot.write_bytes(png(480, 300))
    visitor = visitor_page(browser, shop)
    reference = start_chat(visitor, "The payment page shows an error", "Maria Lopez")

    attach = visitor.locator("button.attach")
    assert attach.get_attribute("aria-label") == "Attach a screenshot or PDF"
    visitor.locator("#inbox-chat-input").focus()
    visitor.keyboard.press("Shift+Tab")  # a button like any other, in the keyboard's order
    assert attach.evaluate("b => b.getRootNode().activeElement === b")
    # The upload is held on its way, so the visitor writes and sends while it travels: the
    # message shows at once, waits for its file, then goes with it.
    uploads: list[Any] = []
    visitor.route(
        "**/chat/files?*",
        lambda route: (
            uploads.append(route) if route.request.method == "POST" else route.continue_()
        ),
    )
    with visitor.expect_file_chooser() as chooser:
        attach.click()
    chooser.value.set_files(str(screenshot))
    visitor.locator("ul.ready-files li.uploading", has_text="payment-error.png").wait_for()
    visitor.fill("#inbox-chat-input", "This is what I see")
    visitor.keyboard.press("Enter")
    waiting = visitor.locator("li.message.visitor.unsent.held", has_text="This is what I see")
    waiting.wait_for()
    assert "Sends when your file is uploaded" in waiting.inner_text()
    assert visitor.locator("#inbox-chat-input").input_value() == ""
    assert visitor.locator("p.problem").is_hidden()
    SHOTS.mkdir(parents=True, exist_ok=True)
    visitor.screenshot(path=str(SHOTS / "chat-files-held.png"))
    desktop = visitor.viewport_size
    visitor.set_viewport_size({"width": 390, "height": 844})
    visitor.screenshot(path=str(SHOTS / "chat-files-held-phone.png"))
    assert desktop is not None
    visitor.set_viewport_size(desktop)
    while not uploads:
        visitor.wait_for_timeout(20)
    uploads[0].continue_()

    sent = visitor.locator("li.message.visitor:not(.unsent)", has_text="This is what I see")
    thumbnail = sent.locator("ul.files a.thumb img")
    thumbnail.wait_for()
    visitor.wait_for_function(
        "document.querySelector('[data-inbox-chat]').shadowRoot"
        ".querySelector('ul.files img').naturalWidth > 0"
    )
    assert _loaded(thumbnail) and thumbnail.get_attribute("alt") == "payment-error.png"
    assert visitor.locator("ul.ready-files").is_hidden()
    assert visitor.locator("li.message.visitor", has_text="This is what I see").count() == 1
    visitor.screenshot(path=str(SHOTS / "chat-files-visitor.png"))
    visitor.set_viewport_size({"width": 390, "height": 844})
    sent.scroll_into_view_if_needed()
    box = visitor.locator("button.attach").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    visitor.screenshot(path=str(SHOTS / "chat-files-phone.png"))

    agent = agent_page(browser, server, f"/tickets/{reference}")
    entry = agent.locator("li.msg.kind-chat.dir-inbound", has_text="This is what I see")
    entry.wait_for()
    link = entry.locator("ul.attachments a", has_text="payment-error.png")
    assert link.count() == 1 and (link.get_attribute("href") or "").startswith("/attachments/")
    assert "image/png" in entry.locator("ul.attachments").inner_text()
    entry.scroll_into_view_if_needed()
    agent.screenshot(path=str(SHOTS / "chat-files-agent.png"))
    agent.set_viewport_size({"width": 390, "height": 844})
    entry.scroll_into_view_if_needed()
    agent.screenshot(path=str(SHOTS / "chat-files-agent-phone.png"))


def test_a_pasted_screenshot_is_sent_and_a_program_named_like_a_picture_is_refused_in_words(
    browser: Any, server: Deployment, shop: Shop, tmp_path: Path
) -> None:
    visitor = visitor_page(browser, shop)
    start_chat(visitor, "Two screenshots of the error")
    program = tmp_path / "holiday.png"
    program.write_bytes(EXE)
    with visitor.expect_file_chooser() as chooser:
        visitor.locator("button.attach").click()
    chooser.value.set_files(str(program))
    problem = visitor.locator("p.problem")
    problem.wait_for()
    assert "holiday.png: only PNG, JPEG, GIF or WebP screenshots" in problem.inner_text()
    assert problem.get_attribute("role") == "alert"
    SHOTS.mkdir(parents=True, exist_ok=True)
    visitor.screenshot(path=str(SHOTS / "chat-files-refused.png"))

    _paste(visitor, png(64, 40))
    visitor.locator("ul.ready-files li", has_text="image.png").wait_for()
    assert problem.is_hidden()
    visitor.locator("form.composer button[type=submit]").click()
    image = visitor.locator("li.message.visitor:not(.unsent) ul.files img")
    image.wait_for()
    assert image.get_attribute("alt") == "image.png"

    # An upload that fails while a message waits for it: the words go back to the input.
    uploads: list[Any] = []
    visitor.route("**/chat/files?*", lambda route: uploads.append(route))
    _paste(visitor, png(32, 32))
    visitor.fill("#inbox-chat-input", "And the second one")
    visitor.keyboard.press("Enter")
    waiting = visitor.locator("li.message.held", has_text="And the second one")
    waiting.wait_for()
    while not uploads:
        visitor.wait_for_timeout(20)
    uploads[0].abort()
    problem.filter(has_text="image.png: it could not be sent").wait_for()
    assert waiting.count() == 0
    assert visitor.locator("#inbox-chat-input").input_value() == "And the second one"
