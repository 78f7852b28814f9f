"""``inbox channel add-telegram``, ``add-messenger``, ``add-instagram``, ``add-whatsapp`` and
``add-x``: secrets from standard input, never printed, sealed at rest; ``inbox channel list``
shows each channel's last event and, in red, why it is failing."""

from __future__ import annotations

from sqlmodel import col, select

from inbox.actions.channels import record_channel_health
from inbox.db import Database
from inbox.models import Channel, SocialConversation, Ticket
from inbox.settings import Settings
from inbox.signing import SecretBox
from tests.support.processes import run_cli, run_cli_unchecked


def _channel(db: Database, name: str) -> Channel:
    with db.reading() as session:
        return session.exec(select(Channel).where(Channel.name == name)).one()


def test_a_telegram_bot_token_is_read_from_standard_input_and_never_shown(
    env: dict[str, str], db: Database, settings: Settings
) -> None:
    out = run_cli(
        env,
        *("channel", "add-telegram", "--name", "Bot", "--token", "-"),
        *("--api-url", "http://127.0.0.1:9/"),
        stdin="123456:SECRET-bot-token\n",
    )
    assert out.strip() == "added telegram channel Bot"
    channel = _channel(db, "Bot")
    assert channel.kind == "telegram" and "SECRET" not in repr(channel.model_dump())
    secrets = SecretBox(settings.secret_key).open(channel.secrets_encrypted)
    assert secrets["token"] == "123456:SECRET-bot-token"
    assert secrets["api_url"] == "http://127.0.0.1:9/"
    assert "SECRET" not in run_cli(env, "channel", "list")


def test_whatsapp_secrets_from_standard_input_are_read_in_the_order_given(
    env: dict[str, str], db: Database, settings: Settings
) -> None:
    out = run_cli(
        env,
        *("channel", "add-whatsapp", "--name", "WhatsApp", "--phone-number-id", "1065403"),
        *("--verify-token", "-", "--token", "-", "--app-secret", "-"),
        *("--template", "account_update:en_US"),
        stdin="VERIFY-1\nTOKEN-1\nAPPSECRET-1\n",
    )
    assert "added whatsapp channel WhatsApp for 1065403" in out
    assert "webhook URL: http://127.0.0.1:8000/webhooks/meta" in out
    assert not any(s in out for s in ("VERIFY-1", "TOKEN-1", "APPSECRET-1"))
    channel = _channel(db, "WhatsApp")
    secrets = SecretBox(settings.secret_key).open(channel.secrets_encrypted)
    assert (secrets["verify_token"], secrets["token"], secrets["app_secret"]) == (
        "VERIFY-1",
        "TOKEN-1",
        "APPSECRET-1",
    )
    assert channel.config == {
        "phone_number_id": "1065403",
        "template": {"name": "account_update", "language": "en_US"},
        "account_id": "1065403",
    }


def test_messenger_instagram_and_x_channels_are_added_and_one_account_serves_one_channel(
    env: dict[str, str], db: Database
) -> None:
    secrets = "TOKEN\nSECRET\nVERIFY\n"
    meta = ("--page-token", "-", "--app-secret", "-", "--verify-token", "-")
    run_cli(
        env, "channel", "add-messenger", "--name", "Page", "--page-id", "42", *meta, stdin=secrets
    )
    run_cli(
        env,
        "channel",
        "add-instagram",
        "--name",
        "IG",
        "--account-id",
        "1784",
        *meta,
        stdin=secrets,
    )
    run_cli(env, "channel", "add-x", "--name", "X", "--user-id", "900", "--token", "-", stdin="T\n")
    again = run_cli_unchecked(
        env, "channel", "add-messenger", "--name", "Page 2", "--page-id", "42", *meta, stdin=secrets
    )
    assert (
        again.returncode == 1 and "channel Page already serves messenger account 42" in again.stderr
    )
    kinds = {c: _channel(db, c).kind for c in ("Page", "IG", "X")}
    assert kinds == {"Page": "messenger", "IG": "instagram", "X": "x"}


def test_the_list_shows_the_last_event_and_a_refused_token_in_red_with_the_reason(
    env: dict[str, str], db: Database
) -> None:
    run_cli(env, "channel", "add-telegram", "--name", "Bot", "--token", "-", stdin="1:abc\n")
    with db.unit_of_work() as session:
        record_channel_health(
            session,
            _channel(db, "Bot").id or 0,
            "failing",
            "Telegram refused the bot token (Unauthorized)",
        )
    line = next(line for line in run_cli(env, "channel", "list").splitlines() if "Bot" in line)
    assert " RED " in line and line.endswith("Telegram refused the bot token (Unauthorized)")
    assert "never" in line  # no event yet


def test_the_demo_fills_each_platform_with_a_conversation_an_agent_can_answer(
    env: dict[str, str], db: Database
) -> None:
    out = run_cli(env, "demo")
    assert "direct-message conversations on Telegram, Messenger, Instagram, WhatsApp and X" in out
    with db.reading() as session:
        kinds = {
            kind
            for kind in session.exec(
                select(Ticket.channel_kind).join(
                    SocialConversation, col(SocialConversation.ticket_id) == Ticket.id
                )
            ).all()
        }
    assert kinds == {"telegram", "messenger", "instagram", "whatsapp", "x"}
