"""Starting a process that does work: the broker first, then the actors, then the runtime.

Apart from ``workers.runtime`` so that the runtime context imports no actor: actors import the
runtime, and only this module, imported by the composition roots, imports them all.
"""

from __future__ import annotations

import dramatiq

from inbox.settings import Settings
from workers.broker import configure_broker
from workers.parsing import MailParser
from workers.runtime import Runtime, build_runtime, set_runtime


def start_runtime(
    settings: Settings, parser: MailParser | None = None
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
