"""What every channel connector looks like from the desk's side.

A connector knows a platform's wire, not the desk. Per channel kind it offers:

- **inbound**, one of two ways per channel: it *pulls* (``open_pull``: read what arrived since
  a cursor, in bounded batches, each with the cursor after it), or it is *pushed to* (``push``:
  verify a pushed payload's signature or secret before anything parses it, then split it into
  items). A kind may offer both (Telegram: long polling, or a webhook once one is set). Either
  way the result is :class:`RawInbound` items, each with the platform's own id, which the
  desk stores raw before anything interprets them;
- **outbound**: send one message and report what the platform answered
  (:class:`DeliveryReport`), over a session that may carry several messages.

Callers pick a connector by channel kind (``connectors.get(channel.kind)``) and never branch
on the kind themselves. Connectors are stateless between calls, so one instance serves every
channel of a kind; a channel's decrypted configuration is handed in with each call.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

DeliveryState = Literal["sent", "delivered", "read", "failed"]


@dataclass(frozen=True)
class RawInbound:
    """One item as the platform delivered it: a mail's bytes, a chat frame, one event of a
    webhook body, one polled direct message.

    ``remote_key`` is the platform's own id for it, unique within the channel, so that a
    second delivery of the same item is recognised and stored once. ``truncated`` says that
    ``raw`` holds only part of an item larger than the desk takes whole (``size`` is the
    whole).
    """

    remote_key: str
    raw: bytes
    size: int
    truncated: bool = False


@dataclass(frozen=True)
class Pulled:
    """A batch read from a pulled channel, and the cursor to store with it in one commit."""

    items: list[RawInbound]
    cursor: dict[str, Any]
    # The connector's own note of what to confirm once the batch is stored (IMAP: UIDs).
    receipt: tuple[Any, ...] = field(default=(), compare=False)


class PullSession(Protocol):
    """One connection reading one channel. Not thread-safe; used by one watcher at a time."""

    def read_since(
        self, cursor: Mapping[str, Any], *, batch_size: int, max_bytes: int, batch_bytes: int
    ) -> Iterator[Pulled]:
        """Everything after ``cursor``, oldest first, in batches of at most ``batch_size``
        items and about ``batch_bytes`` bytes (an item bigger than that comes alone); an item
        over ``max_bytes`` comes truncated. A batch may be empty when only the cursor moves (a
        mailbox whose UIDs were reset). The caller stores each batch before asking for the
        next, so a session holds one batch at a time."""
        ...

    def confirm(self, pulled: Pulled) -> None:
        """Tell the platform the batch is safely stored (IMAP: set ``\\Seen``)."""
        ...

    def wait_for_changes(self, timeout: float) -> bool:
        """Block until the platform says something arrived, ``timeout`` passes or another
        thread calls ``wake``."""
        ...

    def wake(self) -> None:
        """End the ``wait_for_changes`` under way, and make every later one return at once:
        the desk is stopping. The one method another thread may call."""
        ...

    @property
    def pushes_changes(self) -> bool:
        """Whether the platform announces arrivals (IMAP IDLE, a long poll), so a watcher may
        wait long; else it waits the channel's poll interval."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> PullSession: ...

    def __exit__(self, *exc: object) -> None: ...


class PushReceiver(Protocol):
    """The pushed side of a kind: webhooks."""

    def verify(self, config: Mapping[str, str], headers: Mapping[str, str], body: bytes) -> None:
        """Check the signature over the raw body, in constant time, before anything parses
        it; raise :class:`~connectors.errors.PermanentConnectorError` when it does not hold."""
        ...

    def split(self, body: bytes) -> list[RawInbound]:
        """The items of a verified body, each with the platform's own id."""
        ...


@dataclass(frozen=True)
class Outbound:
    """One message ready to leave, already rendered by the application.

    ``payload`` is transport-ready bytes (for email the complete RFC 5322 message), so a
    connector never needs to know how tickets, templates or threading work.
    """

    sender: str
    recipients: tuple[str, ...]
    payload: bytes


@dataclass(frozen=True)
class DeliveryReport:
    """What the platform answered to one send: ``external_id`` is its id for the message
    (for later status updates), ``detail`` its words (for email the server's final reply)."""

    state: DeliveryState
    external_id: str = ""
    detail: str = ""


class DeliverySession(Protocol):
    """Several deliveries over one connection to the channel's platform."""

    def deliver(self, outbound: Outbound) -> DeliveryReport: ...

    def close(self) -> None: ...


@runtime_checkable
class MediaSource(Protocol):
    """A kind whose files are fetched after filing, by the platform's id for them."""

    def media(
        self, config: Mapping[str, str], media_id: str, *, max_bytes: int, seconds: float
    ) -> tuple[bytes, str]:
        """The file's bytes and content type ("" when the platform gives none)."""
        ...


@runtime_checkable
class SenderProfiles(Protocol):
    """A kind whose messages name their sender only by id: its profile API names them."""

    def profile(self, config: Mapping[str, str], user_id: str) -> str: ...


class Connector(Protocol):
    """One channel kind's transport.

    ``deliver`` and the sessions raise only :class:`~connectors.errors.TransientConnectorError`
    (retry later) or :class:`~connectors.errors.PermanentConnectorError` (give up, tell
    someone). ``pulled`` says whether ``open_pull`` reads the kind's inbound (else it returns
    None); ``push`` is None for a kind that is not pushed to.
    """

    kind: str
    pulled: bool
    push: PushReceiver | None

    def deliver(self, config: Mapping[str, str], outbound: Outbound) -> DeliveryReport: ...

    def open_session(self, config: Mapping[str, str]) -> DeliverySession: ...

    def open_pull(self, config: Mapping[str, str]) -> PullSession | None: ...
