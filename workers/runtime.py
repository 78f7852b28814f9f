"""What actors need at run time: settings, the database, blob store, connectors.

Built once per process by the composition root (``inbox serve``, ``inbox worker``)
or lazily from the environment in a bare worker process.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from inbox.blobs import BlobStore
from inbox.db import Database
from inbox.settings import Settings, get_settings
from inbox.signing import SecretBox
from workers.parsing import MailParser

if TYPE_CHECKING:
    import dramatiq


@dataclass
class Runtime:
    settings: Settings
    db: Database
    blobs: BlobStore
    box: SecretBox
    parser: MailParser


_runtime: Runtime | None = None


def build_runtime(settings: Settings, parser: MailParser | None = None) -> Runtime:
    return Runtime(
        settings=settings,
        db=Database(settings.database_url),
        blobs=BlobStore(settings.blob_dir),
        box=SecretBox(settings.secret_key),
        parser=parser or MailParser(settings.parse_processes),
    )


def set_runtime(runtime: Runtime) -> None:
    global _runtime
    _runtime = runtime


def get_runtime() -> Runtime:
    global _runtime
    if _runtime is None:
        _runtime = build_runtime(get_settings())
    return _runtime


def start_runtime(
    settings: Settings, parser: MailParser | None = None
) -> tuple[Runtime, dramatiq.Broker]:
    """What every process that does work starts with. Broker first, then actors; committed
    events become jobs."""
    from workers.broker import configure_broker

    broker = configure_broker(settings.broker_url)
    rt = build_runtime(settings, parser)
    set_runtime(rt)
    from workers.dispatch import enqueue_jobs

    rt.db.on_commit(enqueue_jobs)
    return rt, broker
