"""The channels a webhook may be for, with their secrets opened, kept between requests.

A flood of posts must not read and decrypt every channel once per post. The enabled channels
of the webhook's kinds are read (a few small rows: id, config, sealed secrets) at most once a
``recheck_every`` seconds, and at once when a post finds no channel it fits (a channel just
added, set to a webhook, or given a new secret); only rows that changed are decrypted again.
So a change takes effect within a second, and at once for the posts it concerns.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from inbox.db import Database
from inbox.queries.social import enabled_channel_secrets
from inbox.settings import Settings
from inbox.signing import SecretBox

RECHECK_EVERY = 1.0


@dataclass(frozen=True)
class PushedChannel:
    channel_id: int
    config: dict[str, Any]
    secrets: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class _Read:
    key: tuple[str, bytes]
    rows: list[tuple[int, dict[str, Any], str]] = field(repr=False)
    channels: list[PushedChannel] = field(repr=False)
    at: float


class PushedChannels:
    """The enabled channels of ``kinds``; thread-safe, one per webhook."""

    def __init__(self, kinds: Sequence[str], *, recheck_every: float = RECHECK_EVERY) -> None:
        self.kinds = tuple(kinds)
        self.recheck_every = recheck_every
        self._lock = threading.Lock()
        self._read: _Read | None = None

    def of(self, db: Database, settings: Settings, *, recheck: bool = False) -> list[PushedChannel]:
        """The channels as last read; read again when ``recheck`` (a post that fits none of
        them) or when the last read is older than ``recheck_every``."""
        key = (settings.database_url, settings.secret_key)
        with self._lock:
            read = self._read
        fresh = read is not None and time.monotonic() - read.at < self.recheck_every
        if read is not None and read.key == key and fresh and not recheck:
            return read.channels
        with db.reading() as session:
            rows = enabled_channel_secrets(session, self.kinds)
        if read is not None and read.key == key and rows == read.rows:
            channels = read.channels
        else:
            opened: dict[tuple[int, str], dict[str, Any]] = {}
            if read is not None and read.key == key:
                opened = {
                    (c.channel_id, sealed): c.secrets
                    for c, (_, _, sealed) in zip(read.channels, read.rows, strict=True)
                }
            box = SecretBox(settings.secret_key)
            channels = [
                PushedChannel(
                    channel_id, config, opened.get((channel_id, sealed)) or box.open(sealed)
                )
                for channel_id, config, sealed in rows
            ]
        with self._lock:
            self._read = _Read(key, rows, channels, time.monotonic())
        return channels
