"""``inbox channel add-telegram``, ``add-messenger``, ``add-instagram``, ``add-whatsapp`` and
``add-x``: the social channels (docs/social.md tells what to create on each platform).

Every secret option takes ``-`` to read its value from a line of standard input (in the order
the options are given) or ``env:NAME``, so secrets need not show in ``ps``. Nothing here
prints a secret.
"""

from __future__ import annotations

import argparse
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
    return _add(
        settings,
        kind="telegram",
        name=args.name,
        account_id="",
        secrets={"token": args.token},
        values={"api_url": args.api_url},
    )


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
    telegram.set_defaults(handler=cmd_add_telegram)

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
