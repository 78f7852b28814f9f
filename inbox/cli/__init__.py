"""The ``inbox`` command line: a composition root, like ``inbox.app``.

Each command imports what it needs when it runs. A parser process of ``inbox serve`` imports
this package too (``spawn`` starts it from the parent's main module), and should not pay for
the models or the web framework. One module per group of commands, each with its
``register``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from inbox.cli import channels, chat, people, portal, processes, social
from inbox.errors import DomainError
from inbox.settings import Settings, get_settings

Handler = Callable[[argparse.Namespace, Settings], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inbox", description="Support desk and omnichannel inbox")
    sub = parser.add_subparsers(dest="command", required=True)
    processes.register(sub)
    people.register(sub)
    channel = sub.add_parser("channel", help="manage channels").add_subparsers(
        dest="channel_command", required=True
    )
    channels.register(channel)
    chat.register(channel)
    social.register(channel)
    portal.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    handler: Handler = args.handler
    try:
        return handler(args, get_settings())
    except DomainError as exc:
        print(f"inbox: {exc}", file=sys.stderr)
        return 1
