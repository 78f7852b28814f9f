"""Secrets the command line takes (mail server URLs with their passwords, agents'
passwords) can come from standard input or the environment, so that they never show in
``ps`` or the shell's history."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from sqlmodel import select

from inbox.db import Database
from inbox.models import Channel
from inbox.settings import Settings
from inbox.signing import SecretBox
from tests.support.processes import INBOX, run_cli, run_cli_unchecked
from tests.support.web import Client, sign_in

IMAP = "imaps://help%40example.com:s3cret-imap@imap.example.com/INBOX"
SMTP = "smtp+starttls://help%40example.com:s3cret-smtp@smtp.example.com:587"


def test_channel_passwords_come_from_standard_input_or_the_environment_never_argv(
    env: dict[str, str], db: Database, settings: Settings
) -> None:
    command = [*INBOX, "channel", "add-email", "--name", "Support"]
    command += ["--address", "help@example.com", "--imap", "-", "--smtp", "env:SUPPORT_SMTP"]
    process = subprocess.Popen(
        command,
        env={**os.environ, **env, "SUPPORT_SMTP": SMTP},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen_by_ps = Path(f"/proc/{process.pid}/cmdline").read_bytes().decode()
    out, err = process.communicate(IMAP + "\n", timeout=120)
    assert process.returncode == 0, err
    assert "added email channel Support" in out
    assert "s3cret" not in seen_by_ps + out + err

    with db.reading() as session:
        channel = session.exec(select(Channel)).one()
    secrets = SecretBox(settings.secret_key).open(channel.secrets_encrypted or "")
    assert secrets == {"imap_url": IMAP, "smtp_url": SMTP}


def test_two_secrets_from_standard_input_are_read_in_the_order_given(
    env: dict[str, str], db: Database, settings: Settings
) -> None:
    run_cli(
        env,
        *("channel", "add-email", "--name", "Support", "--address", "help@example.com"),
        *("--smtp", "-", "--imap", "-"),
        stdin=f"{SMTP}\n{IMAP}\n",
    )
    with db.reading() as session:
        channel = session.exec(select(Channel)).one()
    secrets = SecretBox(settings.secret_key).open(channel.secrets_encrypted or "")
    assert secrets == {"imap_url": IMAP, "smtp_url": SMTP}
    missing = run_cli_unchecked(
        env,
        *("channel", "add-email", "--name", "Other", "--address", "other@example.com"),
        *("--imap", "env:NO_SUCH_VARIABLE", "--smtp", "-"),
        stdin="",
    )
    assert missing.returncode == 2 and "NO_SUCH_VARIABLE" in missing.stderr


def test_an_agent_s_password_comes_from_the_environment(
    env: dict[str, str], client: Client
) -> None:
    passphrase = "an environment passphrase"
    out = run_cli(
        {**env, "NEW_AGENT_PASSWORD": passphrase},
        *("agent", "create", "--email", "env@example.com", "--name", "Env Agent"),
        *("--password-env", "NEW_AGENT_PASSWORD"),
    )
    assert "created agent env@example.com" in out
    assert sign_in(client, "env@example.com", passphrase).status_code == 303


def test_help_says_how_to_keep_secrets_off_the_command_line(env: dict[str, str]) -> None:
    add_email = run_cli(env, "channel", "add-email", "--help")
    assert "standard input" in add_email and "env:NAME" in add_email
    create = run_cli(env, "agent", "create", "--help")
    assert "--password-stdin" in create and "--password-env" in create
