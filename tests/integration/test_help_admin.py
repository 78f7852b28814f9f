"""Writing the help centre at /admin/help: drafts until published, the live preview, images
into the attachment store with type and size limits, and the managers' report."""

from __future__ import annotations

import re
import struct
import zlib

from sqlmodel import col, select

from inbox.db import Database
from inbox.models import AuditEvent
from tests.support.desk import make_agent
from tests.support.help_centre import write_article
from tests.support.web import Client, csrf_token, sign_in


def _png() -> bytes:
    """A real one-pixel PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def test_a_manager_writes_a_draft_previews_it_and_publishes_it(
    manager: Client, db: Database
) -> None:
    client = manager
    form = client.get("/admin/help/new")
    assert form.status_code == 200 and 'hx-post="/admin/help/preview"' in form.text
    token = csrf_token(form.text)
    preview = client.post(
        "/admin/help/preview",
        data={"body_markdown": "**Bold** <script>alert(1)</script>"},
        headers={"x-csrftoken": token, "HX-Request": "true"},
    )
    assert preview.status_code == 201 or preview.status_code == 200
    assert "<strong>Bold</strong>" in preview.text and "<script" not in preview.text
    saved = client.post(
        "/admin/help",
        data={
            "_csrf_token": token,
            "title": "Change an instalment date",
            "category": "Payments",
            "locale": "en",
            "body_markdown": "Open **Instalments** and pick a new date.",
            "action": "save",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    edit_path = saved.headers["location"].split("?")[0]
    assert client.get("/help/articles/change-an-instalment-date").status_code == 404
    listing = client.get("/admin/help")
    assert "Change an instalment date" in listing.text and "draft" in listing.text
    page = client.get(edit_path)
    published = client.post(
        edit_path,
        data={
            "_csrf_token": csrf_token(page.text),
            "title": "Change an instalment date",
            "slug": "change-an-instalment-date",
            "category": "Payments",
            "locale": "en",
            "body_markdown": "Open **Instalments** and pick a new date.",
            "action": "publish",
        },
        follow_redirects=False,
    )
    assert published.status_code == 303
    public = client.get("/help/articles/change-an-instalment-date")
    assert public.status_code == 200 and "<strong>Instalments</strong>" in public.text
    assert "Change an instalment date" in client.get("/help/search?q=instalm").text
    page = client.get(edit_path)
    unpublished = client.post(
        edit_path,
        data={
            "_csrf_token": csrf_token(page.text),
            "title": "Change an instalment date",
            "slug": "change-an-instalment-date",
            "category": "Payments",
            "locale": "en",
            "body_markdown": "Open **Instalments** and pick a new date.",
            "action": "unpublish",
        },
        follow_redirects=False,
    )
    assert unpublished.status_code == 303
    assert client.get("/help/articles/change-an-instalment-date").status_code == 404
    with db.reading() as session:
        actions = session.exec(
            select(AuditEvent.action)
            .where(col(AuditEvent.action).startswith("help_article."))
            .order_by(col(AuditEvent.id))
        ).all()
    assert actions == ["help_article.created", "help_article.published", "help_article.unpublished"]


def test_a_refused_article_keeps_what_was_typed(manager: Client) -> None:
    form = manager.get("/admin/help/new")
    refused = manager.post(
        "/admin/help",
        data={"_csrf_token": csrf_token(form.text), "title": "", "body_markdown": "kept text"},
    )
    assert refused.status_code == 422
    assert "an article needs a title" in refused.text and "kept text" in refused.text


def test_images_are_uploaded_into_the_attachment_store_with_type_and_size_limits(
    manager: Client, db: Database
) -> None:
    form = manager.get("/admin/help/new")
    token = csrf_token(form.text)
    png = _png()
    uploaded = manager.post(
        "/admin/help/images",
        files={"image": ("screen shot [1].png", png, "image/png")},
        data={"_csrf_token": token},
    )
    assert uploaded.status_code == 201, uploaded.text
    found = re.search(r"!\[([^\]]*)\]\((/help/images/[0-9a-f]{64})\)", uploaded.text)
    assert found and found.group(1) == "screen shot 1"
    image = manager.get(found.group(2))
    assert image.status_code == 200 and image.content == png
    assert image.headers["content-type"] == "image/png"
    assert image.headers["x-content-type-options"] == "nosniff"
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'
    for name, content, kind in (
        ("evil.png", svg, "image/png"),
        ("page.html", b"<script>alert(1)</script>", "text/html"),
        ("huge.png", png + b"\x00" * (1024 * 1024), "image/png"),
    ):
        refused = manager.post(
            "/admin/help/images",
            files={"image": (name, content, kind)},
            data={"_csrf_token": token},
        )
        assert refused.status_code in (413, 422), (name, refused.status_code)
    write_article(db, "With a picture", f"![screen]({found.group(2)})", author="writer@example.com")
    article = manager.get("/help/articles/with-a-picture")
    assert f'<img src="{found.group(2)}" alt="screen">' in article.text


def test_agents_cannot_reach_the_writing_pages(client: Client, db: Database) -> None:
    make_agent(db, email="agent@example.com", role="agent")
    sign_in(client, "agent@example.com")
    assert client.get("/admin/help").status_code == 403
    assert client.get("/admin/help/report").status_code == 403


def test_the_report_shows_views_helpfulness_and_searches_that_found_nothing(
    manager: Client, db: Database
) -> None:
    write_article(
        db, "Locked account", "Wait fifteen minutes.", slug="locked", author="writer@example.com"
    )
    page = manager.get("/help/articles/locked")
    manager.get("/help/articles/locked")
    manager.post(
        "/help/articles/locked/feedback",
        data={"helpful": "yes", "comment": "Clear, thanks", "_csrf_token": csrf_token(page.text)},
        follow_redirects=False,
    )
    manager.get("/help/search?q=crypto+wallet")
    report = manager.get("/admin/help/report")
    assert report.status_code == 200
    row = re.search(r"Locked account</a>.*?</tr>", report.text, re.S)
    assert row and re.findall(r"<td>([^<]*)</td>", row.group()) == ["en", "2", "1", "0", "100%"]
    assert "<td>crypto wallet</td>" in report.text
    assert "Clear, thanks" in report.text
