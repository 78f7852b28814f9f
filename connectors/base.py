"""What every channel connector looks like from the outbox worker's side.

The worker picks a connector by channel kind (``connectors.get(channel.kind)``) and hands it the
channel's decrypted configuration plus one :class:`Outbound`; it never branches on the kind
itself. Connectors are stateless between calls, so one instance serves every channel of a kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Outbound:
    """One message ready to leave, already rendered by the application.

    ``payload`` is transport-ready bytes (for email the complete RFC 5322 message), so a
    connector never needs to know how tickets, templates or threading work.
    """

    sender: str
    recipients: tuple[str, ...]
    payload: bytes


class DeliverySession(Protocol):
    """Several deliveries over one connection to the channel's server."""

    def deliver(self, outbound: Outbound) -> str: ...

    def close(self) -> None: ...


class Connector(Protocol):
    """Delivers outbound messages for one channel kind.

    ``deliver`` returns a receipt text worth storing on the outbox row (for email the server's
    final reply) and raises only :class:`~connectors.errors.TransientConnectorError` or
    :class:`~connectors.errors.PermanentConnectorError`. ``open_session`` does the same for
    a run of messages, keeping the connection between them.
    """

    kind: str

    def deliver(self, config: Mapping[str, str], outbound: Outbound) -> str: ...

    def open_session(self, config: Mapping[str, str]) -> DeliverySession: ...
