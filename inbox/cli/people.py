"""Agents and their API tokens."""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import datetime
from typing import Any

from inbox.cli.options import read_secret
from inbox.errors import DomainError
from inbox.settings import Settings


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if args.password_env:
        return read_secret(f"env:{args.password_env}", "--password-env")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Again: "):
        raise DomainError("the passwords differ")
    return first


def cmd_agent_create(args: argparse.Namespace, settings: Settings) -> int:
    from inbox.actions.signin.agents import create_agent
    from inbox.db import Database

    password = _read_password(args)
    db = Database(settings.database_url)
    with db.unit_of_work() as session:
        agent = create_agent(
            session, email=args.email, name=args.name, role=args.role, password=password
        )
    print(f"created {agent.role} {agent.email}")
    return 0


def cmd_agent_unlock(args: argparse.Namespace, settings: Settings) -> int:
    from inbox.actions.signin.agents import THROTTLE_PASS, unlock_agent
    from inbox.db import Database

    with Database(settings.database_url).unit_of_work() as session:
        agent = unlock_agent(session, email=args.email, actor_label=f"cli:{getpass.getuser()}")
    minutes = int(THROTTLE_PASS.total_seconds() // 60)
    print(f"unlocked {agent.email}; for {minutes} minutes no address throttle stops them")
    return 0


def _expiry(text: str | None) -> datetime | None:
    """``--expires``: a number of days (``30`` or ``30d``) or an ISO date or time (UTC unless
    it names its zone)."""
    from datetime import UTC, timedelta

    from inbox.models import utcnow

    if not text:
        return None
    days = text.strip().lower().removesuffix("d")
    if days.isdigit():
        return utcnow() + timedelta(days=int(days))
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise DomainError("--expires takes a number of days or an ISO date") from exc
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def cmd_token_create(args: argparse.Namespace, settings: Settings) -> int:
    from sqlmodel import select

    from inbox.actions.signin.tokens import create_api_token
    from inbox.db import Database
    from inbox.models import Agent

    expires_at = _expiry(args.expires)
    with Database(settings.database_url).unit_of_work() as session:
        agent = session.exec(select(Agent).where(Agent.email == args.agent.strip().lower())).first()
        if agent is None:
            raise DomainError("no agent with that address")
        token = create_api_token(
            session,
            agent,
            scope=args.scope,
            expires_at=expires_at,
            name=args.name or "",
            actor_label=f"cli:{getpass.getuser()}",
        )
    until = f", until {expires_at:%Y-%m-%d %H:%M} UTC" if expires_at else ""
    print(f"API token for {agent.email} ({args.scope}{until}):")
    print(token)
    return 0


def cmd_token_list(args: argparse.Namespace, settings: Settings) -> int:
    from inbox.db import Database
    from inbox.queries.sign_in_admin import list_api_tokens

    with Database(settings.database_url).reading() as session:
        rows = list_api_tokens(session, agent_email=args.agent)

    def when(at: datetime | None, never: str = "never") -> str:
        return at.strftime("%Y-%m-%d %H:%M") if at else never

    print(
        f"{'ID':>5} {'AGENT':32} {'SCOPE':10} {'STATE':8} {'CREATED':16} {'EXPIRES':16} "
        f"{'LAST USED':16} NAME"
    )
    for t in rows:
        print(
            f"{t.id:>5} {t.agent_email:32} {t.scope:10} {t.state:8} {when(t.created_at):16} "
            f"{when(t.expires_at):16} {when(t.last_used_at):16} {t.name}"
        )
    return 0


def cmd_token_revoke(args: argparse.Namespace, settings: Settings) -> int:
    from inbox.actions.signin.tokens import revoke_api_token
    from inbox.db import Database

    with Database(settings.database_url).unit_of_work() as session:
        revoke_api_token(session, args.token_id, actor_label=f"cli:{getpass.getuser()}")
    print(f"revoked API token {args.token_id}")
    return 0


def register(sub: Any) -> None:
    agent = sub.add_parser("agent", help="manage agents").add_subparsers(
        dest="agent_command", required=True
    )
    create = agent.add_parser("create", help="create an agent")
    create.add_argument("--email", required=True)
    create.add_argument("--name", required=True)
    create.add_argument("--role", choices=["agent", "manager", "admin"], default="agent")
    password = create.add_mutually_exclusive_group()
    password.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    password.add_argument(
        "--password-env", metavar="NAME", help="read the password from the environment variable"
    )
    create.set_defaults(handler=cmd_agent_create)
    unlock = agent.add_parser(
        "unlock",
        help="let an agent in again at once: lifts their lockouts (audited)",
        description="Lifts the lockout of the agent's account and browsers; for 15 minutes, "
        "or until they have signed in, no throttle of a network address stops them.",
    )
    unlock.add_argument("--email", required=True)
    unlock.set_defaults(handler=cmd_agent_unlock)

    token = sub.add_parser("token", help="API tokens").add_subparsers(
        dest="token_command", required=True
    )
    token_create = token.add_parser(
        "create",
        help="print a new API token",
        description="Prints a new bearer token for /api/, alone on the last line; only its "
        "hash is kept.",
    )
    token_create.add_argument("--agent", required=True, metavar="EMAIL")
    token_create.add_argument(
        "--scope",
        choices=["read", "read-write"],
        default="read-write",
        help="read: GET requests only (default read-write)",
    )
    token_create.add_argument(
        "--expires", metavar="DAYS|DATE", help="days from now (30, 30d) or an ISO date in UTC"
    )
    token_create.add_argument("--name", help="what the token is for, shown in listings")
    token_create.set_defaults(handler=cmd_token_create)
    token_list = token.add_parser("list", help="list API tokens (never their values)")
    token_list.add_argument("--agent", metavar="EMAIL", help="only this agent's tokens")
    token_list.set_defaults(handler=cmd_token_list)
    token_revoke = token.add_parser("revoke", help="end an API token at once (audited)")
    token_revoke.add_argument("token_id", type=int, metavar="ID", help="as `token list` shows")
    token_revoke.set_defaults(handler=cmd_token_revoke)
