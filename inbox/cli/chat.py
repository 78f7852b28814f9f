"""``inbox channel add-chat``: a live-chat channel for the sites at the given origins."""

from __future__ import annotations

import argparse
from typing import Any

from inbox.settings import Settings


def embed_snippet(base_url: str, widget_key: str) -> str:
    return (
        f'<script src="{base_url.rstrip("/")}/chat/widget.js" '
        f'data-widget="{widget_key}" async></script>'
    )


def cmd_channel_add_chat(args: argparse.Namespace, settings: Settings) -> int:
    from inbox.actions.chat.channels import add_chat_channel
    from inbox.db import Database
    from inbox.signing import SecretBox

    with Database(settings.database_url).unit_of_work() as session:
        added = add_chat_channel(
            session, SecretBox(settings.secret_key), name=args.name, origins=args.origin
        )
    print(f"added chat channel {args.name.strip()}; put this on every page of your site:")
    print()
    print(embed_snippet(settings.base_url, added.widget_key))
    print()
    print(f"widget key: {added.widget_key}")
    print(f"identity secret: {added.identity_secret}")
    return 0


def register(channel: Any) -> None:
    """``inbox channel add-chat``, on the ``channel`` subparsers."""
    add_chat = channel.add_parser(
        "add-chat",
        help="add a live-chat channel",
        description="Prints the snippet to embed, the widget key and the identity secret "
        "(with which a site signs its signed-in user's id, hex HMAC-SHA256).",
    )
    add_chat.add_argument("--name", required=True)
    add_chat.add_argument(
        "--origin",
        required=True,
        action="append",
        metavar="URL",
        help="a site allowed to embed the widget, as scheme://host[:port]; repeat for more",
    )
    add_chat.set_defaults(handler=cmd_channel_add_chat)
