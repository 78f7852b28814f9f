"""What the pages' Content-Security-Policy (``inbox.web.headers``) forbids, the templates and
scripts do not use: it would silently stop working in the browser."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import anyio

from inbox.web.headers import CONTENT_SECURITY_POLICY, add_security_headers

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = {
    "an inline script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
    "an event handler attribute": re.compile(r"<[^>]+\son[a-z]+\s*=", re.I),
    "a style attribute": re.compile(r"<[^>]+\sstyle\s*=", re.I),
    "a style element": re.compile(r"<style\b", re.I),
    "a javascript: URL": re.compile(r"javascript:", re.I),
    "htmx code in an attribute": re.compile(r"\bhx-on|\bhx-vars\b|[\"']js:", re.I),
}
TRIGGER = re.compile(r"hx-trigger=(\"[^\"]*\"|'[^']*')")


def trigger_filters(html: str) -> list[str]:
    """htmx trigger filters (``keyup[ctrlKey]``): htmx evaluates them as code. The event
    name is the first word of each comma-separated trigger; ``from:input[name=q]`` is a
    selector, not a filter."""
    return [
        spec.strip()
        for value in TRIGGER.findall(html)
        for spec in value[1:-1].split(",")
        if "[" in (spec.split() or [""])[0]
    ]


def test_templates_need_nothing_the_policy_forbids() -> None:
    found = [
        f"{path.relative_to(ROOT)}: {what}"
        for path in sorted((ROOT / "templates").rglob("*.html"))
        if "emails" not in path.parts
        for what, pattern in FORBIDDEN.items()
        if pattern.search(path.read_text())
    ]
    found += [
        f"{path.relative_to(ROOT)}: an htmx trigger filter {spec!r} (evaluated as code)"
        for path in sorted((ROOT / "templates").rglob("*.html"))
        for spec in trigger_filters(path.read_text())
    ]
    assert found == []
    assert trigger_filters("hx-trigger=\"input[target.id=='x'] from:body\"")  # seen


def test_the_policy_allows_the_desk_s_own_scripts_and_nothing_inline() -> None:
    directives = {part.split()[0]: part.split()[1:] for part in CONTENT_SECURITY_POLICY.split("; ")}
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY
    assert "'unsafe-eval'" not in CONTENT_SECURITY_POLICY


def test_an_answer_with_its_own_policy_keeps_it() -> None:
    """A mail's HTML in its sandboxed frame may be framed by the ticket page."""
    own = b"default-src 'none'; frame-ancestors 'self'; sandbox"
    message: Any = {
        "type": "http.response.start",
        "status": 200,
        "headers": [(b"content-security-policy", own)],
    }
    anyio.run(add_security_headers, message, {})
    headers = dict(message["headers"])
    assert headers[b"content-security-policy"] == own
    assert headers[b"x-content-type-options"] == b"nosniff"
