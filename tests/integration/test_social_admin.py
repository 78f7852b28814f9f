"""/admin/social: administrators add a social channel, test its connection against the
platform, and replace a revoked token; secrets are never shown."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from litestar import Litestar
from sqlmodel import select

from inbox.db import Database
from inbox.models import AuditEvent, Channel
from inbox.settings import Settings
from inbox.signing import SecretBox
from tests.support.desk import make_agent
from tests.support.signing_in import give_totp, sign_in_fully
from tests.support.social_platforms import FakeTelegram
from tests.support.web import Client, csrf_token, sign_in

TOKEN = "4242:first-token"


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram(token=TOKEN) as server:
        yield server


def _row(page: str, name: str) -> str:
    found = re.search(rf'<tr class="social-row" data-channel="{name}"[^>]*>(.*?)</tr>', page, re.S)
    assert found, page
    return found.group(0)


def test_an_administrator_adds_tests_and_repairs_a_telegram_channel(
    client: Client, db: Database, settings: Settings, app: Litestar, telegram: FakeTelegram
) -> None:
    make_agent(db, email="admin@example.com", role="admin", name="Ada Admin")
    give_totp(db, settings, "admin@example.com")
    assert sign_in_fully(client, db, "admin@example.com").status_code == 303
    page = client.get("/admin/social")
    form = {"kind": "telegram", "name": "Bot", "token": TOKEN, "base_url": telegram.url}
    added = client.post(
        "/admin/social",
        data={**form, "_csrf_token": csrf_token(page.text)},
        follow_redirects=False,
    )
    assert added.status_code == 303
    with db.reading() as session:
        channel = session.exec(select(Channel)).one()
    assert SecretBox(settings.secret_key).open(channel.secrets_encrypted)["token"] == TOKEN

    def check() -> str:
        page = client.get("/admin/social")
        client.post(
            f"/admin/social/{channel.id}/check", data={"_csrf_token": csrf_token(page.text)}
        )
        return _row(client.get("/admin/social").text, "Bot")

    assert 'data-health="ok"' in check() and "connected as desk_bot" in check()
    telegram.revoked = True
    row = check()
    assert 'data-health="failing"' in row
    assert "Telegram refused the bot token (Unauthorized)" in row

    telegram.revoked = False
    telegram.token = "4242:second-token"
    page = client.get("/admin/social")
    replaced = client.post(
        f"/admin/social/{channel.id}/secrets",
        data={"token": "4242:second-token", "_csrf_token": csrf_token(page.text)},
        follow_redirects=False,
    )
    assert replaced.status_code == 303
    assert 'data-health="unknown"' in _row(client.get("/admin/social").text, "Bot")
    assert 'data-health="ok"' in check()
    page_text = client.get("/admin/social").text
    assert "first-token" not in page_text and "second-token" not in page_text
    with db.reading() as session:
        actions = [a.action for a in session.exec(select(AuditEvent)).all()]
    assert "channel.add" in actions and "channel.secrets_replaced" in actions


def test_agents_may_not_open_the_social_channels(client: Client, db: Database) -> None:
    make_agent(db)
    sign_in(client)
    assert client.get("/admin/social").status_code in (403, 303)
