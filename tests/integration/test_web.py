"""The agent pages over HTTP: sign-in, CSRF, escaping, isolation of mail HTML, the route table."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from httpx import Response
from litestar import Litestar
from litestar.testing import TestClient

from inbox.app import create_app
from inbox.db import Database
from inbox.settings import Settings
from inbox.web.auth import PUBLIC_PATH_PATTERNS, PUBLIC_ROUTES, SESSION_COOKIE
from tests.support.desk import PASSWORD, ingest, mail, make_agent, make_channel

Client = TestClient[Litestar]


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return create_app(settings, background=False)


@pytest.fixture
def client(app: Litestar) -> Iterator[Client]:
    with TestClient(app) as test_client:
        yield test_client


def _csrf(html: str) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert found, "form without a CSRF token"
    return found.group(1)


def login(client: Client, email: str = "agent@example.com", password: str = PASSWORD) -> Response:
    page = client.get("/login")
    response = client.post(
        "/login",
        data={
            "email": email,
            "password": password,
            "next": "/tickets",
            "_csrf_token": _csrf(page.text),
        },
        follow_redirects=False,
    )
    return response


def test_every_route_needs_a_session_except_the_public_allowlist(app: Litestar) -> None:
    public = set()
    for route in app.routes:
        for handler in route.route_handlers:  # type: ignore[union-attr]
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
    signed_in = login(client)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/tickets"
    flags = signed_in.headers["set-cookie"].lower()
    assert "httponly" in flags and "samesite=lax" in flags
    page = client.get("/tickets")
    assert page.status_code == 200 and "Locked out" in page.text
    cookie = client.cookies[SESSION_COOKIE]
    client.post("/logout", headers={"x-csrftoken": _csrf(page.text)})
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
    assert login(client, password="wrong password 123").status_code == 400
    assert login(client, email="nobody@example.com").status_code == 400


def test_repeated_failures_lock_the_account(client: Client, db: Database) -> None:
    make_agent(db)
    for _ in range(5):
        login(client, password="wrong password 123")
    assert login(client).status_code == 400  # right password, but locked


def test_sign_in_rotates_a_planted_session(client: Client, db: Database) -> None:
    make_agent(db)
    client.cookies.set(SESSION_COOKIE, "planted-by-attacker", domain="testserver.local")
    login(client)
    issued = client.cookies[SESSION_COOKIE]
    assert issued != "planted-by-attacker" and len(issued) >= 40


def test_state_changes_without_csrf_token_are_refused(
    client: Client, db: Database, settings: Settings
) -> None:
    make_agent(db)
    reference = ingest(db, settings, make_channel(db, settings), mail()).ticket_reference
    login(client)
    response = client.post(f"/tickets/{reference}/notes", data={"body": "sneaky"})
    assert response.status_code == 403
    page = client.get(f"/tickets/{reference}")
    assert "sneaky" not in page.text
    ok = client.post(
        f"/tickets/{reference}/notes", data={"body": "legit", "_csrf_token": _csrf(page.text)}
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
    login(client)
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
    login(client)
    page = client.get(f"/tickets/{reference}").text
    link = re.search(r'href="(/attachments/\d+)"', page)
    assert link and "evil.html" in page and "../" not in page.split("attachments")[1][:200]
    response = client.get(link.group(1))
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-type"].startswith("application/octet-stream")
    stored = list((settings.blob_dir).rglob("*"))
    assert not any("evil" in p.name for p in stored)
