"""Content-addressed file storage for attachments.

Files are stored under their SHA-256, never under a name a sender chose, so a
hostile filename cannot reach the file system and identical files are kept once. Files that
nothing refers to any longer leave in a sweep (``inbox.actions.blob_sweep``).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, content_hash: str) -> Path:
        if not _is_hash(content_hash):
            raise ValueError("not a content hash")
        return self.root / content_hash[:2] / content_hash[2:4] / content_hash

    def put(self, data: bytes) -> str:
        content_hash = hashlib.sha256(data).hexdigest()
        path = self.path_for(content_hash)
        try:
            # Stored again: the sweep (``remove_unless_stored_since``) keeps what was
            # stored lately, so new references to old bytes have their own grace.
            os.utime(path)
            return content_hash
        except FileNotFoundError:
            pass
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
        return content_hash

    def get(self, content_hash: str) -> bytes:
        return self.path_for(content_hash).read_bytes()

    def stored(self) -> Iterator[tuple[str, float]]:
        """Every stored file's hash and the time it was last stored (its modification time)."""
        for first in _folders(self.root):
            for second in _folders(first):
                with os.scandir(second) as files:
                    for entry in files:
                        if entry.is_file(follow_symlinks=False) and _is_hash(entry.name):
                            yield entry.name, entry.stat().st_mtime

    def remove_unless_stored_since(self, content_hash: str, cutoff: float) -> bool:
        """Remove the file unless it was stored again at ``cutoff`` or later; True if removed."""
        path = self.path_for(content_hash)
        try:
            if path.stat().st_mtime >= cutoff:
                return False
            path.unlink()
        except FileNotFoundError:
            return False
        return True


def _folders(path: Path) -> Iterator[Path]:
    if not path.is_dir():
        return
    with os.scandir(path) as entries:
        names = sorted(e.name for e in entries if e.is_dir(follow_symlinks=False))
    yield from (path / name for name in names)


def _is_hash(name: str) -> bool:
    return len(name) == 64 and all(c in "0123456789abcdef" for c in name)
