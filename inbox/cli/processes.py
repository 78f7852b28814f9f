"""The long-running processes (``serve``, ``worker``, ``scheduler``) and the one-shot ones
that work the database (``poll``, ``db upgrade``, ``demo``)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

from inbox.settings import Settings

SWITCH_INTERVAL = 0.001


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

    if settings.in_process_workers:
        # The web requests share the interpreter lock with the filing and the other workers:
        # a request that waited on a socket or the database gets the lock back within a
        # millisecond of asking, not the default five.
        sys.setswitchinterval(SWITCH_INTERVAL)

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
    from workers.embedded import STOP_POLL_MS

    rt, broker = start_runtime(settings)
    hub = start_realtime(rt)
    # An idle consumer asks the broker for work four times a second (``STOP_POLL_MS``).
    worker = dramatiq.Worker(broker, worker_threads=args.threads, worker_timeout=STOP_POLL_MS)
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


def register(sub: Any) -> None:
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

    poll = sub.add_parser("poll", help="one pass over pull channels, then exit")
    poll.add_argument("--channel")
    poll.set_defaults(handler=cmd_poll)

    sub.add_parser("demo", help="load sample data").set_defaults(handler=cmd_demo)
