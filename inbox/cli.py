"""The ``inbox`` command line: a composition root, like ``inbox.app``.

Each command imports what it needs when it runs. A parser process of ``inbox serve`` imports
this module too (``spawn`` starts it from the parent's main module), and should not pay for
the models or the web framework.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from urllib.parse import quote, urlsplit, urlunsplit

from inbox.errors import DomainError
from inbox.settings import Settings, get_settings

Handler = Callable[[argparse.Namespace, Settings], int]


def _prepare(settings: Settings) -> None:
    from inbox.migrate import upgrade_database

    upgrade_database(settings.database_url)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    parser = None
    if settings.in_process_workers:
        from workers.parsing import InboundParser

        # Spawned first, the parser processes import while this one does.
        parser = InboundParser(settings.parse_processes)
        parser.start()
    if settings.database_url.startswith("sqlite"):
        _prepare(settings)
    runtime = services = None
    if settings.in_process_workers:
        # Mail waiting in the mailbox is fetched and filed while the web layer is built.
        from workers.bootstrap import start_runtime
        from workers.embedded import BackgroundServices

        runtime = start_runtime(settings, parser)
        services = BackgroundServices(*runtime)
        services.start()

    import uvicorn

    from inbox.app import create_app

    try:
        # Live-update messages are small; a client sending megabytes is cut off by the server.
        uvicorn.run(
            create_app(settings, runtime=runtime, services=services),
            host=args.host,
            port=args.port,
            log_level="info",
            ws_max_size=64 * 1024,
            # The client is the socket's peer unless INBOX_TRUSTED_PROXY_HOPS says otherwise
            # (inbox.web.account.sign_in.client_address); uvicorn would believe X-Forwarded-For
            # from loopback.
            proxy_headers=False,
        )
    finally:
        if services:  # normally stopped by the app's shutdown already
            services.stop()
    return 0


def _wait_for_signal() -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    if settings.broker_url is None:
        print(
            "inbox worker needs INBOX_BROKER_URL (without one, inbox serve runs the workers)",
            file=sys.stderr,
        )
        return 2
    import dramatiq

    from workers.bootstrap import start_realtime, start_runtime

    rt, broker = start_runtime(settings)
    hub = start_realtime(rt)
    worker = dramatiq.Worker(broker, worker_threads=args.threads)
    rt.parser.start()
    worker.start()
    print(f"worker running with {args.threads} threads", flush=True)
    _wait_for_signal()
    worker.stop(timeout=10_000)
    rt.parser.close()
    rt.db.dispose()
    hub.close()
    return 0


def cmd_scheduler(args: argparse.Namespace, settings: Settings) -> int:
    if settings.broker_url is None:
        print(
            "inbox scheduler needs INBOX_BROKER_URL (without one, inbox serve runs it)",
            file=sys.stderr,
        )
        return 2
    from workers.bootstrap import start_realtime, start_runtime
    from workers.embedded import BackgroundServices

    rt, _broker = start_runtime(settings)
    hub = start_realtime(rt)
    services = BackgroundServices(rt, None, pulls=True)
    services.start()
    print("scheduler running", flush=True)
    _wait_for_signal()
    services.stop()
    hub.close()
    return 0


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    _prepare(settings)
    print("database is up to date")
    return 0


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
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
    from inbox.actions.signin.agents import unlock_agent
    from inbox.db import Database

    with Database(settings.database_url).unit_of_work() as session:
        agent = unlock_agent(session, email=args.email, actor_label=f"cli:{getpass.getuser()}")
    print(f"unlocked {agent.email}")
    return 0


def cmd_token_create(args: argparse.Namespace, settings: Settings) -> int:
    from sqlmodel import select

    from inbox.actions.signin.agents import create_api_token
    from inbox.db import Database
    from inbox.models import Agent

    with Database(settings.database_url).unit_of_work() as session:
        agent = session.exec(select(Agent).where(Agent.email == args.agent.strip().lower())).first()
        if agent is None:
            raise DomainError("no agent with that address")
        token = create_api_token(session, agent)
    print(f"API token for {agent.email}:")
    print(token)
    return 0


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

    with Database(settings.database_url).reading() as session:
        channels = session.exec(select(Channel).order_by(col(Channel.name))).all()
    print(f"{'NAME':20} {'KIND':8} {'ADDRESS':32} {'HEALTH':9} LAST POLLED / DETAIL")
    for c in channels:
        polled = c.last_polled_at.isoformat(timespec="seconds") if c.last_polled_at else "never"
        detail = f" {c.health_detail}" if c.health_detail else ""
        print(f"{c.name:20} {c.kind:8} {c.address:32} {c.health:9} {polled}{detail}")
    return 0


def cmd_poll(args: argparse.Namespace, settings: Settings) -> int:
    """Files on the batched path of ``inbox serve``; what it queues (acknowledgements) is
    sent by the desk's workers, as the outbox sends everything."""
    from workers.parsing import InboundParser

    parser = InboundParser(settings.parse_processes)
    parser.start()  # spawned first, the parser processes import while this one does
    if settings.database_url.startswith("sqlite"):
        _prepare(settings)
    from workers.bootstrap import start_realtime
    from workers.poll import poll_channels
    from workers.runtime import build_runtime

    rt = build_runtime(settings, parser)
    publisher = start_realtime(rt)
    try:
        for line in poll_channels(rt, channel_name=args.channel):
            print(line, flush=True)
    finally:
        parser.close()
        rt.db.dispose()
        publisher.close()
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from inbox.db import Database
    from inbox.demo import load_demo

    if settings.database_url.startswith("sqlite"):
        _prepare(settings)
    with Database(settings.database_url).unit_of_work() as session:
        lines = load_demo(session, settings)
    for line in lines:
        print(line)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="inbox", description="Support desk and omnichannel inbox")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the web app (and, without a broker, the workers)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(handler=cmd_serve)

    worker = sub.add_parser("worker", help="run Dramatiq workers (needs INBOX_BROKER_URL)")
    worker.add_argument("--threads", type=int, default=4)
    worker.set_defaults(handler=cmd_worker)

    sub.add_parser("scheduler", help="enqueue due work and watch mailboxes").set_defaults(
        handler=cmd_scheduler
    )

    db = sub.add_parser("db", help="database maintenance").add_subparsers(
        dest="db_command", required=True
    )
    db.add_parser("upgrade", help="apply migrations").set_defaults(handler=cmd_db_upgrade)

    agent = sub.add_parser("agent", help="manage agents").add_subparsers(
        dest="agent_command", required=True
    )
    create = agent.add_parser("create", help="create an agent")
    create.add_argument("--email", required=True)
    create.add_argument("--name", required=True)
    create.add_argument("--role", choices=["agent", "manager", "admin"], default="agent")
    create.add_argument("--password-stdin", action="store_true")
    create.set_defaults(handler=cmd_agent_create)
    unlock = agent.add_parser("unlock", help="lift a sign-in lockout")
    unlock.add_argument("--email", required=True)
    unlock.set_defaults(handler=cmd_agent_unlock)

    token = sub.add_parser("token", help="API tokens").add_subparsers(
        dest="token_command", required=True
    )
    token_create = token.add_parser("create", help="print a new API token")
    token_create.add_argument("--agent", required=True)
    token_create.set_defaults(handler=cmd_token_create)

    channel = sub.add_parser("channel", help="manage channels").add_subparsers(
        dest="channel_command", required=True
    )
    add_email = channel.add_parser("add-email", help="add an email channel")
    add_email.add_argument("--name", required=True)
    add_email.add_argument("--address", required=True)
    add_email.add_argument("--imap", required=True)
    add_email.add_argument("--smtp", required=True)
    add_email.add_argument("--folder")
    add_email.add_argument("--poll-seconds", type=int)
    add_email.set_defaults(handler=cmd_channel_add_email)
    channel.add_parser("list", help="list channels with their health").set_defaults(
        handler=cmd_channel_list
    )

    poll = sub.add_parser("poll", help="one pass over pull channels, then exit")
    poll.add_argument("--channel")
    poll.set_defaults(handler=cmd_poll)

    sub.add_parser("demo", help="load sample data").set_defaults(handler=cmd_demo)
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


if __name__ == "__main__":
    sys.exit(main())
