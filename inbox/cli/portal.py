"""``inbox portal``: the customer portal from the operator's side."""

from __future__ import annotations

import argparse
from typing import Any

from inbox.settings import Settings


def cmd_portal_link(args: argparse.Namespace, settings: Settings) -> int:
    """Prints a single-use sign-in link for a customer's address, alone on the last line."""
    from inbox.actions.portal.signin import LINK_LIFETIME, print_portal_link
    from inbox.db import Database

    db = Database(settings.database_url)
    try:
        with db.unit_of_work() as session:
            link = print_portal_link(session, settings, email=args.email)
    finally:
        db.dispose()
    minutes = int(LINK_LIFETIME.total_seconds() // 60)
    print(f"Sign-in link for {args.email.strip().lower()}, valid once within {minutes} minutes:")
    print(link)
    return 0


def register(sub: Any) -> None:
    portal = sub.add_parser("portal", help="the customer portal").add_subparsers(
        dest="portal_command", required=True
    )
    link = portal.add_parser(
        "link", help="print a single-use portal sign-in link for a customer's email address"
    )
    link.add_argument("--email", required=True)
    link.set_defaults(handler=cmd_portal_link)
