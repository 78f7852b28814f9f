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


def cmd_channel_chat_routing(args: argparse.Namespace, settings: Settings) -> int:
    from inbox.actions.chat.channels import configure_chat_routing
    from inbox.db import Database
    from inbox.models import BusinessCalendar, Team

    with Database(settings.database_url).unit_of_work() as session:
        routing = configure_chat_routing(
            session,
            args.name,
            team=args.team,
            clear_team=args.every_agent,
            calendar=args.calendar,
            always_open=args.always_open,
            queue_cap=args.queue_cap,
            offer_seconds=args.offer_seconds,
            away_message=args.away_message,
            busy_message=args.busy_message,
        )
        team = session.get(Team, routing.team_id) if routing.team_id else None
        calendar = (
            session.get(BusinessCalendar, routing.calendar_id) if routing.calendar_id else None
        )
        print(f"queue: {f'team {team.name}' if team else 'every agent'}")
        print(f"hours: {f'calendar {calendar.name}' if calendar else 'always open'}")
    print(f"queue cap: {routing.queue_cap}")
    print(f"offer seconds: {routing.offer_seconds}")
    print(f"away message: {routing.away_message}")
    print(f"busy message: {routing.busy_message}")
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

    routing = channel.add_parser(
        "chat-routing",
        help="how a live-chat channel routes chats to agents",
        description="Changes what is given and prints the channel's routing settings.",
    )
    routing.add_argument("--name", required=True, help="the chat channel")
    team = routing.add_mutually_exclusive_group()
    team.add_argument("--team", help="offer its chats to this team's members only")
    team.add_argument("--every-agent", action="store_true", help="offer its chats to every agent")
    hours = routing.add_mutually_exclusive_group()
    hours.add_argument("--calendar", help="answer chats in this business calendar's hours")
    hours.add_argument("--always-open", action="store_true", help="answer chats at any hour")
    routing.add_argument(
        "--queue-cap",
        type=int,
        help="chats waiting at once before new visitors are told all agents are busy",
    )
    routing.add_argument(
        "--offer-seconds", type=int, help="how long an offer waits before moving on"
    )
    routing.add_argument("--away-message", help="what visitors read outside hours")
    routing.add_argument("--busy-message", help="what visitors read when the queue is full")
    routing.set_defaults(handler=cmd_channel_chat_routing)
