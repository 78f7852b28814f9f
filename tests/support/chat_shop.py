"""A shop's page on another origin that embeds the chat widget, and the pages the browser tests
open on it and on the desk."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support.processes import Deployment
from tests.support.served import PASSPHRASE

# The shop's own styles try hard to break whatever is on the page.
HOSTILE_CSS = "button, input, textarea, li { display: none !important; color: red !important; }"
# A host page may always reach into its own DOM; the test opens the widget's shadow root so that
# Playwright's locators see inside it, as the visitor's eyes do.
OPEN_SHADOW_ROOTS = """
const attach = Element.prototype.attachShadow;
Element.prototype.attachShadow = function (init) {
  return attach.call(this, {...init, mode: "open"});
};
"""


class Shop:
    """A page of another site (its own port: its own origin) that embeds the widget."""

    def __init__(self, base_url: str, widget_key: str, port: int) -> None:
        page = (
            "<!doctype html><html lang=en><head><meta charset=utf-8>"
            "<meta name=viewport content='width=device-width, initial-scale=1'>"
            f"<title>Shop</title><style>{HOSTILE_CSS}</style></head>"
            "<body><h1>The shop</h1><p>Everything for your payments.</p>"
            f'<script src="{base_url}/chat/widget.js" data-widget="{widget_key}" async></script>'
            "</body></html>"
        ).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("content-type", "text/html; charset=utf-8")
                self.send_header("content-length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.port = port
        self.origin = f"http://127.0.0.1:{self.port}"
        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> Shop:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def visitor_page(browser: Any, shop: Shop, width: int = 1440, height: int = 900) -> Any:
    context = browser.new_context(viewport={"width": width, "height": height})
    context.add_init_script(OPEN_SHADOW_ROOTS)
    page = context.new_page()
    page.goto(shop.origin)
    page.locator("button.launcher").wait_for()
    return page


def agent_page(browser: Any, server: Deployment, path: str, *, base_url: str = "") -> Any:
    """Alex Agent signed in at ``path`` of the desk (or of its web process at ``base_url``)."""
    page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    page.goto(f"{base_url or server.base_url}{path}")
    page.fill("input[name=email]", "alex@example.test")
    page.fill("input[name=password]", PASSPHRASE)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{path}")
    return page


def start_chat(page: Any, topic: str, name: str = "") -> str:
    """Open the widget, fill its form and start the chat; the reference it shows once the
    desk has answered."""
    page.locator("button.launcher").click()
    if name:
        page.fill("#inbox-chat-name", name)
    page.fill("#inbox-chat-topic", topic)
    page.click("form.prechat button[type=submit]")
    page.locator("p.reference").wait_for()
    reference: str = page.locator("p.reference").inner_text().removeprefix("Your reference is ")
    page.locator("li.message.system", has_text=reference.strip()).wait_for()
    return reference.strip()
