"""What actors need at run time: settings, the database, blob store, connectors.

Built once per process by the composition root (``inbox serve``, ``inbox worker``)
or lazily from the environment in a bare worker process.
"""

from __future__ import annotations

from dataclasses import dataclass

from inbox.blobs import BlobStore
from inbox.db import Database
from inbox.settings import Settings, get_settings
from inbox.signing import SecretBox
from workers.filing import MailFiler


@dataclass
class Runtime:
    settings: Settings
    db: Database
    blobs: BlobStore
    box: SecretBox
    filer: MailFiler


_runtime: Runtime | None = None


def build_runtime(settings: Settings) -> Runtime:
    db = Database(settings.database_url)
    blobs = BlobStore(settings.blob_dir)
    return Runtime(
        settings=settings,
        db=db,
        blobs=blobs,
        box=SecretBox(settings.secret_key),
        filer=MailFiler(settings, db, blobs, processes=settings.parse_processes),
    )


def set_runtime(runtime: Runtime) -> None:
    global _runtime
    _runtime = runtime


def get_runtime() -> Runtime:
    global _runtime
    if _runtime is None:
        _runtime = build_runtime(get_settings())
    return _runtime
