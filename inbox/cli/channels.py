"""``inbox channel``: adding channels and listing them with their health."""

from __future__ import annotations

import argparse
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from inbox.cli.options import FROM_STDIN_OR_ENV, SecretOption
from inbox.errors import DomainError
from inbox.settings import Settings


def cmd_channel_add_email(args: argparse.Namespace, settings: Settings) -> int:
    from connectors.email.urls import parse_mail_url
    from inbox.actions.channels import add_email_channel
    from inbox.db import Database
    from inbox.signing import SecretBox

    imap_url = args.imap
    if args.folder:
        parts = urlsplit(imap_url)
        imap_url = urlunsplit(parts._replace(path="/" + quote(args.folder, safe="")))
    try:
        imap = parse_mail_url(imap_url, protocol="imap")
        smtp = parse_mail_url(args.smtp, protocol="smtp")
    except ValueError as exc:
        raise DomainError(str(exc)) from exc
    with Database(settings.database_url).unit_of_work() as session:
        channel = add_email_channel(
            session,
            SecretBox(settings.secret_key),
            name=args.name,
            address=args.address,
            imap_url=imap_url,
            smtp_url=args.smtp,
            imap_redacted=imap.redacted(),
            smtp_redacted=smtp.redacted(),
            folder=imap.folder,
            poll_seconds=args.poll_seconds or settings.default_poll_seconds,
        )
    print(f"added email channel {channel.name} ({channel.address})")
    return 0


def cmd_channel_list(args: argparse.Namespace, settings: Settings) -> int:
    from sqlmodel import col, select

    from inbox.db import Database
    from inbox.models import Channel
    from inbox.queries.social import last_events

    with Database(settings.database_url).reading() as session:
        channels = session.exec(select(Channel).order_by(col(Channel.name))).all()
        events = last_events(session)
    print(
        f"{'NAME':20} {'KIND':9} {'ADDRESS / ACCOUNT':32} {'HEALTH':9} "
        f"{'LAST POLLED':25} {'LAST EVENT':25} LAST ERROR"
    )
    for c in channels:
        polled = c.last_polled_at.isoformat(timespec="seconds") if c.last_polled_at else "never"
        event = events.get(c.id or 0)
        last = event.isoformat(timespec="seconds") if event else "never"
        address = c.address or str(c.config.get("account_id", ""))
        if c.config.get("webhook_url"):  # posted to, never polled
            address = address or "webhook"
        # Red: nothing gets through until someone acts (a refused token, a wrong password).
        health = "RED" if c.health == "failing" else c.health
        error = c.health_detail if c.health != "ok" else ""
        print(f"{c.name:20} {c.kind:9} {address:32} {health:9} {polled:25} {last:25} {error}")
    return 0


def register(channel: Any) -> None:
    """The ``inbox channel`` subcommands, on its subparsers."""
    add_email = channel.add_parser(
        "add-email",
        help="add an email channel",
        description="The mail server URLs carry passwords: give them as '-' to read each from "
        "a line of standard input (in the order given), or as 'env:NAME' to read them from an "
        "environment variable, so they do not show in ps.",
    )
    add_email.add_argument("--name", required=True)
    add_email.add_argument("--address", required=True)
    add_email.add_argument(
        "--imap",
        required=True,
        action=SecretOption,
        metavar="URL",
        help="IMAP URL" + FROM_STDIN_OR_ENV,
    )
    add_email.add_argument(
        "--smtp",
        required=True,
        action=SecretOption,
        metavar="URL",
        help="SMTP URL" + FROM_STDIN_OR_ENV,
    )
    add_email.add_argument("--folder")
    add_email.add_argument("--poll-seconds", type=int)
    add_email.set_defaults(handler=cmd_channel_add_email)
    channel.add_parser("list", help="list channels with their health").set_defaults(
        handler=cmd_channel_list
    )
