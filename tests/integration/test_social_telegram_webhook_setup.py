"""Switching a Telegram channel to a webhook and back, as operators do it: ``inbox channel
add-telegram --webhook-url``, ``inbox channel telegram-webhook``, and /admin/social. The
secret token goes to Telegram and nowhere else: never printed, shown or audited."""

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
from tests.support.processes import run_cli, run_cli_unchecked
from tests.support.signing_in import give_totp, sign_in_fully
from tests.support.social_desk import add_channel
from tests.support.social_platforms import FakeTelegram
from tests.support.web import Client, csrf_token

TOKEN = "4242:webhook-setup-token"
BASE = "https://desk.example.com"


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram(token=TOKEN) as server:
        yield server


def _channel(db: Database, name: str) -> Channel:
    with db.reading() as session:
        return session.exec(select(Channel).where(Channel.name == name)).one()


def _secret(telegram: FakeTelegram) -> str:
    assert telegram.webhook is not None
    return str(telegram.webhook["secret_token"])


def test_add_telegram_with_a_webhook_url_sets_the_webhook_and_prints_no_secret(
    env: dict[str, str], db: Database, settings: Settings, telegram: FakeTelegram
) -> None:
    out = run_cli(
        env,
        *("channel", "add-telegram", "--name", "Bot", "--token", "-"),
        *("--api-url", telegram.url, "--webhook-url", BASE),
        stdin=f"{TOKEN}\n",
    )

    lines = out.strip().splitlines()
    assert lines[0] == "added telegram channel Bot"
    found = re.fullmatch(r"webhook URL: (\S+) \(Telegram posts updates there; .*\)", lines[1])
    assert found and found.group(1).startswith(f"{BASE}/webhooks/telegram/")
    assert telegram.webhook is not None and telegram.webhook["url"] == found.group(1)
    secret = _secret(telegram)
    listed = run_cli(env, "channel", "list")
    assert secret not in out and TOKEN not in out and secret not in listed
    assert re.search(r"^Bot\s+telegram\s+webhook\s", listed, re.M)
    sealed = SecretBox(settings.secret_key).open(_channel(db, "Bot").secrets_encrypted)
    assert sealed["webhook_secret"] == secret

    off = run_cli(env, "channel", "telegram-webhook", "--name", "Bot", "--off")

    assert "reads by long polling again" in off
    assert telegram.webhook is None
    assert "webhook_url" not in _channel(db, "Bot").config


def test_a_webhook_telegram_refuses_leaves_the_channel_polled_and_says_why(
    env: dict[str, str], db: Database, settings: Settings, telegram: FakeTelegram
) -> None:
    add_channel(
        db,
        settings,
        "telegram",
        name="Bot",
        secrets={"token": TOKEN},
        values={"api_url": telegram.url},
    )
    telegram.fail_next(400, description="Bad Request: bad webhook: Failed to resolve host")

    result = run_cli_unchecked(env, "channel", "telegram-webhook", "--name", "Bot", "--url", BASE)

    assert result.returncode == 1
    assert "bad webhook: Failed to resolve host" in result.stderr
    assert "long polling" in result.stderr
    assert "webhook_url" not in _channel(db, "Bot").config
    missing = run_cli_unchecked(env, "channel", "telegram-webhook", "--name", "Nope", "--off")
    assert missing.returncode == 1 and "no Telegram channel named 'Nope'" in missing.stderr


def test_an_administrator_switches_a_telegram_channel_to_a_webhook_and_back(
    client: Client, db: Database, settings: Settings, app: Litestar, telegram: FakeTelegram
) -> None:
    channel_id = add_channel(
        db,
        settings,
        "telegram",
        name="Bot",
        secrets={"token": TOKEN},
        values={"api_url": telegram.url},
    )
    make_agent(db, email="admin@example.com", role="admin", name="Ada Admin")
    give_totp(db, settings, "admin@example.com")
    assert sign_in_fully(client, db, "admin@example.com").status_code == 303
    page = client.get("/admin/social")
    assert "Use a webhook" in page.text

    switched = client.post(
        f"/admin/social/{channel_id}/webhook",
        data={"base_url": BASE, "_csrf_token": csrf_token(page.text)},
        follow_redirects=False,
    )

    assert switched.status_code == 303
    url = _channel(db, "Bot").config["webhook_url"]
    assert telegram.webhook is not None and telegram.webhook["url"] == url
    page = client.get("/admin/social")
    assert url in page.text and _secret(telegram) not in page.text
    assert "Back to long polling" in page.text

    back = client.post(
        f"/admin/social/{channel_id}/webhook",
        data={"base_url": "", "_csrf_token": csrf_token(page.text)},
        follow_redirects=False,
    )

    assert back.status_code == 303 and telegram.webhook is None
    with db.reading() as session:
        audits = session.exec(select(AuditEvent).where(AuditEvent.target_id == str(channel_id)))
        actions = [(a.action, a.actor_label) for a in audits]
    assert ("channel.webhook_set", "admin@example.com") in actions
    assert ("channel.webhook_removed", "admin@example.com") in actions
