"""The agent pages over HTTP: sign-in, CSRF, escaping, isolation of mail HTML, the route table."""

from __future__ import annotations

import re

from litestar import Litestar

from inbox.db import Database
from inbox.settings import Settings
from inbox.web.auth import PUBLIC_PATH_PATTERNS, PUBLIC_ROUTES, SESSION_COOKIE
from tests.support.desk import ingest, mail, make_agent, make_channel
from tests.support.web import Client, csrf_token, sign_in


def test_every_route_needs_a_session_except_the_public_allowlist(app: Litestar) -> None:
    public = set()
    for route in app.routes:
        # An HTTP route has handlers per method; a websocket route has one.
        handlers = getattr(route, "route_handlers", None) or [route.route_handler]  # type: ignore[union-attr]
        for handler in handlers:
            if handler.opt.get("exclude_from_auth"):
                public.add(route.path)
    patterns = [re.compile(p) for p in PUBLIC_PATH_PATTERNS]
    public_by_pattern = {r.path for r in app.routes if any(p.search(r.path) for p in patterns)}
    assert {p for p in public if not p.startswith("/static/")} == PUBLIC_ROUTES
    assert all(path.startswith(("/static", "/schema")) for path in public_by_pattern)


def test_pages_redirect_to_login_and_back_only_to_local_paths(client: Client, db: Database) -> None:
    response = client.get("/tickets?q=x", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith(
        "/login?next=/tickets"
    )
    assert 'value="/tickets"' in client.get("/login?next=https://evil.example/").text
    assert 'value="/tickets"' in client.get("/login?next=//evil.example/").text


def test_agent_signs_in_sees_the_inbox_and_signs_out(
    client: Client, db: Database, settings: Settings
) -> None:
    make_agent(db)
    ingest(db, settings, make_channel(db, settings), mail(subject="Locked out"))
    signed_in = sign_in(client)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/tickets"
    flags = signed_in.headers["set-cookie"].lower()
    assert "httponly" in flags and "samesite=lax" in flags
    page = client.get("/tickets")
    assert page.status_code == 200 and "Locked out" in page.text
    cookie = client.cookies[SESSION_COOKIE]
    client.post("/logout", headers={"x-csrftoken": csrf_token(page.text)})
    assert client.get("/tickets", follow_redirects=False).status_code == 303
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, cookie)
    assert (
        client.get("/tickets", follow_redirects=False).status_code == 303
    )  # the old session is dead


def test_wrong_password_and_unknown_address_get_the_same_answer(
    client: Client, db: Database
) -> None:
    make_agent(db)
    assert sign_in(client, password="wrong password 123").status_code == 400
    assert sign_in(client, email="nobody@example.com").status_code == 400


def test_repeated_failures_lock_the_account(client: Client, db: Database) -> None:
    make_agent(db)
    for _ in range(5):
        sign_in(client, password="wrong password 123")
    assert sign_in(client).status_code == 400  # right password, but locked


def test_sign_in_rotates_a_planted_session(client: Client, db: Database) -> None:
    make_agent(db)
    client.cookies.set(SESSION_COOKIE, "planted-by-attacker", domain="testserver.local")
    sign_in(client)
    issued = client.cookies[SESSION_COOKIE]
    assert issued != "planted-by-attacker" and len(issued) >= 40


def test_state_changes_without_csrf_token_are_refused(
    client: Client, db: Database, settings: Settings
) -> None:
    make_agent(db)
    reference = ingest(db, settings, make_channel(db, settings), mail()).ticket_reference
    sign_in(client)
    response = client.post(f"/tickets/{reference}/notes", data={"body": "sneaky"})
    assert response.status_code == 403
    page = client.get(f"/tickets/{reference}")
    assert "sneaky" not in page.text
    ok = client.post(
        f"/tickets/{reference}/notes", data={"body": "legit", "_csrf_token": csrf_token(page.text)}
    )
    assert ok.status_code == 200 and "legit" in ok.text


def test_hostile_text_is_escaped_and_mail_html_is_isolated(
    client: Client, db: Database, settings: Settings
) -> None:
    make_agent(db)
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    raw = (
        f"From: {hostile} <evil@example.org>\r\nTo: support@example.com\r\nSubject: {hostile}\r\n"
        "Message-ID: <hostile@example.org>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/alternative; boundary="b"\r\n\r\n'
        f"--b\r\nContent-Type: text/plain\r\n\r\n{hostile}\r\n"
        "--b\r\nContent-Type: text/html\r\n\r\n<p>Hi</p><script>alert(2)</script>"
        '<a href="javascript:alert(3)">x</a><img src="https://tracker.example/p.gif">\r\n--b--\r\n'
    ).encode()
    reference = ingest(db, settings, make_channel(db, settings), raw).ticket_reference
    sign_in(client)
    for path in ("/tickets", f"/tickets/{reference}"):
        text = client.get(path).text
        assert "<script>alert" not in text and "<img src=x" not in text
        assert "&lt;script&gt;" in text
    frame = re.search(
        r'<iframe sandbox src="(/messages/\d+/html)"', client.get(f"/tickets/{reference}").text
    )
    assert frame
    isolated = client.get(frame.group(1))
    assert "sandbox" in isolated.headers["content-security-policy"]
    assert "default-src 'none'" in isolated.headers["content-security-policy"]
    assert "<script" not in isolated.text and "javascript:" not in isolated.text
    assert "tracker.example" not in isolated.text
    assert "<p>Hi</p>" in isolated.text


def test_attachments_download_as_attachments_never_inline(
    client: Client, db: Database, settings: Settings
) -> None:
    make_agent(db)
    raw = (
        b"From: a@example.org\r\nTo: support@example.com\r\nSubject: file\r\nMessage-ID: <f@x>\r\n"
        b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
        b'--b\r\nContent-Type: text/html; name="../../evil.html"\r\n'
        b'Content-Disposition: attachment; filename="../../evil.html"\r\n\r\n'
        b"<script>alert(1)</script>\r\n--b--\r\n"
    )
    reference = ingest(db, settings, make_channel(db, settings), raw).ticket_reference
    sign_in(client)
    page = client.get(f"/tickets/{reference}").text
    link = re.search(r'href="(/attachments/\d+)"', page)
    assert link and "evil.html" in page and "../" not in page.split("attachments")[1][:200]
    response = client.get(link.group(1))
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-type"].startswith("application/octet-stream")
    stored = list((settings.blob_dir).rglob("*"))
    assert not any("evil" in p.name for p in stored)
