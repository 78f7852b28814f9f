"""Content-addressed file storage for attachments.

Files are stored under their SHA-256, never under a name a sender chose, so a
hostile filename cannot reach the file system and identical files are kept once.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, content_hash: str) -> Path:
        if len(content_hash) != 64 or not all(c in "0123456789abcdef" for c in content_hash):
            raise ValueError("not a content hash")
        return self.root / content_hash[:2] / content_hash[2:4] / content_hash

    def put(self, data: bytes) -> str:
        content_hash = hashlib.sha256(data).hexdigest()
        path = self.path_for(content_hash)
        if path.exists():
            return content_hash
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
        return content_hash

    def get(self, content_hash: str) -> bytes:
        return self.path_for(content_hash).read_bytes()
