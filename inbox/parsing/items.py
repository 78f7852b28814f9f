"""A stored item waiting to be read, and what reading gives the filing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class PendingRaw:
    """An inbound item as stored: its channel's kind, and the platform's bytes."""

    item_id: int
    kind: str
    raw: bytes
    size: int
    truncated: bool


class Arrival(Protocol):
    """A pending item as its kind read it: ``external_id`` is the platform's id of the message
    (Message-ID, chat client id, platform message id), ``error`` a crash while reading,
    counted as a failure of the item."""

    @property
    def item_id(self) -> int: ...
    @property
    def external_id(self) -> str: ...
    @property
    def error(self) -> Exception | None: ...


@dataclass(frozen=True)
class Unread:
    """An item whose reading crashed, or that no reader knows: counted as a failure, retried,
    and quarantined when it keeps failing."""

    item_id: int
    error: Exception
    external_id: str = ""
