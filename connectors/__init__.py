"""Transports between the help desk and the outside world (email today; chat and social next).

A leaf package: it imports nothing from ``inbox`` or ``workers``. Callers pick a connector by
channel kind instead of branching on it (``connectors.base`` describes the interface)::

    report = connectors.get(channel.kind).deliver(config, outbound)

and handle exactly two errors, :class:`TransientConnectorError` (retry later) and
:class:`PermanentConnectorError` (give up, tell someone).
"""

from connectors.base import (
    Connector,
    DeliveryReport,
    Outbound,
    Pulled,
    PullSession,
    PushReceiver,
    RawInbound,
)
from connectors.email import EmailConnector
from connectors.errors import ConnectorError, PermanentConnectorError, TransientConnectorError

_REGISTRY: dict[str, Connector] = {connector.kind: connector for connector in (EmailConnector(),)}


def get(kind: str) -> Connector:
    """The connector for channel ``kind``; ``LookupError`` for a kind nobody implemented."""
    try:
        return _REGISTRY[kind]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise LookupError(f"no connector for channel kind {kind!r} (known: {known})") from None


def pulled_kinds() -> list[str]:
    """The channel kinds whose connector reads by pulling, for the watchers to look after."""
    return sorted(kind for kind, connector in _REGISTRY.items() if connector.pulled)


__all__ = [
    "Connector",
    "ConnectorError",
    "DeliveryReport",
    "EmailConnector",
    "Outbound",
    "PermanentConnectorError",
    "PullSession",
    "Pulled",
    "PushReceiver",
    "RawInbound",
    "TransientConnectorError",
    "get",
]
