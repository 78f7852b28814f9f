"""What actors need at run time: settings, the database, blob store, connectors.

Built once per process by ``workers.bootstrap`` (``inbox serve``, ``inbox worker``) or lazily
from the environment in a bare worker process. Imports no actor, so every actor may import it.
"""

from __future__ import annotations

from dataclasses import dataclass

from connectors.social_http import allow_private_addresses
from inbox.blobs import BlobStore
from inbox.db import Database
from inbox.settings import Settings, get_settings
from inbox.signing import OutboxSeal, SecretBox
from workers.parsing import InboundParser


@dataclass
class Runtime:
    settings: Settings
    db: Database
    blobs: BlobStore
    box: SecretBox
    parser: InboundParser
    seal: OutboxSeal


_runtime: Runtime | None = None


def build_runtime(settings: Settings, parser: InboundParser | None = None) -> Runtime:
    allow_private_addresses(settings.allow_private_urls)
    return Runtime(
        settings=settings,
        db=Database(settings.database_url),
        blobs=BlobStore(settings.blob_dir),
        box=SecretBox(settings.secret_key),
        parser=parser or InboundParser(settings.parse_processes),
        seal=OutboxSeal(settings.secret_key),
    )


def set_runtime(runtime: Runtime) -> None:
    global _runtime
    _runtime = runtime


def get_runtime() -> Runtime:
    global _runtime
    if _runtime is None:
        _runtime = build_runtime(get_settings())
    return _runtime
