"""``inbox channel add-telegram``, ``add-messenger``, ``add-instagram``, ``add-whatsapp`` and
``add-x``: the social channels (docs/social.md tells what to create on each platform); and
``telegram-webhook``, which switches a Telegram channel to a webhook or back to polling.

Every secret option takes ``-`` to read its value from a line of standard input (in the order
the options are given) or ``env:NAME``, so secrets need not show in ``ps``. Nothing here
prints a secret.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from inbox.cli.options import FROM_STDIN_OR_ENV, SecretOption
from inbox.errors import DomainError
from inbox.settings import Settings

META = {
    "messenger": ("--page-id", "page_id", "--page-token", "the Facebook Page"),
    "instagram": ("--account-id", "account_id", "--page-token", "the Instagram account"),
    "whatsapp": ("--phone-number-id", "phone_number_id", "--token", "the WhatsApp number"),
}


def _add(
    settings: Settings,
    *,
    kind: str,
    name: str,
    account_id: str,
    secrets: dict[str, str],
    values: dict[str, Any],
    poll_seconds: int | None = None,
) -> int:
    from inbox.actions.social_channels import add_social_channel
    from inbox.db import Database
    from inbox.signing import SecretBox

    with Database(settings.database_url).unit_of_work() as session:
        channel = add_social_channel(
            session,
            SecretBox(settings.secret_key),
            kind=kind,
            name=name,
            account_id=account_id,
            secrets=secrets,
            settings=values,
            poll_seconds=poll_seconds or settings.default_poll_seconds,
        )
    shown = f" for {account_id}" if account_id else ""
    print(f"added {kind} channel {channel.name}{shown}")
    if kind in META:
        print(f"webhook URL: {settings.base_url.rstrip('/')}/webhooks/meta")
    return 0


def cmd_add_telegram(args: argparse.Namespace, settings: Settings) -> int:
    status = _add(
        settings,
        kind="telegram",
        name=args.name,
        account_id="",
        secrets={"token": args.token},
        values={"api_url": args.api_url},
    )
    if args.webhook_url:
        return _telegram_webhook(settings, args.name, args.webhook_url)
    return status


def cmd_telegram_webhook(args: argparse.Namespace, settings: Settings) -> int:
    if args.off:
        from connectors.errors import ConnectorError
        from connectors.social_http import allow_private_addresses
        from inbox.db import Database
        from inbox.web.webhooks import use_telegram_polling

        allow_private_addresses(settings.allow_private_urls)
        db = Database(settings.database_url)
        try:
            use_telegram_polling(db, settings, _telegram_channel_id(db, args.name))
        except ConnectorError as exc:
            print(f"the webhook stays: {exc}", file=sys.stderr)
            return 1
        print(f"telegram channel {args.name} reads by long polling again")
        return 0
    return _telegram_webhook(settings, args.name, args.url)


def _telegram_webhook(settings: Settings, name: str, base_url: str) -> int:
    """``setWebhook`` for the channel; on a refusal, the channel goes on reading by long
    polling and the command fails with Telegram's words."""
    from connectors.errors import ConnectorError
    from connectors.social_http import allow_private_addresses
    from inbox.db import Database
    from inbox.web.webhooks import use_telegram_webhook

    allow_private_addresses(settings.allow_private_urls)
    db = Database(settings.database_url)
    try:
        url = use_telegram_webhook(db, settings, _telegram_channel_id(db, name), base_url)
    except ConnectorError as exc:
        print(f"no webhook, the channel reads by long polling: {exc}", file=sys.stderr)
        return 1
    print(f"webhook URL: {url} (Telegram posts updates there; long polling is off)")
    return 0


def _telegram_channel_id(db: Any, name: str) -> int:
    from sqlmodel import select

    from inbox.models import Channel

    with db.reading() as session:
        channel = session.exec(
            select(Channel).where(Channel.name == name, Channel.kind == "telegram")
        ).first()
    if channel is None or channel.id is None:
        raise DomainError(f"no Telegram channel named {name!r}")
    return channel.id


