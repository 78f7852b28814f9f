"""Starting a process that does work: the broker first, then the actors, then the runtime, and
the publisher of what its commits change.

Apart from ``workers.runtime`` so that the runtime context imports no actor: actors import the
runtime, and only this module, imported by the composition roots, imports them all.
"""

from __future__ import annotations

import logging

import dramatiq

from inbox.realtime.publish import LocalChannels, Publisher, commit_publisher, open_publisher
from inbox.settings import Settings
from workers.broker import configure_broker
from workers.parsing import InboundParser
from workers.runtime import Runtime, build_runtime, set_runtime


def start_runtime(
    settings: Settings, parser: InboundParser | None = None
) -> tuple[Runtime, dramatiq.Broker]:
    """What every process that does work starts with. Broker first, then actors; committed
    events become jobs."""
    broker = configure_broker(settings.broker_url)
    rt = build_runtime(settings, parser)
    set_runtime(rt)
    # Imported only now: actor modules declare their actors on the broker configured above.
    from workers.dispatch import job_dispatcher

    rt.db.on_commit(job_dispatcher(rt.db))
    return rt, broker


def start_realtime(rt: Runtime, channels: LocalChannels | None = None) -> Publisher:
    """Every process that commits publishes its committed ticket events: to the realtime
    server, or in memory to the web process's own ``channels``."""
    if rt.settings.realtime_url is None and rt.settings.broker_url is not None:
        logging.getLogger(__name__).warning(
            "INBOX_REALTIME_URL is unset: browsers hear only of changes made by the web process"
        )
    publisher = open_publisher(rt.settings.realtime_url, channels)
    rt.db.on_commit(commit_publisher(publisher))
    return publisher