def cmd_add_meta(args: argparse.Namespace, settings: Settings) -> int:
    kind = args.kind
    _, dest, _, _ = META[kind]
    values: dict[str, Any] = {"graph_url": args.graph_url, dest: getattr(args, dest)}
    if kind == "whatsapp" and args.template:
        template_name, _, language = args.template.partition(":")
        if not template_name:
            raise DomainError("--template is NAME or NAME:LANGUAGE")
        values["template"] = {"name": template_name, "language": language or "en"}
    return _add(
        settings,
        kind=kind,
        name=args.name,
        account_id=getattr(args, dest),
        secrets={
            "token": args.token,
            "app_secret": args.app_secret,
            "verify_token": args.verify_token,
        },
        values=values,
    )


def cmd_add_x(args: argparse.Namespace, settings: Settings) -> int:
    return _add(
        settings,
        kind="x",
        name=args.name,
        account_id=args.user_id,
        secrets={"token": args.token},
        values={"api_url": args.api_url, "user_id": args.user_id},
        poll_seconds=args.poll_seconds,
    )


def _secret(parser: argparse.ArgumentParser, flag: str, dest: str, what: str) -> None:
    parser.add_argument(
        flag, dest=dest, required=True, action=SecretOption, metavar="SECRET",
        help=what + FROM_STDIN_OR_ENV,
    )  # fmt: skip


def register(channel: Any) -> None:
    """The social ``inbox channel`` subcommands, on its subparsers."""
    telegram = channel.add_parser(
        "add-telegram", help="add a Telegram bot, read by long polling getUpdates"
    )
    telegram.add_argument("--name", required=True)
    _secret(telegram, "--token", "token", "the bot token from @BotFather")
    telegram.add_argument(
        "--api-url", help="Bot API base URL (default the public one; or a self-hosted server)"
    )
    telegram.add_argument(
        "--webhook-url",
        metavar="BASE",
        help="this desk's public HTTPS address: Telegram posts updates to "
        "BASE/webhooks/telegram/<key> instead of being long-polled",
    )
    telegram.set_defaults(handler=cmd_add_telegram)

    hook = channel.add_parser(
        "telegram-webhook",
        help="switch a Telegram channel to a webhook, or back to long polling",
    )
    hook.add_argument("--name", required=True)
    switch = hook.add_mutually_exclusive_group(required=True)
    switch.add_argument(
        "--url", metavar="BASE", help="this desk's public HTTPS address (as --webhook-url)"
    )
    switch.add_argument("--off", action="store_true", help="deleteWebhook; long polling again")
    hook.set_defaults(handler=cmd_telegram_webhook)

    for kind, (id_flag, dest, token_flag, what) in META.items():
        meta = channel.add_parser(
            f"add-{kind}", help=f"add {what}'s direct messages, through /webhooks/meta"
        )
        meta.add_argument("--name", required=True)
        meta.add_argument(id_flag, dest=dest, required=True)
        _secret(meta, token_flag, "token", "the access token")
        _secret(meta, "--app-secret", "app_secret", "the Meta app's secret (signs webhooks)")
        _secret(meta, "--verify-token", "verify_token", "the webhook's verify token")
        meta.add_argument("--graph-url", help="Graph API base URL, version included")
        if kind == "whatsapp":
            meta.add_argument(
                "--template",
                metavar="NAME[:LANGUAGE]",
                help="approved template sent after the 24-hour window, the reply as its one "
                "body parameter",
            )
        meta.set_defaults(handler=cmd_add_meta, kind=kind)

    x = channel.add_parser("add-x", help="add an X account's direct messages, read by polling")
    x.add_argument("--name", required=True)
    x.add_argument("--user-id", required=True)
    _secret(x, "--token", "token", "the account's OAuth 2.0 user access token")
    x.add_argument("--api-url", help="X API base URL (default https://api.x.com)")
    x.add_argument("--poll-seconds", type=int)
    x.set_defaults(handler=cmd_add_x)
